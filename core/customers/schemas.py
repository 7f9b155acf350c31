"""Read models the customer list and detail views return."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from core.base import Consent, Segment
from core.customers.models import FeedbackKind
from core.goals.models import GoalStatus, GoalType


class HealthBand(enum.StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at_risk"
    UNKNOWN = "unknown"


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
