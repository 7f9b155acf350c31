"""Deliveries to Slack, Google and Salesforce, written with the change that caused them."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, Timestamps, UUIDPk, enum_column, tz


class Channel(enum.StrEnum):
    SLACK_MESSAGE = "slack_message"
    SLACK_DM = "slack_dm"
    GMAIL = "gmail"
    GOOGLE_DOC = "google_doc"
    CALENDAR = "calendar"
    SALESFORCE = "salesforce"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    NOT_CONFIGURED = "not_configured"


class Delivery(UUIDPk, Timestamps, Base):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),)

    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "delivery_channel"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, default=8, server_default="8")
    next_attempt_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(tz())
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    # A fresh token per claim: every write that renews or finishes the claim checks it.
    claim_token: Mapped[uuid.UUID | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column(tz())
    # Set by the row's first claim: from then on it may exist at the provider, so a later
    # attempt looks for it before sending (Slack) or sends the stored draft (Gmail).
    first_tried_at: Mapped[datetime | None] = mapped_column(tz())
    gmail_draft_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(500))
    related_type: Mapped[str | None] = mapped_column(String(48))
    related_id: Mapped[uuid.UUID | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(tz())
