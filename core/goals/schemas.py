"""Requests and read models of the goals API (camelCase in JSON)."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from core.base import Direction
from core.goals.models import (
    AchievementMethod,
    AchievementStatus,
    GoalStatus,
    GoalType,
    MilestoneStatus,
)
from core.goals.results import is_ratio_goal
from core.schemas import (
    EMAIL_LENGTH,
    ID_LENGTH,
    NAME_LENGTH,
    NOTE_LENGTH,
    TEXT_LENGTH,
    Amount,
    CamelModel,
    Day,
    Forgiving,
    HappenedAt,
    InputModel,
    JsonNumber,
    JsonObject,
    MultiLine,
    ObservedAt,
    SingleLine,
    accept_aliases,
)

EVIDENCE_KEYS = 50

# How success-plan tools and CRMs spell these besides our values (`Forgiving[...]`).
accept_aliases(
    GoalType,
    {
        GoalType.SUCCESS_PLAN: ("success plan milestone", "milestone"),
        GoalType.KPI: ("kpi threshold", "key performance indicator"),
        GoalType.ONBOARDING: ("onboarding goal", "onboarding checklist"),
        GoalType.ROI: ("roi milestone", "return on investment"),
        GoalType.CUSTOM: ("custom goal", "other"),
    },
)
accept_aliases(
    MilestoneStatus,
    {
        MilestoneStatus.OPEN: ("not started", "in progress", "to do", "pending"),
        MilestoneStatus.DONE: ("complete", "completed", "finished"),
        MilestoneStatus.SKIPPED: ("skip", "not applicable", "n/a"),
    },
)
accept_aliases(
    AchievementStatus,
    {AchievementStatus.HELD: ("held for confirmation", "needs confirmation", "pending")},
)
accept_aliases(
    AchievementMethod,
    {AchievementMethod.AUTOMATIC: ("detected", "auto"), AchievementMethod.MANUAL: ("confirmed",)},
)


class AchieveIn(InputModel):
    verified_by: SingleLine = Field(
        min_length=3,
        max_length=EMAIL_LENGTH,
        description="Email of the active csm/admin/leader confirming",
    )
    note: MultiLine = Field(
        min_length=1, max_length=NOTE_LENGTH, description="How the win was verified"
    )
    achieved_value: Amount | None = Field(
        None,
        description="The value reached, in the target's terms (a multiple of the cost for ROI "
        "goals measured that way). Required for a goal with a target, and it must reach the "
        "target (direction-aware) and be possible for the unit (never negative except for "
        "scores); leave it out for a goal without a target: that confirms the milestone. A held "
        "win keeps its detected value when it is left out.",
    )
    achieved_at: HappenedAt | None = None
    evidence: JsonObject | None = Field(
        None,
        description=f"Any JSON object kept with the achievement (at most {EVIDENCE_KEYS} keys)",
    )

    @field_validator("evidence")
    @classmethod
    def _small_evidence(cls, value: dict | None) -> dict | None:
        if value is not None and len(value) > EVIDENCE_KEYS:
            raise ValueError(f"must have at most {EVIDENCE_KEYS} keys")
        return value


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


MAX_MILESTONES = 100
# A goal of each type inside a sentence ("target: a KPI goal with a metric needs a target").
A_GOAL = {
    GoalType.SUCCESS_PLAN: "a success-plan goal",
    GoalType.KPI: "a KPI goal",
    GoalType.ONBOARDING: "an onboarding goal",
    GoalType.ROI: "an ROI goal",
    GoalType.CUSTOM: "a custom goal",
}


class MilestoneIn(InputModel):
    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    due_date: Day | None = None
    status: Forgiving[MilestoneStatus] = MilestoneStatus.OPEN
    completed_at: ObservedAt | None = Field(None, description="Defaults to now for done steps")

    @model_validator(mode="after")
    def _completed_only_when_done(self):
        if self.completed_at is not None and self.status == MilestoneStatus.OPEN:
            raise ValueError("completedAt is only for done or skipped milestones")
        return self


class GoalIn(InputModel):
    """A goal as the source system knows it; omitted optional fields keep stored values."""

    customer_external_id: SingleLine = Field(min_length=1, max_length=ID_LENGTH)
    type: Forgiving[GoalType]
    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    description: MultiLine | None = Field(None, max_length=TEXT_LENGTH)
    use_case: SingleLine | None = Field(None, max_length=NAME_LENGTH)
    metric: SingleLine | None = Field(
        None, min_length=1, max_length=64, description="A metrics key"
    )
    baseline: Amount | None = None
    target: Amount | None = None
    direction: Forgiving[Direction] | None = Field(
        None, description="Defaults to the metric's direction"
    )
    start_date: Day
    due_date: Day | None = None
    cost: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), decimal_places=2)
    milestones: list[MilestoneIn] | None = Field(
        None, max_length=MAX_MILESTONES, description="Replaces the goal's milestones; omit to keep"
    )
    plan_external_id: SingleLine | None = Field(
        None,
        min_length=1,
        max_length=ID_LENGTH,
        description="Success plan the milestones belong to",
    )


class MilestoneOut(CamelModel):
    name: str
    position: int
    due_date: date | None
    status: MilestoneStatus
    completed_at: datetime | None


class GoalOut(CamelModel):
    id: uuid.UUID
    external_id: str
    customer_id: uuid.UUID
    customer_external_id: str | None
    plan_id: uuid.UUID | None
    type: GoalType
    name: str
    description: str | None
    use_case: str | None
    metric: str | None
    unit: str | None
    baseline: JsonNumber | None
    target: JsonNumber | None
    direction: Direction
    start_date: date
    due_date: date | None
    cost: JsonNumber | None
    status: GoalStatus
    milestones: list[MilestoneOut]


def milestone_rows(
    milestones: list[MilestoneIn], *, goal_id: uuid.UUID, plan_id, before: list
) -> list[dict]:
    """Return milestone rows to store; done steps keep their earlier completion time."""
    done_at = {s.name: s.completed_at for s in before if s.completed_at is not None}
    now = datetime.now(UTC)
    rows = []
    for i, m in enumerate(milestones):
        completed = None
        if m.status != MilestoneStatus.OPEN:
            completed = m.completed_at or done_at.get(m.name)
            if completed is None and m.status == MilestoneStatus.DONE:
                completed = now
        rows.append(
            dict(
                id=uuid.uuid4(),
                plan_id=plan_id,
                goal_id=goal_id,
                name=m.name,
                position=i,
                due_date=m.due_date,
                status=m.status,
                completed_at=completed,
            )
        )
    return rows


def goal_problems(values: dict, milestones: int) -> list[str]:
    """Return what breaks the rules of the goal's type, each naming the field."""
    kind, metric, target = values["type"], values["metric"], values["target"]
    needs_metric = kind in (GoalType.KPI, GoalType.ROI) or (
        kind == GoalType.ONBOARDING and metric is not None
    )
    needs_milestones = kind == GoalType.SUCCESS_PLAN or (
        kind == GoalType.ONBOARDING and metric is None
    )
    problems, a_goal = [], A_GOAL[GoalType(kind)]
    if needs_metric and metric is None:
        problems.append(f"metric: {a_goal} needs a metric")
    if needs_metric and target is None:
        problems.append(f"target: {a_goal} with a metric needs a target")
    if kind == GoalType.SUCCESS_PLAN and metric is not None:
        problems.append("metric: success-plan goals are measured by milestones; leave it out")
    if needs_milestones and not milestones:
        problems.append(f"milestones: {a_goal} without a metric needs at least one")
    due, start = values["due_date"], values["start_date"]
    if due is not None and due < start:
        problems.append(f"dueDate: must not be before startDate ({start.isoformat()})")
    return problems
