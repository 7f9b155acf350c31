"""Requests and read models of the goals API (camelCase in JSON)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from core.base import Direction
from core.goals.models import (
    AchievementMethod,
    AchievementStatus,
    CandidateType,
    Confidence,
    FlagStatus,
    GoalStatus,
    GoalType,
)
from core.goals.repository_schemas import JsonNumber
from core.goals.results import is_ratio_goal
from core.schemas import CamelModel

# Numeric(18, 4) holds values below 10**14.
AMOUNT_LIMIT = Decimal("1e14")
EVIDENCE_KEYS = 50


class InputModel(CamelModel):
    """A request body: strips text, rejects unknown fields (typos get a 422 naming them)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class AchieveIn(InputModel):
    verified_by: str = Field(
        min_length=3, max_length=254, description="Email of the active csm/admin/leader confirming"
    )
    note: str = Field(min_length=1, max_length=2000, description="How the win was verified")
    achieved_value: Decimal | None = Field(None, gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)
    achieved_at: AwareDatetime | None = Field(None, description="ISO 8601 with a UTC offset")
    evidence: dict | None = Field(None, description="Any JSON object kept with the achievement")

    @field_validator("achieved_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + timedelta(minutes=5):
            raise ValueError("must not be in the future")
        return value

    @field_validator("evidence")
    @classmethod
    def _small_evidence(cls, value: dict | None) -> dict | None:
        if value is not None and len(value) > EVIDENCE_KEYS:
            raise ValueError(f"must have at most {EVIDENCE_KEYS} keys")
        return value


class FlagIn(InputModel):
    flagged_by: str = Field(
        min_length=3, max_length=254, description="Email of the active marketing/admin/leader/csm"
    )
    candidate_type: CandidateType
    notes: str | None = Field(None, max_length=2000)


class AchievementOut(CamelModel):
    """One achievement with its goal, customer, verification and marketing score."""

    id: uuid.UUID
    goal_id: uuid.UUID
    goal_external_id: str | None
    goal_name: str
    goal_type: GoalType
    metric: str | None
    customer_id: uuid.UUID
    customer_external_id: str | None
    customer_name: str
    industry: str
    status: AchievementStatus
    method: AchievementMethod
    achieved_at: datetime
    baseline_value: JsonNumber | None
    achieved_value: JsonNumber | None
    target_value: JsonNumber | None
    confidence: Confidence
    verified_by: str | None = Field(description="Email of the person who confirmed it")
    note: str | None
    marketing_score: int | None
    marketing_candidates: list[str]
    success_record_id: uuid.UUID | None


class AchievementPage(CamelModel):
    total: int
    items: list[AchievementOut]


class AchievementFilters(CamelModel):
    """Every filter set must match; unset means any."""

    customer_id: str | None = Field(None, max_length=128, description="Our UUID or external id")
    industry: str | None = Field(None, max_length=80)
    goal_type: GoalType | None = None
    status: AchievementStatus | None = None
    method: AchievementMethod | None = None
    achieved_from: date | None = Field(None, description="On or after this UTC day")
    achieved_to: date | None = Field(None, description="On or before this UTC day")
    min_score: int | None = Field(None, ge=0, le=100, description="Marketing score at least")
    csm: str | None = Field(None, max_length=254, description="Email of the owning CSM")

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.achieved_from and self.achieved_to and self.achieved_to < self.achieved_from:
            raise ValueError("achievedTo must not be before achievedFrom")
        return self


class AchievementQuery(AchievementFilters):
    """The filters plus paging, as query parameters."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class GoalProgress(CamelModel):
    """A goal with its latest observed value and direction-aware progress."""

    id: uuid.UUID
    external_id: str | None
    type: GoalType
    name: str
    metric: str | None
    metric_name: str | None
    unit: str | None
    baseline: JsonNumber | None
    target: JsonNumber | None
    direction: Direction
    start_date: date
    due_date: date | None
    status: GoalStatus
    latest_value: JsonNumber | None
    observed_at: datetime | None = Field(description="When the latest value was observed")
    milestones_done: int
    milestones_total: int
    progress_pct: float | None = Field(
        description="0-100 toward the target (direction-aware; ROI with a cost uses value ÷ cost;"
        " milestone goals count done or skipped steps); null when there is nothing to measure"
    )


class CustomerRef(CamelModel):
    id: uuid.UUID
    external_id: str | None
    name: str


class CustomerGoals(CamelModel):
    customer: CustomerRef
    goals: list[GoalProgress]
    achievements: list[AchievementOut]


class FlagOut(CamelModel):
    id: uuid.UUID
    achievement_id: uuid.UUID
    goal_id: uuid.UUID
    customer_id: uuid.UUID
    candidate_type: CandidateType
    status: FlagStatus
    score: int | None
    notes: str | None
    flagged_by: str
    created_at: datetime


def progress_pct(row) -> float | None:
    """Return 0-100 progress toward the goal's target, direction-aware, or None."""
    if row.status == GoalStatus.ACHIEVED:
        return 100.0
    if row.metric is None or row.target is None:
        if row.milestones_total:
            return round(100.0 * row.milestones_closed / row.milestones_total, 1)
        return None
    if row.latest_value is None:
        return None
    value, target, baseline = Decimal(row.latest_value), Decimal(row.target), row.baseline
    if is_ratio_goal(row.type, row.cost, getattr(row, "unit", None)):
        value, baseline = value / Decimal(row.cost), None  # detection compares value ÷ cost
    higher = row.direction == Direction.HIGHER
    if (value >= target) if higher else (value <= target):
        return 100.0
    if baseline is not None and ((baseline < target) if higher else (baseline > target)):
        share = (value - baseline) / (target - baseline)
    elif higher:
        share = value / target if target > 0 else Decimal(0)
    else:
        share = target / value if value > 0 else Decimal(0)
    return round(float(min(max(share, Decimal(0)), Decimal(1))) * 100, 1)
