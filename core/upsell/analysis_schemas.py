"""Read models of the upsell outcome analysis: groups, signals, calibration, KPIs, predictions."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import (
    Field,
)

from core.schemas import (
    CamelModel,
)


class Group(CamelModel):
    """Outcome figures of one group of plans (or of all of them)."""

    dimension: str | None
    value: str | None
    plans: int
    decided: int
    mix: dict[str, int]
    success_rate: float | None
    churn_rate: float | None = Field(
        description="Year-1 churn of expanded ARR: lost within 12 months of close ÷ expanded, "
        "over plans whose upsell closed 12+ months ago (None when none did)"
    )
    value_realization: float | None
    churned: int = Field(description="Expansions that lost ARR within their first year")
    churn_known: int = Field(description="Plans whose upsell closed 12 or more months ago")
    churn_unknown: int = Field(description="Plans younger than 12 months: churn not yet known")
    expanded_arr: float = Field(description="Expanded ARR of the churn_known plans")
    churned_arr: float = Field(description="Of it, ARR lost to churn or contraction in year 1")
    metrics: int
    met: int
    median_days_to_value: float | None


class Signal(CamelModel):
    """How plans in one 30-day state ended: {outcome: count}."""

    signal: str
    outcomes: dict[str, int]
    total: int
    success_rate: float | None


class Bucket(CamelModel):
    """Predicted vs realized success of confirmed plans whose prediction fell in [low, high)."""

    low: int
    high: int
    plans: int
    predicted: float
    actual: float


class KpiBin(CamelModel):
    """One bar of a KPI's distribution."""

    label: str
    count: int


class KpiRow(CamelModel):
    """An upsell or plan behind a KPI: late or missing plan, or a plan not tracked in time."""

    kind: Literal["late", "unplanned", "untracked"]
    measurement_id: uuid.UUID | None
    upsell_id: uuid.UUID
    customer_name: str
    upsell_name: str
    since: date  # the close date (plan latency) or the first checkpoint day (tracking)
    hours: float | None = None  # close to plan, or waited so far
    metrics: list[str] = []  # the plan's metrics without data by its first checkpoint


class Kpi(CamelModel):
    """A PRD success metric with its target and whether it is met (None when no data).

    Where it helps, the counts behind the share (`numerator` of `denominator`), a distribution
    (`bins`, 50th/90th percentiles in hours) and the first rows that hold it back (`rows`, of
    `rows_total`)."""

    key: str
    label: str
    value: float | None
    target: float
    higher_is_better: bool = True
    met: bool | None
    detail: str
    numerator: int | None = None
    denominator: int | None = None
    bins: list[KpiBin] = []
    p50_hours: float | None = None
    p90_hours: float | None = None
    rows: list[KpiRow] = []
    rows_total: int = 0


class Analysis(CamelModel):
    """Everything the outcomes report shows."""

    overall: Group
    breakdowns: dict[str, list[Group]]
    signals: list[Signal]
    on_track_at_30_success: float | None
    behind_at_30_success: float | None
    calibration: list[Bucket] = Field(description="Confirmed outcomes only")
    scored_outcomes: int = Field(description="Confirmed outcomes with a prediction")
    min_scored_outcomes: int = Field(description="Needed before Brier and skill are given")
    scored_base_rate: float | None = Field(description="Share of the scored plans that succeeded")
    brier_score: float | None = Field(None, description="Mean squared error; 0 is perfect")
    brier_reference: float | None = Field(None, description="Brier of the base-rate forecast")
    brier_skill: float | None = Field(None, description="1 − brier ÷ reference; > 0 beats it")
    kpis: list[Kpi]
    latency_median_hours: float | None
    computed_at: datetime | None = Field(
        None,
        description="When these figures were computed: the upsell tracking pass that stored "
        "them for a read without filters, else the request",
    )


class PlanPrediction(CamelModel):
    """An active plan's predicted chance of success and what it rests on."""

    measurement_id: uuid.UUID
    customer: str
    upsell: str
    predicted_success: Decimal | None
    basis: dict


class OutcomeReport(CamelModel):
    """The outcome report and the active plans least likely to succeed, as of `computed_at`."""

    analysis: Analysis
    predictions: list[PlanPrediction]  # lowest chance first, at most a page of them
    active_plans: int  # how many active plans there are in all
    computed_at: datetime
