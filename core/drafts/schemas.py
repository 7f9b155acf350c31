"""Read models of the approval queue and the template editor."""

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from core.drafts.models import DraftKind, DraftStatus
from core.schemas import NAME_LENGTH, Forgiving, InputModel, Offset, SingleLine

KIND_LABELS = {
    DraftKind.CUSTOMER_EMAIL: "Customer email",
    DraftKind.REVIEW_SUMMARY: "Review summary",
    DraftKind.FEEDBACK_REQUEST: "Feedback request",
}


class DraftRow(BaseModel):
    """One draft as the queue shows it; `status` already reflects the email's delivery."""

    id: uuid.UUID
    kind: DraftKind
    status: DraftStatus
    customer_id: uuid.UUID
    customer_name: str
    owner_id: uuid.UUID | None
    owner_name: str | None
    to_addresses: list[str]
    subject: str
    body: str
    edited: bool
    version: int
    created_at: datetime
    decided_at: datetime | None
    decided_by_name: str | None
    rejected_reason: str | None
    delivery_status: str | None
    delivery_error: str | None
    sent_at: datetime | None
    can_act: bool


class DraftSort(enum.StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"
    CUSTOMER = "customer"


PAGE_LIMIT = 100  # rows a page of the queue holds at most
MAX_AGE_DAYS = 3650


class DraftFilters(InputModel):
    """Which drafts of the queue to list and in what order; unset filters mean any."""

    status: Forgiving[DraftStatus] | None = None
    kind: Forgiving[DraftKind] | None = None
    customer_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    older_than_days: int | None = Field(
        None, ge=0, le=MAX_AGE_DAYS, description="Created at least this many days ago"
    )
    search: SingleLine | None = Field(
        None, max_length=NAME_LENGTH, description="Part of the customer's name or the subject"
    )
    sort: Forgiving[DraftSort] = DraftSort.OLDEST
    offset: Offset = 0
    limit: int = Field(25, ge=1, le=PAGE_LIMIT)

    @field_validator("search", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        if isinstance(value, str):
            return value.strip() or None
        return value


class DraftListRow(BaseModel):
    """One line of the queue's list: enough to scan, pick and bulk-approve a draft."""

    id: uuid.UUID
    kind: DraftKind
    status: DraftStatus
    customer_id: uuid.UUID
    customer_name: str
    owner_id: uuid.UUID | None
    owner_name: str | None
    to_addresses: list[str]
    subject: str
    edited: bool
    version: int
    created_at: datetime
    can_act: bool


class DraftPage(BaseModel):
    """A page of the queue and how many drafts match in all."""

    rows: list[DraftListRow]
    total: int
    offset: int
    limit: int


class Choice(BaseModel):
    """A filter choice: an id and the name shown for it."""

    id: uuid.UUID
    name: str


class DraftOptions(BaseModel):
    """The customers and owners the viewer's drafts of one status belong to."""

    customers: list[Choice]
    owners: list[Choice]


class DraftDetail(DraftRow):
    """One draft as its detail pane shows it: the generated text and what it comes from."""

    original_subject: str
    original_body: str
    related_type: str
    related_id: uuid.UUID


class BulkResult(BaseModel):
    """What a bulk approval did."""

    approved: int
    emails_queued: int


class TemplateVariable(BaseModel):
    """A name a template may use, what it holds and a sample value."""

    name: str
    description: str
    sample: str


class TemplateView(BaseModel):
    """A message template as an admin edits it (version 0: the default, never saved)."""

    key: str
    name: str
    subject: str
    body: str
    version: int
    is_default: bool
    variables: list[TemplateVariable]
    updated_at: datetime | None
