"""Interfaces the services depend on, and the errors every wrapper raises instead of raw HTTP."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class IntegrationError(Exception):
    """Base of the errors a wrapper raises; `code` is the provider's error name when it gave one."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class NotConfigured(IntegrationError):
    """The integration has no settings; the delivery waits until it does."""


class TransientError(IntegrationError):
    """Worth retrying later (5xx, timeouts, 429, malformed answers); `retry_after` in seconds."""

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentError(IntegrationError):
    """Retrying will not help (bad auth, unknown channel, invalid request); kept for a person."""


class Superseded(IntegrationError):
    """Another worker took the delivery over: stop at once, send nothing, record nothing."""


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt knows of the earlier ones, so that a retry never sends twice.

    `tried_since` is when an earlier attempt first reached for the provider (None on the first
    try): a Slack retry then looks for the message carrying `key` before posting again.
    `draft_id` is the Gmail draft an earlier attempt created; a retry sends that same draft.
    `keep_draft(draft_id)` stores a new draft's id on the delivery before it is sent; it raises
    Superseded when the delivery is no longer this worker's.
    """

    key: str
    tried_since: datetime | None = None
    draft_id: str | None = None
    keep_draft: Callable[[str], None] | None = None


@dataclass(frozen=True)
class DocBlock:
    """One block of a generated document: heading, paragraph, bullets, table or link."""

    kind: str  # "heading" | "paragraph" | "bullets" | "table" | "link"
    text: str = ""
    level: int = 2
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    url: str = ""


@dataclass(frozen=True)
class Opportunity:
    """A closed-won expansion opportunity as read from the CRM."""

    id: str
    account_id: str
    name: str
    type: str
    amount: float
    close_date: date
    owner_name: str | None
    owner_email: str | None
    last_modified: datetime
    success_criteria: str | None
    products: list[dict[str, Any]]  # {"code", "name", "quantity", "arr"}


@dataclass(frozen=True)
class Amendment:
    """A signed contract amendment that changes an expansion."""

    id: str
    account_id: str
    opportunity_id: str | None
    signed_date: date
    last_modified: datetime
    arr_change: float
    description: str | None


@dataclass(frozen=True)
class LostRenewal:
    """A renewal opportunity closed as lost: the customer did not renew (churn)."""

    id: str
    account_id: str
    name: str
    amount: float  # the ARR that was up for renewal
    close_date: date
    last_modified: datetime
    description: str | None


class Messenger(Protocol):
    def post_message(
        self, *, channel: str, text: str, blocks: list[dict], attempt: Attempt | None = None
    ) -> str:
        """Post to a channel (once per `attempt.key`); return the message timestamp."""

    def post_direct_message(
        self, *, email: str, text: str, blocks: list[dict], attempt: Attempt | None = None
    ) -> str:
        """DM the Slack user with this email (once per `attempt.key`); return the timestamp."""

    def user_id_for_email(self, email: str) -> str | None:
        """Return the Slack user id for an email (cached), or None."""


class Mailer(Protocol):
    def send_email(
        self,
        *,
        sender: str,
        to: list[str],
        subject: str,
        text: str,
        html: str | None = None,
        cc: list[str] | None = None,
        attempt: Attempt | None = None,
    ) -> str:
        """Create a draft as `sender` (once per delivery), send it, return the message id."""


class Documents(Protocol):
    def upsert_document(self, *, record_id: str, title: str, blocks: list[DocBlock]) -> str:
        """Create the document for `record_id` (or find the one made before); return its URL."""


class Calendar(Protocol):
    def insert_event(
        self,
        *,
        organizer: str,
        event_id: str,
        summary: str,
        description: str,
        start: datetime,
        end: datetime,
        attendees: list[str],
    ) -> str:
        """Insert the event (idempotent on event_id); return its id."""


class Crm(Protocol):
    def closed_upsells_since(self, since: datetime | None) -> list[Opportunity]:
        """Return closed-won expansion opportunities modified after `since`, oldest first."""

    def amendments_since(self, since: datetime | None) -> list[Amendment]:
        """Return signed contract amendments modified after `since`, oldest first."""

    def lost_renewals_since(self, since: datetime | None) -> list[LostRenewal]:
        """Return renewal opportunities closed as lost modified after `since`, oldest first."""

    def write_account_value(self, *, account_id: str, value: float) -> str:
        """Write a health/adoption value to the configured Account field; return the account id."""
