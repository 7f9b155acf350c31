"""Read models of the Upsell progress page: the plan list and one plan's detail."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import (
    BaseModel,
    ConfigDict,
)

from core.base import Direction
from core.upsell.models import (
    MeasurementFrequency,
    MeasurementMode,
    MeasurementStatus,
    OutcomeStatus,
    ProgressStatus,
    TargetSource,
)
from core.upsell.schemas import MilestoneOut, RoiRealized


class PlanRow(BaseModel):
    """One plan in the list."""

    id: uuid.UUID
    status: MeasurementStatus
    progress_status: ProgressStatus | None
    predicted_success: Decimal | None
    version: int
    customer_id: uuid.UUID
    customer_name: str
    upsell_name: str
    arr_increase: Decimal
    close_date: date
    days_since_close: int
    products: list[str]
    next_day: int | None  # the next scheduled checkpoint
    next_due: date | None
    overdue: int
    overdue_since: date | None = None  # when the oldest overdue review was due
    outcome: OutcomeStatus | None = None  # decided (or closed as no decision)
    proposed_outcome: OutcomeStatus | None = None
    decide_by: date | None = None


class Point(BaseModel):
    day: date
    value: float


class MetricView(BaseModel):
    """One criterion with its values, its daily series and its expected curve."""

    id: uuid.UUID
    name: str
    metric_key: str | None
    type: str
    unit: str
    direction: Direction
    measurement: MeasurementMode
    origin: str
    baseline: Decimal | None
    target: Decimal
    target_source: TargetSource | None = None
    target_explanation: str | None = None
    current: Decimal | None
    current_at: datetime | None
    progress: Decimal | None
    expected: Decimal | None
    frequency: MeasurementFrequency | None = None
    no_recent_data: bool = False
    series: list[Point]
    expected_curve: list[Point]


class CheckpointView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: int
    due_on: date
    status: str
    doc_url: str | None
    summary: dict = {}
    review_due_on: date | None = None  # overdue since then when status is "overdue"


class ReviewView(BaseModel):
    id: uuid.UUID
    reviewed_at: datetime
    checkpoint_day: int | None
    reviewer_name: str | None
    assessment: ProgressStatus
    findings: str
    next_steps: str | None


class OutcomeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    proposed_status: str
    proposed_reasons: list
    status: str | None
    override_reason: str | None
    decided_at: datetime | None
    decide_by: date | None = None


class FeedbackAnswer(BaseModel):
    """A customer's NPS or CSAT response after the plan's feedback ask."""

    kind: str
    score: int
    comment: str | None
    respondent_name: str | None
    responded_at: datetime
    line: str


class FeedbackAsk(BaseModel):
    """The plan's 60-day feedback ask: where it stands and what came back."""

    status: str
    status_label: str
    drafted_at: datetime
    sent_at: datetime | None
    to: list[str]
    answers: list[FeedbackAnswer]
    lines: list[str]


class PlanDetail(BaseModel):
    """Everything the detail view shows about one plan."""

    id: uuid.UUID
    version: int
    status: MeasurementStatus
    progress_status: ProgressStatus | None
    predicted_success: Decimal | None
    customer_id: uuid.UUID
    customer_name: str
    upsell_name: str
    # Why the prediction is what it is when that matters ("no history yet: …"), else None.
    # No upsell had a confirmed outcome when it was predicted: the figure is the starting prior.
    prediction_unlearned: bool = False
    arr_increase: Decimal
    close_date: date
    started_on: date
    horizon_days: int
    days_since_close: int
    health_before: Decimal | None
    health_after: Decimal | None
    metrics: list[MetricView]
    checkpoints: list[CheckpointView]
    reviews: list[ReviewView]
    outcome: OutcomeView | None
    milestones: list[MilestoneOut] = []
    roi: RoiRealized | None = None
    feedback: FeedbackAsk | None = None
