"""Read models for the home figures and the system view."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from core.base import Consent, Role, Segment
from core.customers.models import FeedbackKind
from core.customers.schemas import HealthBand
from core.goals.models import GoalStatus, GoalType


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


class FeedbackRow(BaseModel):
    kind: FeedbackKind
    score: int
    comment: str | None
    respondent_name: str | None
    respondent_title: str | None
    responded_at: datetime


class TimelineRow(BaseModel):
    occurred_at: datetime
    kind: str
    title: str
    body: str | None


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
    csm_email: str | None
    goals: list[GoalRow]
    feedback: list[FeedbackRow]
    timeline: list[TimelineRow]
    metrics: list[MetricOption]


class SeriesPoint(BaseModel):
    day: date
    value: Decimal


class MetricSeries(BaseModel):
    """Daily values of one metric for one customer."""

    key: str
    name: str
    unit: str
    points: list[SeriesPoint]
