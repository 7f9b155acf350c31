"""The success record written for each verified achievement."""

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, Timestamps, UUIDPk, tz


class SuccessRecord(UUIDPk, Timestamps, Base):
    """The written documentation of one achievement."""

    __tablename__ = "success_records"

    achievement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("goal_achievements.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    sections: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    markdown: Mapped[str] = mapped_column(Text)
    doc_url: Mapped[str | None] = mapped_column(String(500))
    written_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
