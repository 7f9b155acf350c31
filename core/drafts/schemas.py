"""Read models of the approval queue and the template editor."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from core.drafts.models import DraftKind, DraftStatus

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
