"""Success plans, milestones, goals and the achievements detected or confirmed for them."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Amount, Base, Direction, Money, Timestamps, UUIDPk, enum_column, tz


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class MilestoneStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


class GoalType(enum.StrEnum):
    SUCCESS_PLAN = "success_plan"
    KPI = "kpi"
    ONBOARDING = "onboarding"
    ROI = "roi"
    CUSTOM = "custom"


class GoalStatus(enum.StrEnum):
    ACTIVE = "active"
    # The metric already met the target when the goal started: tracked, never a win, until it
    # falls back for a sustained stretch (then it is active again and a new crossing counts).
    MET_AT_START = "met_at_start"
    PENDING_CONFIRMATION = "pending_confirmation"
    ACHIEVED = "achieved"
    MISSED = "missed"
    CANCELLED = "cancelled"


class AchievementMethod(enum.StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class AchievementStatus(enum.StrEnum):
    VERIFIED = "verified"
    HELD = "held_for_confirmation"
    REJECTED = "rejected"


class Confidence(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class SuccessPlan(UUIDPk, Timestamps, Base):
    __tablename__ = "success_plans"
    # "Changed since the last detection pass" (migration 0023).
    __table_args__ = (Index("ix_success_plans_updated_at", "updated_at"),)

    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str | None] = mapped_column(Text)
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    start_date: Mapped[date] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)


class Goal(UUIDPk, Timestamps, Base):
    __tablename__ = "goals"
    __table_args__ = (
        Index("ix_goals_active_metric", "metric_key", "customer_id"),
        Index("ix_goals_updated_at", "updated_at"),  # changed since the last detection pass
        # Half-full pages: a detection pass's evaluated_at stamps stay HOT (migration 0025), so
        # no index may cover evaluated_at.
        {"postgresql_with": {"fillfactor": 50}},
    )

    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("success_plans.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[GoalType] = mapped_column(enum_column(GoalType, "goal_type"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    use_case: Mapped[str | None] = mapped_column(String(200))
    metric_key: Mapped[str | None] = mapped_column(ForeignKey("metrics.key"))
    baseline: Mapped[Decimal | None] = mapped_column(Amount)
    target: Mapped[Decimal | None] = mapped_column(Amount)
    direction: Mapped[Direction] = mapped_column(
        enum_column(Direction, "goal_direction"), default=Direction.HIGHER
    )
    unit: Mapped[str | None] = mapped_column(String(32))
    cost: Mapped[Decimal | None] = mapped_column(Money)
    start_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(
        enum_column(GoalStatus, "goal_status"), default=GoalStatus.ACTIVE, index=True
    )
    verification: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    evaluated_at: Mapped[datetime | None] = mapped_column(tz())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Milestone(UUIDPk, Timestamps, Base):
    """A step of a success plan; onboarding checklist items point at their goal."""

    __tablename__ = "milestones"
    __table_args__ = (Index("ix_milestones_updated_at", "updated_at"),)  # see SuccessPlan

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("success_plans.id", ondelete="CASCADE"), index=True
    )
    goal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(
        enum_column(MilestoneStatus, "milestone_status"), default=MilestoneStatus.OPEN
    )
    completed_at: Mapped[datetime | None] = mapped_column(tz())
    completed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class Achievement(UUIDPk, Timestamps, Base):
    """The one achievement a goal can have, with the evidence that proved it."""

    __tablename__ = "goal_achievements"

    goal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[AchievementStatus] = mapped_column(
        enum_column(AchievementStatus, "achievement_status")
    )
    method: Mapped[AchievementMethod] = mapped_column(
        enum_column(AchievementMethod, "achievement_method")
    )
    achieved_at: Mapped[datetime] = mapped_column(tz(), index=True)
    detected_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    baseline_value: Mapped[Decimal | None] = mapped_column(Amount)
    target_value: Mapped[Decimal | None] = mapped_column(Amount)
    achieved_value: Mapped[Decimal | None] = mapped_column(Amount)
    # Direction-aware change from the baseline as a fraction of it (0.25 = 25% better).
    improvement: Mapped[Decimal | None] = mapped_column(Amount)
    confidence: Mapped[Confidence] = mapped_column(enum_column(Confidence, "confidence"))
    rule: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    verification_note: Mapped[str | None] = mapped_column(Text)
    marketing_score: Mapped[int | None] = mapped_column(Integer)
    marketing_reasons: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    marketing_candidates: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), default=list, server_default="{}"
    )
