"""Bodies and answers of the inbound upserts: customers, goals, usage (camelCase in JSON)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from core.base import Consent, Direction, Segment
from core.goals.models import GoalStatus, GoalType, MilestoneStatus
from core.goals.repository_schemas import JsonNumber
from core.goals.schemas import AMOUNT_LIMIT, InputModel
from core.schemas import CamelModel

MAX_OBSERVATIONS = 10_000
MAX_MILESTONES = 100
FUTURE_TOLERANCE = timedelta(days=1)


def as_uuid(ref: str) -> uuid.UUID | None:
    """Return `ref` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(str(ref))
    except ValueError:
        return None


def _amount():
    return Field(None, gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)


class CustomerIn(InputModel):
    """A customer as the source system knows it; omitted optional fields keep stored values."""

    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(min_length=1, max_length=80)
    segment: Segment
    region: str = Field(min_length=1, max_length=40)
    arr: Decimal = Field(ge=0, lt=Decimal("1e12"), decimal_places=2)
    owner_csm_email: str | None = Field(None, max_length=254, description="An active user's email")
    health_score: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    consent_level: Consent | None = Field(None, description="internal_only when first created")
    use_case: str | None = Field(None, max_length=200)
    customer_since: date | None = None
    crm_id: str | None = Field(None, max_length=32, description="Salesforce account id")


class CustomerOut(CamelModel):
    id: uuid.UUID
    external_id: str
    crm_id: str | None
    name: str
    industry: str
    segment: Segment
    region: str
    arr: JsonNumber
    owner_csm_email: str | None
    health_score: JsonNumber | None
    consent_level: Consent
    use_case: str | None
    customer_since: date | None
    created_at: datetime
    updated_at: datetime


class MilestoneIn(InputModel):
    name: str = Field(min_length=1, max_length=200)
    due_date: date | None = None
    status: MilestoneStatus = MilestoneStatus.OPEN
    completed_at: AwareDatetime | None = Field(None, description="Defaults to now for done steps")

    @model_validator(mode="after")
    def _completed_only_when_done(self):
        if self.completed_at is not None and self.status == MilestoneStatus.OPEN:
            raise ValueError("completedAt is only for done or skipped milestones")
        return self


class GoalIn(InputModel):
    """A goal as the source system knows it; omitted optional fields keep stored values."""

    customer_external_id: str = Field(min_length=1, max_length=128)
    type: GoalType
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    use_case: str | None = Field(None, max_length=200)
    metric: str | None = Field(None, min_length=1, max_length=64, description="A metrics key")
    baseline: Decimal | None = _amount()
    target: Decimal | None = _amount()
    direction: Direction | None = Field(None, description="Defaults to the metric's direction")
    start_date: date
    due_date: date | None = None
    cost: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), decimal_places=2)
    milestones: list[MilestoneIn] | None = Field(
        None, max_length=MAX_MILESTONES, description="Replaces the goal's milestones; omit to keep"
    )
    plan_external_id: str | None = Field(
        None, min_length=1, max_length=128, description="Success plan the milestones belong to"
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
    problems = []
    if needs_metric and metric is None:
        problems.append(f"metric: a {kind.value} goal needs a metric")
    if needs_metric and target is None:
        problems.append(f"target: a {kind.value} goal with a metric needs a target")
    if kind == GoalType.SUCCESS_PLAN and metric is not None:
        problems.append("metric: success_plan goals are measured by milestones; leave it out")
    if needs_milestones and not milestones:
        problems.append(f"milestones: a {kind.value} goal without a metric needs at least one")
    due, start = values["due_date"], values["start_date"]
    if due is not None and due < start:
        problems.append(f"dueDate: must not be before startDate ({start.isoformat()})")
    return problems


class ObservationIn(InputModel):
    customer_id: str = Field(min_length=1, max_length=128, description="Our UUID or external id")
    metric: str = Field(min_length=1, max_length=64)
    value: Decimal = Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)
    observed_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset")
    source: str = Field("api", min_length=1, max_length=32)

    @field_validator("observed_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("must not be more than a day in the future")
        return value


class UsageIn(InputModel):
    observations: list[ObservationIn] = Field(
        min_length=1, description=f"At most {MAX_OBSERVATIONS:,} per request"
    )


class UsageResult(CamelModel):
    received: int
    inserted: int
    updated: int
    unchanged: int
