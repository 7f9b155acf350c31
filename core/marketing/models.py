"""Marketing flags: which wins marketing works on, and how far each has come."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, Timestamps, UUIDPk, enum_column, tz


class CandidateType(enum.StrEnum):
    CASE_STUDY = "case_study"
    TESTIMONIAL = "testimonial"
    REFERENCE = "reference"
    SOCIAL_PROOF = "social_proof"


class FlagStatus(enum.StrEnum):
    FLAGGED = "flagged"
    CONTACTED = "contacted"
    IN_PROGRESS = "in_progress"
    USED = "used"
    DECLINED = "declined"


class MarketingFlag(UUIDPk, Timestamps, Base):
    """A win flagged for marketing use, moving flagged → contacted → in progress → used/declined."""

    __tablename__ = "marketing_flags"
    __table_args__ = (UniqueConstraint("achievement_id", "candidate_type"),)

    achievement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("goal_achievements.id", ondelete="CASCADE")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    candidate_type: Mapped[CandidateType] = mapped_column(
        enum_column(CandidateType, "candidate_type")
    )
    status: Mapped[FlagStatus] = mapped_column(
        enum_column(FlagStatus, "flag_status"), default=FlagStatus.FLAGGED
    )
    score: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    flagged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    contacted_at: Mapped[datetime | None] = mapped_column(tz())
    status_changed_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
