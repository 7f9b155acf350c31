"""The approval queue: drafts a person edits and approves before anything is sent."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, Timestamps, UUIDPk, enum_column, tz


class DraftKind(enum.StrEnum):
    CUSTOMER_EMAIL = "customer_email"
    REVIEW_SUMMARY = "review_summary"
    FEEDBACK_REQUEST = "feedback_request"


class DraftStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"
    FAILED = "failed"


class Draft(UUIDPk, Timestamps, Base):
    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("kind", "related_type", "related_id"),
        Index("ix_drafts_owner_status", "owner_id", "status"),
    )

    kind: Mapped[DraftKind] = mapped_column(enum_column(DraftKind, "draft_kind"))
    status: Mapped[DraftStatus] = mapped_column(
        enum_column(DraftStatus, "draft_status"), default=DraftStatus.PENDING
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    related_type: Mapped[str] = mapped_column(String(48))
    related_id: Mapped[uuid.UUID] = mapped_column()
    to_addresses: Mapped[list[str]] = mapped_column(ARRAY(String(254)), default=list)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    original_subject: Mapped[str] = mapped_column(String(300))
    original_body: Mapped[str] = mapped_column(Text)
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(tz())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class MessageTemplate(UUIDPk, Timestamps, Base):
    """An admin-editable template (sandboxed Jinja2) for generated drafts."""

    __tablename__ = "message_templates"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
