"""Closed upsells, success templates and the measurement plans that follow them."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import (
    Amount,
    Base,
    Direction,
    Money,
    Score,
    Segment,
    Timestamps,
    UUIDPk,
    enum_column,
    tz,
)
from core.customers.models import MetricKind


class UpsellSource(enum.StrEnum):
    SALESFORCE = "salesforce"
    AMENDMENT = "contract_amendment"
    MANUAL = "manual"


class UpsellType(enum.StrEnum):
    EXPANSION = "expansion"
    UPSELL = "upsell"
    CROSS_SELL = "cross_sell"


class MeasurementStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProgressStatus(enum.StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"
    EXCEEDING = "exceeding"


class MeasurementMode(enum.StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class TargetSource(enum.StrEnum):
    """Where a criterion's target came from (the rules are in core/upsell/target_rules.py)."""

    TEMPLATE_UPLIFT = "template_uplift"
    TEMPLATE_LEVEL = "template_level"
    BENCHMARK = "benchmark"
    HISTORY = "history"
    STATED = "stated"
    CSM = "csm"


class CheckpointStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    TRIGGERED = "triggered"
    OVERDUE = "overdue"
    REVIEWED = "reviewed"
    SKIPPED = "skipped"


class OutcomeStatus(enum.StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    AT_RISK = "at_risk"
    FAILED = "failed"
    # Written by the app, never chosen: nobody decided within the grace period (see lifecycle.py).
    NO_DECISION = "no_decision"


class MeasurementFrequency(enum.StrEnum):
    """How often a plan's metric is measured; its current value averages that window."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class MilestoneStatus(enum.StrEnum):
    UPCOMING = "upcoming"
    COMPLETED = "completed"
    OVERDUE = "overdue"


class Product(Base):
    """A product that can be sold as an expansion."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    family: Mapped[str | None] = mapped_column(String(64))
    list_price: Mapped[Decimal | None] = mapped_column(Money)


class SuccessTemplate(UUIDPk, Timestamps, Base):
    """What success looks like for one product: metric definitions and checkpoint days."""

    __tablename__ = "success_templates"

    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"), unique=True)
    # [{name, metricKey, type, unit, direction, measurement, uplift, target}]: `uplift` (a share,
    # or one per segment) moves the baseline; `target` is the level used without a baseline and
    # the fixed target of 0/1 "met" criteria (core/upsell/target_rules.py).
    metrics: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    checkpoint_days: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=lambda: [30, 60, 90], server_default="{30,60,90}"
    )
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Adoption milestones: [{name, metricKey | criterion, threshold | share, dueDay}] (admins edit).
    milestones: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class IndustryBenchmark(UUIDPk, Base):
    """A reference value for a metric in an industry and segment."""

    __tablename__ = "industry_benchmarks"
    __table_args__ = (UniqueConstraint("industry", "segment", "metric_key"),)

    industry: Mapped[str] = mapped_column(String(80))
    segment: Mapped[Segment] = mapped_column(enum_column(Segment, "benchmark_segment"))
    metric_key: Mapped[str] = mapped_column(ForeignKey("metrics.key"))
    median: Mapped[Decimal] = mapped_column(Amount)
    top_quartile: Mapped[Decimal] = mapped_column(Amount)


class Upsell(UUIDPk, Timestamps, Base):
    """A closed expansion opportunity (from Salesforce, an amendment or entered by hand)."""

    __tablename__ = "upsells"
    __table_args__ = (CheckConstraint("arr_increase >= 0", name="arr_increase_not_negative"),)

    opportunity_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[UpsellSource] = mapped_column(enum_column(UpsellSource, "upsell_source"))
    type: Mapped[UpsellType] = mapped_column(enum_column(UpsellType, "upsell_type"))
    name: Mapped[str] = mapped_column(String(200))
    arr_increase: Mapped[Decimal] = mapped_column(Money)
    close_date: Mapped[date] = mapped_column(Date, index=True)
    sales_rep_name: Mapped[str | None] = mapped_column(String(120))
    sales_rep_email: Mapped[str | None] = mapped_column(String(254))
    stated_criteria: Mapped[str | None] = mapped_column(Text)
    amended_at: Mapped[datetime | None] = mapped_column(tz())
    source_modified_at: Mapped[datetime | None] = mapped_column(tz())
    # When a contract amendment last gave ARR back; the amounts are in upsell_amendments.
    contracted_at: Mapped[datetime | None] = mapped_column(tz())


class UpsellAmendment(UUIDPk, Base):
    """A signed contract amendment, applied once: positive expands, negative contracts."""

    __tablename__ = "upsell_amendments"

    amendment_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    upsell_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("upsells.id", ondelete="CASCADE"), index=True
    )
    arr_change: Mapped[Decimal] = mapped_column(Money)
    signed_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    source_modified_at: Mapped[datetime | None] = mapped_column(tz())
    created_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())


class UpsellProduct(UUIDPk, Base):
    """A line item of an upsell."""

    __tablename__ = "upsell_products"
    __table_args__ = (UniqueConstraint("upsell_id", "product_code"),)

    upsell_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("upsells.id", ondelete="CASCADE"))
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    arr: Mapped[Decimal] = mapped_column(Money)


class Measurement(UUIDPk, Timestamps, Base):
    """The success-measurement plan of one upsell (one per opportunity)."""

    __tablename__ = "upsell_measurements"

    upsell_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("upsells.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[MeasurementStatus] = mapped_column(
        enum_column(MeasurementStatus, "measurement_status"), default=MeasurementStatus.ACTIVE
    )
    progress_status: Mapped[ProgressStatus | None] = mapped_column(
        enum_column(ProgressStatus, "progress_status")
    )
    alerted_status: Mapped[ProgressStatus | None] = mapped_column(
        enum_column(ProgressStatus, "alerted_status")
    )
    started_on: Mapped[date] = mapped_column(Date)
    horizon_days: Mapped[int] = mapped_column(Integer, default=90)
    predicted_success: Mapped[Decimal | None] = mapped_column(Score)
    prediction_basis: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    health_before: Mapped[Decimal | None] = mapped_column(Score)
    health_after: Mapped[Decimal | None] = mapped_column(Score)
    evaluated_at: Mapped[datetime | None] = mapped_column(tz())
    # Re-planning: the products the plan was built from, what the CSM removed, and a request.
    planned_products: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), default=list, server_default="{}"
    )
    removed_metrics: Mapped[list[str]] = mapped_column(
        ARRAY(String(120)), default=list, server_default="{}"
    )
    replan_requested_at: Mapped[datetime | None] = mapped_column(tz())
    # When the adoption milestones were laid out (once per plan; see core/upsell/milestones.py).
    milestones_planned_at: Mapped[datetime | None] = mapped_column(tz())
    plan_notes: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class MeasurementMetric(UUIDPk, Timestamps, Base):
    """One success criterion of a plan with its baseline, target and latest value."""

    __tablename__ = "measurement_metrics"
    __table_args__ = (UniqueConstraint("measurement_id", "name"),)

    measurement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("upsell_measurements.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(120))
    metric_key: Mapped[str | None] = mapped_column(ForeignKey("metrics.key"))
    type: Mapped[MetricKind] = mapped_column(enum_column(MetricKind, "criterion_type"))
    unit: Mapped[str] = mapped_column(String(32))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "criterion_direction"))
    measurement: Mapped[MeasurementMode] = mapped_column(
        enum_column(MeasurementMode, "measurement_mode")
    )
    baseline: Mapped[Decimal | None] = mapped_column(Amount)
    target: Mapped[Decimal] = mapped_column(Amount)
    current: Mapped[Decimal | None] = mapped_column(Amount)
    current_at: Mapped[datetime | None] = mapped_column(tz())
    progress: Mapped[Decimal | None] = mapped_column(Amount)
    expected: Mapped[Decimal | None] = mapped_column(Amount)
    origin: Mapped[str] = mapped_column(String(32), default="template")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Where the target came from and why, in plain words; None on rows drafted elsewhere.
    target_source: Mapped[TargetSource | None] = mapped_column(
        enum_column(TargetSource, "target_source")
    )
    target_explanation: Mapped[str | None] = mapped_column(Text)
    # None until the tracking pass stores the default for the metric's kind (core/upsell/frequency).
    frequency: Mapped[MeasurementFrequency | None] = mapped_column(
        enum_column(MeasurementFrequency, "measurement_frequency")
    )


class PlanMilestone(UUIDPk, Timestamps, Base):
    """An adoption milestone of a plan: a criterion reaching a threshold by a due day."""

    __tablename__ = "plan_milestones"
    __table_args__ = (UniqueConstraint("measurement_id", "name"),)

    measurement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("upsell_measurements.id", ondelete="CASCADE"), index=True
    )
    metric_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("measurement_metrics.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[Decimal] = mapped_column(Amount)
    due_day: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(
        enum_column(MilestoneStatus, "milestone_status"), default=MilestoneStatus.UPCOMING
    )
    reached_on: Mapped[date | None] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(32), default="template")
    position: Mapped[int] = mapped_column(Integer, default=0)


class MetricReading(UUIDPk, Base):
    """A value a person recorded for a manually measured criterion (its history, by time)."""

    __tablename__ = "measurement_readings"
    __table_args__ = (UniqueConstraint("metric_id", "observed_at"),)

    metric_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("measurement_metrics.id", ondelete="CASCADE")
    )
    observed_at: Mapped[datetime] = mapped_column(tz())
    value: Mapped[Decimal] = mapped_column(Amount)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())


class Checkpoint(UUIDPk, Timestamps, Base):
    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("measurement_id", "day"),)

    measurement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("upsell_measurements.id", ondelete="CASCADE")
    )
    day: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(48))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[CheckpointStatus] = mapped_column(
        enum_column(CheckpointStatus, "checkpoint_status"), default=CheckpointStatus.SCHEDULED
    )
    triggered_at: Mapped[datetime | None] = mapped_column(tz())
    summary: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    doc_url: Mapped[str | None] = mapped_column(String(500))
    calendar_event_id: Mapped[str | None] = mapped_column(String(200))
    # The review is due 7 days after the checkpoint was prepared; later it is overdue since then.
    review_due_on: Mapped[date | None] = mapped_column(Date)
    # When the CSM was told (once) that the review is overdue.
    escalated_at: Mapped[datetime | None] = mapped_column(tz())


class Review(UUIDPk, Timestamps, Base):
    """A review the CSM recorded at (or between) checkpoints."""

    __tablename__ = "upsell_reviews"

    measurement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("upsell_measurements.id", ondelete="CASCADE"), index=True
    )
    # Indexed: the outcome report finds each plan's review at its day-30 and day-90 checkpoints.
    checkpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("checkpoints.id"), index=True
    )
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    assessment: Mapped[ProgressStatus] = mapped_column(
        enum_column(ProgressStatus, "review_assessment")
    )
    findings: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())


class Outcome(UUIDPk, Timestamps, Base):
    """The proposed and the confirmed outcome of a plan."""

    __tablename__ = "upsell_outcomes"

    measurement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("upsell_measurements.id", ondelete="CASCADE"), unique=True
    )
    proposed_status: Mapped[OutcomeStatus] = mapped_column(
        enum_column(OutcomeStatus, "proposed_outcome")
    )
    proposed_reasons: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    status: Mapped[OutcomeStatus | None] = mapped_column(enum_column(OutcomeStatus, "outcome"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    override_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(tz())
    # Undecided after this day, the plan closes as "no decision" (core/upsell/lifecycle.py).
    decide_by: Mapped[date | None] = mapped_column(Date)


class OutcomeSnapshot(Base):
    """The outcome report of every plan, stored by each upsell tracking pass and read from here."""

    __tablename__ = "outcome_snapshots"

    # What the report covers; "all" is every plan, unfiltered (the only one stored so far).
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    analysis: Mapped[dict] = mapped_column(JSONB)  # core.upsell.analysis_schemas.Analysis
    # [PlanPrediction]: the active plans least likely to succeed, lowest first (a page of them)
    predictions: Mapped[list] = mapped_column(JSONB)
    active_plans: Mapped[int] = mapped_column(Integer)  # how many active plans there are in all
    computed_at: Mapped[datetime] = mapped_column(tz())
