"""Who changed what, and the job and sync state the scheduler keeps."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, UUIDPk, tz


class AuditEntry(UUIDPk, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    occurred_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now(), index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(160))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(48))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")


class JobRun(UUIDPk, Base):
    """One run of a scheduled job, for the admin's view of the jobs process."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_name_started", "job_name", "started_at"),)

    job_name: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(tz())
    # running, ok, failed, or abandoned: its process stopped renewing the lease (killed, lost)
    status: Mapped[str] = mapped_column(String(16), default="running")
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(tz())


class JobItemFailure(UUIDPk, Base):
    """One item a job could not process (a win, a plan, a checkpoint …) and why.

    The rest of the job's batch went on without it; the job retries the item on its next runs
    and the row is deleted once the item succeeds. One row per item and step (`item_type`).
    """

    __tablename__ = "job_item_failures"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id"),
        Index("ix_job_item_failures_last_seen_at", "last_seen_at"),
    )

    job_name: Mapped[str | None] = mapped_column(String(64))  # None: run outside the scheduler
    item_type: Mapped[str] = mapped_column(String(48))
    item_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    failure_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Watermark(Base):
    """Where an incremental sync left off."""

    __tablename__ = "sync_watermarks"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        tz(), server_default=func.now(), onupdate=func.now()
    )
