"""What the customer page's "Goals & plans" section sends and shows.

The inputs use the API's field types and limits (`core.schemas`), so a form refuses what the API
refuses, in the same words; the goal rules themselves live in `core.goals.definition`.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from core.base import Direction
from core.goals.models import AchievementStatus, GoalStatus, GoalType, MilestoneStatus, PlanStatus
from core.goals.schemas import MAX_MILESTONES
from core.schemas import (
    NAME_LENGTH,
    TEXT_LENGTH,
    Amount,
    Day,
    Forgiving,
    InputModel,
    MultiLine,
    SingleLine,
)


class GoalEntry(InputModel):
    """A goal as a person enters or edits it (the customer is the page's)."""

    type: Forgiving[GoalType]
    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    description: MultiLine | None = Field(None, max_length=TEXT_LENGTH)
    metric: SingleLine | None = Field(None, min_length=1, max_length=64)
    baseline: Amount | None = None
    target: Amount | None = None
    direction: Forgiving[Direction] | None = Field(
        None, description="Defaults to the metric's direction"
    )
    start_date: Day
    due_date: Day | None = None


class MilestoneEntry(InputModel):
    """One step of a plan; `id` names a stored one (None: a new step)."""

    id: uuid.UUID | None = None
    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    due_date: Day | None = None


class PlanEntry(InputModel):
    """A success plan and its steps, in order."""

    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    owner_id: uuid.UUID | None = None
    status: Forgiving[PlanStatus] = PlanStatus.ACTIVE
    milestones: list[MilestoneEntry] = Field(min_length=1, max_length=MAX_MILESTONES)


class GoalLine(BaseModel):
    """One goal as the section lists it, with what its edit form needs."""

    id: uuid.UUID
    name: str
    description: str | None
    type: GoalType
    status: GoalStatus
    metric_key: str | None
    metric_name: str | None
    unit: str | None
    baseline: Decimal | None
    target: Decimal | None
    direction: Direction
    start_date: date
    due_date: date | None
    version: int
    win: AchievementStatus | None = Field(description="The goal's achievement, if it has one")
    milestones_done: int
    milestones_total: int


class MilestoneView(BaseModel):
    id: uuid.UUID
    name: str
    position: int
    due_date: date | None
    status: MilestoneStatus
    completed_at: datetime | None
    completed_by: str | None = Field(description="Who ticked it off (their name)")


class PlanView(BaseModel):
    id: uuid.UUID
    name: str
    status: PlanStatus
    owner_id: uuid.UUID | None
    owner_name: str | None
    start_date: date
    external_id: str | None = Field(description="Set when another system sends the plan")
    updated_at: datetime
    goal_id: uuid.UUID | None = Field(description="The goal achieved when every step is done")
    won: bool = Field(description="That goal already has a verified win")
    milestones: list[MilestoneView]


class MetricChoice(BaseModel):
    key: str
    name: str
    unit: str
    direction: Direction


class PersonChoice(BaseModel):
    id: uuid.UUID
    name: str


class GoalsAndPlans(BaseModel):
    """A customer's goals and success plans, and the choices their forms offer."""

    customer_id: uuid.UUID
    customer_name: str
    owner_id: uuid.UUID | None
    goals: list[GoalLine]
    plans: list[PlanView]
    metrics: list[MetricChoice]
    owners: list[PersonChoice]
