"""Who changed what, and the job and sync state the scheduler keeps."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, UUIDPk, tz


class AuditEntry(UUIDPk, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    occurred_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now(), index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(160))
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
    status: Mapped[str] = mapped_column(String(16), default="running")
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)


class Watermark(Base):
    """Where an incremental sync left off."""

    __tablename__ = "sync_watermarks"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        tz(), server_default=func.now(), onupdate=func.now()
    )
