"""Products, success templates and industry benchmarks as the API and the set-up page see them."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from core.base import Direction, Segment
from core.customers.models import MetricKind
from core.schemas import Amount, CamelModel, Forgiving, InputModel, JsonNumber, SingleLine
from core.upsell.models import MeasurementMode

PRODUCT_NAME_LENGTH = 120  # products.name
FAMILY_LENGTH = 64  # products.family
CODE_LENGTH = 64  # products.code
CRITERION_NAME_LENGTH = 120  # measurement_metrics.name
MILESTONE_NAME_LENGTH = 200  # plan_milestones.name
INDUSTRY_LENGTH = 80  # industry_benchmarks.industry
MAX_CRITERIA = 20
MAX_MILESTONES = 20
MAX_CHECKPOINTS = 12
LAST_DAY = 365
MAX_UPLIFT = Decimal(10)  # +1,000%: anything beyond is a typo for a share

# A change relative to the baseline at close: 0.15 = 15% beyond it (up or down, by direction).
Share = Annotated[
    Decimal,
    Field(gt=0, le=MAX_UPLIFT, decimal_places=4, allow_inf_nan=False),
]
CheckpointDay = Annotated[int, Field(ge=1, le=LAST_DAY)]


class ProductIn(InputModel):
    """A product sold as an expansion; optional fields left out keep their stored value."""

    name: SingleLine = Field(min_length=1, max_length=PRODUCT_NAME_LENGTH)
    family: SingleLine | None = Field(None, max_length=FAMILY_LENGTH)
    list_price: Decimal | None = Field(
        None,
        ge=0,
        lt=Decimal("1e12"),
        decimal_places=2,
        allow_inf_nan=False,
        description="Yearly list price in dollars",
    )


class ProductOut(CamelModel):
    code: str
    name: str
    family: str | None
    list_price: JsonNumber | None
    has_template: bool


class CriterionIn(InputModel):
    """One success criterion of a template: what to measure and how far beyond the baseline."""

    name: SingleLine = Field(min_length=1, max_length=CRITERION_NAME_LENGTH)
    metric_key: SingleLine | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="A metric of the catalogue, read from usage; leave out for a criterion "
        "measured by hand",
    )
    type: Forgiving[MetricKind] | None = Field(
        None, description="The metric's kind (taken from it); outcome by default when by hand"
    )
    unit: SingleLine | None = Field(
        None,
        min_length=1,
        max_length=32,
        description="The metric's unit (taken from it); required when by hand; 'met' for a "
        "met-or-not (0/1) criterion",
    )
    direction: Forgiving[Direction] | None = Field(
        None, description="The metric's direction (taken from it); higher_is_better by default"
    )
    measurement: Forgiving[MeasurementMode] | None = Field(
        None, description="automatic with a metricKey, manual without (the defaults)"
    )
    uplift: Share | None = Field(
        None,
        description="The target's distance from the customer's baseline at close for every "
        "segment, as a share: 0.15 = 15% better (higher, or lower for a lower-is-better "
        "metric). Left out: the segment's default (25/20/15%)",
    )
    uplift_by_segment: dict[Forgiving[Segment], Share] | None = Field(
        None,
        min_length=1,
        description="The uplift per segment instead, e.g. {smb: 0.3, mid_market: 0.2, "
        "enterprise: 0.15}; a segment left out gets its default",
    )
    target: Amount | None = Field(
        None,
        description="A level in the metric's unit: the target when there is no baseline (by "
        "hand, no usage before close) unless similar upsells or a benchmark say more; the fixed "
        "target (1) of a met-or-not criterion. Required when measured by hand",
    )


class CriterionOut(CamelModel):
    name: str
    metric_key: str | None
    type: MetricKind
    unit: str
    direction: Direction
    measurement: MeasurementMode
    uplift: JsonNumber | None
    uplift_by_segment: dict[Segment, JsonNumber] | None
    target: JsonNumber | None


class TemplateMilestoneIn(InputModel):
    """An adoption milestone every plan of the product gets: a criterion reaching a level."""

    name: SingleLine | None = Field(
        None,
        max_length=MILESTONE_NAME_LENGTH,
        description="Left out: named by what it asks ('Automation runs reaches 300 runs/day')",
    )
    criterion: SingleLine | None = Field(
        None, max_length=CRITERION_NAME_LENGTH, description="The name of a criterion above"
    )
    metric_key: SingleLine | None = Field(
        None, max_length=64, description="Or the metric a criterion above reads"
    )
    threshold: Amount | None = Field(None, description="The level to reach, in its unit")
    share: Decimal | None = Field(
        None,
        gt=0,
        le=1,
        decimal_places=4,
        allow_inf_nan=False,
        description="Or the share of the way from baseline to target (0.5 = halfway)",
    )
    due_day: int = Field(ge=1, le=LAST_DAY, description="Days after the close")


class TemplateMilestoneOut(CamelModel):
    name: str | None
    criterion: str | None
    metric_key: str | None
    threshold: JsonNumber | None
    share: JsonNumber | None
    due_day: int


class SuccessTemplateIn(InputModel):
    """What success looks like for one product: criteria, checkpoint days and milestones."""

    criteria: list[CriterionIn] = Field(min_length=1, max_length=MAX_CRITERIA)
    checkpoint_days: list[CheckpointDay] = Field(
        min_length=1,
        max_length=MAX_CHECKPOINTS,
        description="Days after the close a review is due (1-365); stored sorted, without "
        "repeats; the last one is the plan's horizon",
    )
    milestones: list[TemplateMilestoneIn] = Field(default_factory=list, max_length=MAX_MILESTONES)
    version: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="The version you read: required to change an existing template, left out "
        "to create one; a stale version answers 409",
    )


class SuccessTemplateOut(CamelModel):
    product_code: str
    product_name: str
    criteria: list[CriterionOut]
    checkpoint_days: list[int]
    milestones: list[TemplateMilestoneOut]
    version: int
    updated_at: datetime
    updated_by: str | None = Field(description="The email of the person who saved it last")


class BenchmarkIn(InputModel):
    """An industry's reference values of one metric for one segment, in the metric's unit."""

    median: Amount
    top_quartile: Amount = Field(
        description="The better-performing quarter's threshold: not below the median when "
        "higher is better, not above it when lower is better"
    )


class BenchmarkOut(CamelModel):
    id: uuid.UUID
    industry: str
    segment: Segment
    metric_key: str
    metric_name: str
    unit: str
    direction: Direction
    is_money: bool
    median: JsonNumber
    top_quartile: JsonNumber
