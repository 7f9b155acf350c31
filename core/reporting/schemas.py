"""Read models for the home figures, the Wins success metrics and the system view."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from core.base import Consent, Role, Segment
from core.customers.models import FeedbackKind
from core.customers.schemas import CustomerHealthOut, HealthBand
from core.goals.models import AchievementStatus, GoalStatus, GoalType, PlanStatus
from core.upsell.models import MeasurementStatus, OutcomeStatus, ProgressStatus, UpsellType


class MetricRow(BaseModel):
    """A goal or win behind a Wins success metric: what it is, when, and why it counts."""

    kind: Literal[
        "not_documented",  # verified, but no success record was written
        "not_recorded",  # its data held the target, but no win was recorded
        "milestones_done",  # every milestone done, but no win was recorded
        "custom_overdue",  # a custom goal past its due date that nobody confirmed
        "late",  # documented more than 24 h after the goal was reached
        "not_emailed",  # the congratulations email was not sent
        "used",  # used in marketing
    ]
    goal_id: uuid.UUID
    achievement_id: uuid.UUID | None
    customer_id: uuid.UUID
    customer_name: str
    goal_name: str
    csm_name: str | None
    at: datetime  # when the goal was reached (a custom goal: its due date)
    hours: float | None = None  # from reaching the goal to its written success record


class Bin(BaseModel):
    """One bar of a distribution."""

    label: str
    count: int


class SuccessMetric(BaseModel):
    """One PRD success metric: numerator ÷ denominator, met when the share beats the target.

    `gaps` counts the rows behind the metric by kind (all of them); `rows` lists the first of
    them. Timeliness also carries its distribution (`bins`) and the 50th/90th percentiles.
    """

    key: Literal["capture", "communication", "utilization", "documented_24h"]
    numerator: int
    denominator: int
    target: float
    gaps: dict[str, int] = {}
    rows: list[MetricRow] = []
    bins: list[Bin] = []
    p50_hours: float | None = None
    p90_hours: float | None = None

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        return None if self.rate is None else self.rate > self.target

    @property
    def listed(self) -> int:
        """How many rows stand behind the metric (the rows list holds the first of them)."""
        return sum(self.gaps.values())


class Slice(BaseModel):
    """One bar or wedge of a chart."""

    label: str
    value: Decimal


class MonthPoint(BaseModel):
    month: date
    count: int
    arr: Decimal


class AttentionItem(BaseModel):
    """A customer somebody should look at, and why."""

    customer_id: uuid.UUID
    name: str
    health_score: Decimal | None
    health_band: HealthBand
    arr: Decimal
    csm_name: str | None
    reason: str


class HomeFigures(BaseModel):
    """The live figures of the home page for one person (their book or the company)."""

    scope: Literal["book", "company"]
    user_name: str
    role: Role
    customers: int
    arr: Decimal
    avg_health: Decimal | None
    active_goals: int
    open_plans: int
    upsells_without_plan: int
    pending_approvals: int
    arr_by_segment: list[Slice]
    customers_by_industry: list[Slice]
    health_bands: list[Slice]
    upsells_by_month: list[MonthPoint]
    attention: list[AttentionItem]


class DatabaseStatus(BaseModel):
    ok: bool
    name: str
    version: str
    size: str
    revision: str | None
    counts: dict[str, int]


class JobRunRow(BaseModel):
    job_name: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    details: dict = {}


class FailedItemRow(BaseModel):
    """An item a job could not process, in plain words: which job, doing what, on what, why."""

    job_name: str | None
    step: str
    item: str
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime
    failure_count: int


class ApiKeyRow(BaseModel):
    """An API key as admins may see it: never the key or its hash."""

    name: str
    role: Role
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class SystemStatus(BaseModel):
    database: DatabaseStatus
    job_runs: list[JobRunRow]
    failed_items: list[FailedItemRow] = []
    api_keys: list[ApiKeyRow]


class Owner(BaseModel):
    """A CSM who owns customers."""

    id: uuid.UUID
    name: str


class CustomerFilters(BaseModel):
    """The values the customer filters offer."""

    industries: list[str]
    segments: list[Segment]
    owners: list[Owner]


class CustomerRow(BaseModel):
    """One line of the customer list."""

    id: uuid.UUID
    name: str
    industry: str
    segment: Segment
    region: str
    arr: Decimal
    health_score: Decimal | None
    health_band: HealthBand
    owner_csm_id: uuid.UUID | None
    csm_name: str | None
    consent_level: Consent
    active_goals: int


class CustomerPage(BaseModel):
    """A page of customers and how many match the filters in total."""

    rows: list[CustomerRow]
    total: int


class GoalRow(BaseModel):
    id: uuid.UUID
    name: str
    type: GoalType
    status: GoalStatus
    metric_name: str | None
    baseline: Decimal | None
    target: Decimal | None
    unit: str | None
    start_date: date
    due_date: date | None
    achievement_id: uuid.UUID | None = None  # the goal's win, when it has one (not rejected)


class FeedbackRow(BaseModel):
    kind: FeedbackKind
    score: int | None  # None: a quote a CSM logged without a score
    comment: str | None
    respondent_name: str | None
    respondent_title: str | None
    responded_at: datetime


class TimelineRow(BaseModel):
    occurred_at: datetime
    kind: str
    title: str
    body: str | None
    achievement_id: uuid.UUID | None = None  # the win the line is about (its details page)
    plan_id: uuid.UUID | None = None  # the measurement plan the line is about (its progress)


class WinRow(BaseModel):
    """A win of the customer (a verified or held achievement) and whether it is documented."""

    achievement_id: uuid.UUID
    goal_name: str
    goal_type: GoalType
    status: AchievementStatus
    achieved_at: datetime
    record_title: str | None  # None: no success record written yet


class SuccessPlanRow(BaseModel):
    """A success plan of the customer with how many of its milestones are done."""

    id: uuid.UUID
    name: str
    status: PlanStatus
    start_date: date
    target_date: date | None
    milestones_total: int
    milestones_done: int


class UpsellRow(BaseModel):
    """An upsell of the customer and where its measurement plan stands (None: no plan yet)."""

    id: uuid.UUID
    name: str
    type: UpsellType
    arr_increase: Decimal
    close_date: date
    plan_id: uuid.UUID | None
    plan_status: MeasurementStatus | None
    progress_status: ProgressStatus | None
    started_on: date | None
    horizon_days: int | None
    predicted_success: Decimal | None
    prediction_unlearned: bool = False  # predicted before any upsell had a confirmed outcome
    outcome: OutcomeStatus | None  # the confirmed outcome
    proposed_outcome: OutcomeStatus | None
    health_before: Decimal | None
    health_after: Decimal | None
    evaluated_at: datetime | None


class HealthReading(BaseModel):
    """A stored health score at a moment: an upsell plan's start or outcome, or the score now."""

    at: date
    score: Decimal
    moment: Literal["plan_start", "plan_outcome", "current"]
    upsell_name: str | None = None


class MetricOption(BaseModel):
    """A metric this customer has observations for."""

    key: str
    name: str
    unit: str
    observations: int
    last_observed_at: datetime


class CustomerDetail(BaseModel):
    """Everything the customer detail view shows."""

    customer: CustomerRow
    use_case: str | None
    customer_since: date | None
    website: str | None
    external_id: str | None = None  # what usage pipelines and the CRM call the customer
    csm_email: str | None
    goals: list[GoalRow]
    feedback: list[FeedbackRow]
    timeline: list[TimelineRow]
    metrics: list[MetricOption]
    health: CustomerHealthOut | None = None
    health_readings: list[HealthReading] = []  # oldest first
    wins: list[WinRow] = []
    plans: list[SuccessPlanRow] = []  # CS staff only, as the goals-and-plans set-up
    upsells: list[UpsellRow] = []  # CS staff only, as the upsell pages
    last_renewal: date | None = None  # the latest renewal the CRM reported (no end date is kept)


class SeriesPoint(BaseModel):
    day: date
    value: Decimal


class MetricSeries(BaseModel):
    """Daily values of one metric for one customer."""

    key: str
    name: str
    unit: str
    points: list[SeriesPoint]
