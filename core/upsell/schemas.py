"""Pydantic shapes of upsells and their plans: inputs and read models (camelCase in JSON).

Inputs: what services validate (`ManualUpsell`, `MetricChange`, `PlanChanges`) and the API's
request bodies (`…In`). Read models: the API's answers (`SuccessMeasurement`, the PRD's
UpsellSuccessMeasurement), a plan as customized (`Plan`), plan latency and overdue checkpoints.
The progress page's models are in `page_schemas.py`, the outcome analysis's in
`analysis_schemas.py`.
"""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.base import Direction, Segment
from core.customers.models import MetricKind
from core.errors import Invalid
from core.schemas import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    TEXT_LENGTH,
    Amount,
    CamelModel,
    Day,
    Forgiving,
    HappenedAt,
    InputModel,
    JsonNumber,
    MultiLine,
    SingleLine,
    accept_aliases,
    problem_words,
    problems_text,
)
from core.upsell.models import (
    CheckpointStatus,
    MeasurementFrequency,
    MeasurementMode,
    MilestoneStatus,
    OutcomeStatus,
    ProgressStatus,
    TargetSource,
    UpsellSource,
    UpsellType,
)

MAX_CHECKPOINT_DAY = 730

M = TypeVar("M", bound=CamelModel)


def validated(model: type[M], data) -> M:
    """Return `data` as `model`, raising Invalid with every problem spelled out."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(problems_text(exc)) from None


# Inputs services validate ---------------------------------------------------------------------


class ManualUpsell(CamelModel):
    """An upsell a CSM enters by hand (zero ARR is a valid no-charge expansion)."""

    customer_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    type: UpsellType
    arr_increase: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    close_date: date
    products: list[str] = Field(default_factory=list)
    sales_rep_name: str | None = Field(default=None, max_length=120)
    stated_criteria: str | None = None

    @field_validator("name", "sales_rep_name", "stated_criteria", mode="before")
    @classmethod
    def _strip(cls, value):
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("products")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))

    @field_validator("close_date")
    @classmethod
    def _closed(cls, value: date) -> date:
        if value > datetime.now(UTC).date():
            raise ValueError("a closed upsell cannot close in the future")
        return value

    def lines(self) -> dict[str, Decimal]:
        """Return each product's share of the ARR (the rounding cents go to the first)."""
        if not self.products:
            return {}
        share = (self.arr_increase / len(self.products)).quantize(Decimal("0.01"))
        first = self.arr_increase - share * (len(self.products) - 1)
        return {code: first if i == 0 else share for i, code in enumerate(self.products)}


class MetricChange(CamelModel):
    """Add, update or remove one criterion of a plan (matched by name)."""

    action: Literal["add", "update", "remove"]
    name: str = Field(min_length=1, max_length=120)
    metric_key: str | None = None
    type: MetricKind | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=32)
    direction: Direction | None = None
    measurement: MeasurementMode | None = None
    baseline: Decimal | None = Field(default=None, ge=0)
    target: Decimal | None = Field(default=None, ge=0)

    @field_validator("name", mode="before")
    @classmethod
    def _strip_name(cls, value):
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self):
        if self.action == "add":
            missing = [
                f for f in ("type", "unit", "direction", "target") if getattr(self, f) is None
            ]
            if missing:
                raise ValueError(f"a new criterion needs {', '.join(missing)}")
            if self.measurement is None:
                self.measurement = (
                    MeasurementMode.AUTOMATIC if self.metric_key else MeasurementMode.MANUAL
                )
        automatic = self.measurement == MeasurementMode.AUTOMATIC
        if automatic and self.action == "add" and not self.metric_key:
            raise ValueError("an automatic criterion needs a metric key")
        for value in (self.target, self.baseline):
            if self.unit == "%" and value is not None and value > 100:
                raise ValueError("a percentage cannot exceed 100")
        return self


class PlanChanges(CamelModel):
    """A CSM's customization of a plan: criteria changes and, optionally, new checkpoint days."""

    metrics: list[MetricChange] = Field(default_factory=list)
    checkpoint_days: list[int] | None = None

    @field_validator("checkpoint_days")
    @classmethod
    def _increasing(cls, days: list[int] | None) -> list[int] | None:
        if days is None:
            return None
        if not days:
            raise ValueError("a plan needs at least one checkpoint")
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError("checkpoint days must be strictly increasing")
        if days[0] < 1 or days[-1] > MAX_CHECKPOINT_DAY:
            raise ValueError(f"checkpoint days must lie between 1 and {MAX_CHECKPOINT_DAY}")
        return days


# Request bodies of the upsell API -------------------------------------------------------------

# How Salesforce picklists and people spell these besides our values (`Forgiving[...]`).
accept_aliases(
    UpsellType,
    {
        UpsellType.EXPANSION: ("expand", "existing business"),
        UpsellType.UPSELL: ("upgrade",),
        UpsellType.CROSS_SELL: ("add-on", "addon"),
    },
)
accept_aliases(
    UpsellSource,
    {UpsellSource.AMENDMENT: ("amendment",), UpsellSource.MANUAL: ("by hand",)},
)
accept_aliases(
    MeasurementMode,
    {MeasurementMode.AUTOMATIC: ("auto", "automated"), MeasurementMode.MANUAL: ("by hand",)},
)
accept_aliases(
    ProgressStatus,
    {
        ProgressStatus.ON_TRACK: ("on target",),
        ProgressStatus.AT_RISK: ("risk", "at-risk"),
        ProgressStatus.BEHIND: ("off track", "lagging"),
        ProgressStatus.EXCEEDING: ("ahead", "exceeds", "ahead of target"),
    },
)


Email = Field(
    min_length=3, max_length=EMAIL_LENGTH, description="Email of an active csm/leader/admin"
)
CRITERION_NAME_LENGTH = 120
MAX_CRITERIA = 30


class CriterionIn(InputModel):
    """One success criterion asked for; `metricKey` makes it automatic unless told otherwise."""

    name: SingleLine = Field(min_length=1, max_length=CRITERION_NAME_LENGTH)
    type: Forgiving[MetricKind]
    target: Amount = Field(ge=0)
    unit: SingleLine = Field(min_length=1, max_length=32)
    direction: Forgiving[Direction] = Direction.HIGHER
    measurement: Forgiving[MeasurementMode] | None = None
    baseline: Amount | None = Field(None, ge=0)
    metric_key: SingleLine | None = Field(None, max_length=64)


class CriteriaIn(InputModel):
    metrics: list[CriterionIn] = Field(min_length=1, max_length=MAX_CRITERIA)
    checkpoint_days: list[Annotated[int, Field(ge=1, le=MAX_CHECKPOINT_DAY)]] | None = Field(
        None, max_length=20
    )

    @model_validator(mode="after")
    def _valid(self):
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names must be unique")
        try:  # the same day rules as the UI
            PlanChanges(checkpoint_days=self.checkpoint_days)
        except ValidationError as exc:
            raise ValueError(problem_words(exc.errors()[0])) from None
        return self


class MeasurementIn(InputModel):
    success_criteria: CriteriaIn | None = Field(
        None, description="Replaces the template's criteria (and checkpoint days, when given)"
    )
    created_by: SingleLine | None = Field(
        None, min_length=3, max_length=EMAIL_LENGTH, description="Email"
    )


MetricName = Annotated[SingleLine, Field(min_length=1, max_length=CRITERION_NAME_LENGTH)]


class MetricValuesIn(InputModel):
    values: dict[MetricName, Amount] = Field(
        min_length=1, max_length=MAX_CRITERIA, description="{metric name: number}"
    )
    recorded_by: SingleLine = Email
    observed_at: HappenedAt | None = None


class ReviewIn(InputModel):
    checkpoint_day: int | None = Field(None, ge=1, le=MAX_CHECKPOINT_DAY)
    assessment: Forgiving[ProgressStatus]
    findings: MultiLine = Field(min_length=1, max_length=TEXT_LENGTH)
    next_steps: MultiLine | None = Field(None, max_length=TEXT_LENGTH)
    reviewed_by: SingleLine = Email


ProductCode = Annotated[SingleLine, Field(min_length=1, max_length=64)]


class ManualUpsellIn(InputModel):
    customer_id: uuid.UUID
    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    type: Forgiving[UpsellType] = UpsellType.EXPANSION
    arr_increase: Amount = Field(ge=0, description="Zero is a valid no-charge")
    close_date: Day
    products: list[ProductCode] = Field(default_factory=list, max_length=50)
    sales_rep_name: SingleLine | None = Field(None, max_length=120)
    stated_criteria: MultiLine | None = Field(None, max_length=TEXT_LENGTH)
    created_by: SingleLine = Email


# The API's answers: the PRD's UpsellSuccessMeasurement ----------------------------------------


class UpsellDetails(CamelModel):
    opportunity_id: str
    name: str
    type: UpsellType
    arr_increase: JsonNumber
    close_date: date
    products: list[str]
    sales_rep: str | None


class UpsellOut(UpsellDetails):
    id: uuid.UUID
    customer_id: uuid.UUID
    source: str


class CriterionOut(CamelModel):
    name: str
    type: MetricKind
    target: JsonNumber
    unit: str
    measurement: MeasurementMode
    direction: Direction
    baseline: JsonNumber | None
    origin: str
    metric_key: str | None
    target_source: TargetSource | None = Field(
        None,
        description="Where the target came from: template_uplift (the template's uplift on the "
        "baseline), template_level, benchmark, history (similar upsells), stated or csm",
    )
    target_explanation: str | None = Field(None, description="How the target was set, in words")


class CriterionBenchmark(CamelModel):
    """An industry benchmark of one criterion's metric for the customer's industry and segment."""

    criterion: str
    metric_key: str
    industry: str
    segment: Segment
    median: JsonNumber
    top_quartile: JsonNumber
    unit: str


class SuccessCriteria(CamelModel):
    metrics: list[CriterionOut]
    goals: list[str] = Field(
        description="The success criteria the deal stated, a sentence each (its own words); "
        "empty when none were stated"
    )
    benchmarks: list[CriterionBenchmark] = Field(
        description="Industry benchmarks of the criteria's metrics for the customer's industry "
        "and segment (the caps of relative targets)"
    )
    checkpoint_days: list[int]


class MetricProgress(CamelModel):
    name: str
    unit: str | None = None
    baseline: JsonNumber | None = None
    target: JsonNumber | None = None
    current: JsonNumber | None
    current_at: datetime | None = Field(None, description="When the current value was measured")
    progress: JsonNumber | None = Field(description="0-1 of the way from baseline to target")
    expected: JsonNumber | None = Field(description="0-1 expected by now on the adoption curve")
    frequency: MeasurementFrequency | None = Field(
        None, description="daily, weekly or monthly: `current` averages the last 1, 7 or 30 days"
    )
    no_recent_data: bool = Field(
        False, description="The newest value is older than the frequency allows; not counted"
    )


class MilestoneOut(CamelModel):
    """An adoption milestone: a criterion reaching a threshold by a due day."""

    name: str
    criterion: str
    threshold: JsonNumber
    unit: str
    due_day: int
    due_on: date
    status: MilestoneStatus = Field(description="upcoming, completed or overdue")
    reached_on: date | None = Field(description="The day it was first reached (completed only)")


class RoiRealized(CamelModel):
    """Value the plan's money criteria realized to date against the upsell's ARR increase."""

    realized: JsonNumber | None = Field(description="Dollars beyond the baseline since the close")
    arr_increase: JsonNumber
    multiple: JsonNumber | None = Field(description="realized ÷ ARR increase")
    multiple_text: str | None = Field(None, description='The multiple as people read it: "1.6×"')
    window_days: int | None = Field(description="Days from the close to the newest money data")
    text: str = Field(description="The figure in words, or why there is none")
    basis: list[str]


class Progress(CamelModel):
    current_status: ProgressStatus | None
    metrics_progress: list[MetricProgress] = Field(description="Each criterion's progress")
    last_updated: datetime | None = Field(
        description="When the criteria's values or progress last changed (the plan's last "
        "change while it has no criteria)"
    )
    expected: float | None
    actual: float | None = Field(description="Average progress of the metrics with a value")
    metrics: list[MetricProgress] = Field(description="The same as metricsProgress")
    milestones: list[MilestoneOut] = Field(default_factory=list)
    roi_realized: RoiRealized | None = None


class CheckpointOut(CamelModel):
    day: int
    kind: str
    due_on: date
    status: CheckpointStatus
    triggered_at: datetime | None
    doc_url: str | None


class PlanCheckpointOut(CamelModel):
    """A checkpoint of the measurement plan as the PRD names its fields."""

    day: int = Field(description="Days after the plan's start")
    type: str = Field(description="The checkpoint's kind, e.g. day_30")
    title: str = Field(description='Its name in words, e.g. "30-day check"')
    status: CheckpointStatus
    scheduled_date: date
    completed_date: date | None = Field(
        description="The day its review was recorded; null until it is reviewed"
    )


class MeasurementPlan(CamelModel):
    tracking_start: date = Field(description="The day tracking started (the deal's close)")
    checkpoints: list[PlanCheckpointOut]
    dashboard_url: str = Field(description="The plan's page in the web UI (APP_BASE_URL)")


class ReviewOut(CamelModel):
    id: uuid.UUID
    checkpoint_day: int | None
    assessment: ProgressStatus
    findings: str
    next_steps: str | None
    reviewed_by: str | None
    reviewed_at: datetime


class OutcomeOut(CamelModel):
    status: OutcomeStatus | None = Field(description="The decided outcome; null while proposed")
    evidence: list[str] = Field(description="What the data showed at the final checkpoint")
    lessons_learned: list[str] = Field(
        description="What people wrote when deciding: the reason for overriding the proposal, "
        "then the findings and next steps of the plan's last review"
    )
    documented_at: datetime = Field(description="When it was decided, else proposed")
    proposed_status: OutcomeStatus
    reasons: list[str] = Field(description="The same as evidence")


class SuccessMeasurement(CamelModel):
    """The PRD's UpsellSuccessMeasurement, with a few extras (ids, status, flat checkpoints)."""

    id: uuid.UUID
    upsell_id: uuid.UUID
    customer_id: uuid.UUID
    status: Literal["active", "completed", "cancelled"]
    upsell_details: UpsellDetails
    success_criteria: SuccessCriteria
    measurement_plan: MeasurementPlan
    progress: Progress
    checkpoints: list[CheckpointOut]
    reviews: list[ReviewOut]
    outcome: OutcomeOut | None = Field(description="Null until proposed at the final checkpoint")
    predicted_success: JsonNumber | None = Field(description="0-100 chance of success")
    created_at: datetime = Field(description="When the plan was created")


# A plan as customized, plan latency and overdue checkpoints -----------------------------------


class PlanMetric(CamelModel):
    """One criterion of a plan."""

    id: uuid.UUID
    name: str
    metric_key: str | None
    type: MetricKind
    unit: str
    direction: Direction
    measurement: MeasurementMode
    baseline: Decimal | None
    target: Decimal
    target_source: TargetSource | None = None
    target_explanation: str | None = None
    origin: str
    position: int


class PlanCheckpoint(CamelModel):
    """One checkpoint of a plan."""

    day: int
    kind: str
    due_on: date
    status: CheckpointStatus


class Plan(CamelModel):
    """A measurement plan with its criteria and checkpoints."""

    id: uuid.UUID
    upsell_id: uuid.UUID
    started_on: date
    horizon_days: int
    predicted_success: Decimal | None
    prediction_basis: dict
    health_before: Decimal | None
    planned_products: list[str]
    removed_metrics: list[str]
    plan_notes: list
    version: int
    created_at: datetime
    metrics: list[PlanMetric]
    checkpoints: list[PlanCheckpoint]


class PlanLatencyRow(CamelModel):
    """How long one upsell waited for its plan after the deal closed (or has waited so far)."""

    measurement_id: uuid.UUID | None
    upsell_id: uuid.UUID
    customer_name: str
    upsell_name: str
    closed_at: datetime
    planned_at: datetime | None
    hours: float


class PlanLatency(CamelModel):
    """Plan latency per upsell, coverage (plans ÷ upsells) and the share planned within 48 h of
    the close (of the upsells planned or past their 48 h: `due`)."""

    rows: list[PlanLatencyRow]
    upsells: int
    planned: int
    due: int
    coverage: float
    within_48h: int
    within_48h_share: float | None
    median_hours: float | None
    p90_hours: float | None


class OverdueCheckpoint(BaseModel):
    """A checkpoint whose review is more than a week late."""

    checkpoint_id: uuid.UUID
    measurement_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    upsell_name: str
    day: int
    title: str
    due_on: date
    overdue_since: date = Field(description="The day the review was due")
    days_overdue: int
    csm_id: uuid.UUID | None
    csm_name: str | None
    doc_url: str | None
