"""Requests and the UpsellSuccessMeasurement read model of the upsell API (camelCase in JSON)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Direction
from core.customers.models import MetricKind
from core.errors import NotFound
from core.schemas import AMOUNT_LIMIT, CamelModel, InputModel, JsonNumber, as_uuid
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementMetric,
    MeasurementMode,
    Outcome,
    OutcomeStatus,
    ProgressStatus,
    Review,
    Upsell,
    UpsellProduct,
    UpsellType,
)
from core.upsell.schemas import PlanChanges

Email = Field(min_length=3, max_length=254, description="Email of an active csm/leader/admin")


class CriterionIn(InputModel):
    """One success criterion asked for; `metricKey` makes it automatic unless told otherwise."""

    name: str = Field(min_length=1, max_length=120)
    type: MetricKind
    target: Decimal = Field(ge=0, lt=AMOUNT_LIMIT)
    unit: str = Field(min_length=1, max_length=32)
    direction: Direction = Direction.HIGHER
    measurement: MeasurementMode | None = None
    baseline: Decimal | None = Field(None, ge=0, lt=AMOUNT_LIMIT)
    metric_key: str | None = Field(None, max_length=64)


class CriteriaIn(InputModel):
    metrics: list[CriterionIn] = Field(min_length=1, max_length=30)
    checkpoint_days: list[int] | None = None

    @model_validator(mode="after")
    def _valid(self):
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names must be unique")
        try:  # the same day rules as the UI
            PlanChanges(checkpoint_days=self.checkpoint_days)
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self


class MeasurementIn(InputModel):
    success_criteria: CriteriaIn | None = Field(
        None, description="Replaces the template's criteria (and checkpoint days, when given)"
    )
    created_by: str | None = Field(None, min_length=3, max_length=254, description="Email")


class MetricValuesIn(InputModel):
    values: dict[str, Decimal] = Field(min_length=1, description="{metric name: number}")
    recorded_by: str = Email
    observed_at: AwareDatetime | None = None

    @field_validator("observed_at")
    @classmethod
    def _past(cls, value):
        if value is not None and value > datetime.now(UTC) + timedelta(minutes=5):
            raise ValueError("must not be in the future")
        return value


class ReviewIn(InputModel):
    checkpoint_day: int | None = Field(None, ge=1, le=730)
    assessment: ProgressStatus
    findings: str = Field(min_length=1, max_length=5000)
    next_steps: str | None = Field(None, max_length=5000)
    reviewed_by: str = Email


class ManualUpsellIn(InputModel):
    customer_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    type: UpsellType = UpsellType.EXPANSION
    arr_increase: Decimal = Field(ge=0, lt=AMOUNT_LIMIT, description="Zero is a valid no-charge")
    close_date: date
    products: list[str] = Field(default_factory=list, max_length=50)
    sales_rep_name: str | None = Field(None, max_length=120)
    stated_criteria: str | None = Field(None, max_length=5000)
    created_by: str = Email


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


class SuccessCriteria(CamelModel):
    metrics: list[CriterionOut]
    checkpoint_days: list[int]


class MetricProgress(CamelModel):
    name: str
    current: JsonNumber | None
    progress: JsonNumber | None = Field(description="0-1 of the way from baseline to target")
    expected: JsonNumber | None = Field(description="0-1 expected by now on the adoption curve")


class Progress(CamelModel):
    current_status: ProgressStatus | None
    expected: float | None
    actual: float | None = Field(description="Average progress of the metrics with a value")
    metrics: list[MetricProgress]


class CheckpointOut(CamelModel):
    day: int
    kind: str
    due_on: date
    status: CheckpointStatus
    triggered_at: datetime | None
    doc_url: str | None


class ReviewOut(CamelModel):
    id: uuid.UUID
    checkpoint_day: int | None
    assessment: ProgressStatus
    findings: str
    next_steps: str | None
    reviewed_by: str | None
    reviewed_at: datetime


class OutcomeOut(CamelModel):
    status: OutcomeStatus | None
    proposed_status: OutcomeStatus
    reasons: list[str]


class SuccessMeasurement(CamelModel):
    """The PRD's UpsellSuccessMeasurement."""

    id: uuid.UUID
    upsell_id: uuid.UUID
    customer_id: uuid.UUID
    status: Literal["active", "completed", "cancelled"]
    upsell_details: UpsellDetails
    success_criteria: SuccessCriteria
    progress: Progress
    checkpoints: list[CheckpointOut]
    reviews: list[ReviewOut]
    outcome: OutcomeOut | None
    predicted_success: JsonNumber | None = Field(description="0-100 chance of success")


# Loaders (kept beside the read model they fill; the routes stay thin) ----------------------


def upsell_for(*, session: Session, ref: str) -> Upsell:
    """Return the upsell `ref` names: our UUID first, else the opportunity id; NotFound."""
    parsed = as_uuid(ref)
    found = (session.get(Upsell, parsed) if parsed else None) or session.scalar(
        select(Upsell).where(Upsell.opportunity_id == ref)
    )
    if found is None:
        raise NotFound(f"No upsell '{ref}'.")
    return found


def plan_id_for(*, session: Session, upsell: Upsell) -> uuid.UUID:
    """Return the id of the upsell's measurement plan; NotFound before it has one."""
    found = session.scalar(select(Measurement.id).where(Measurement.upsell_id == upsell.id))
    if found is None:
        raise NotFound(f"Upsell '{upsell.opportunity_id}' has no measurement plan yet.")
    return found


def _details(session: Session, upsell: Upsell) -> UpsellDetails:
    stmt = select(UpsellProduct.product_code).where(UpsellProduct.upsell_id == upsell.id)
    return UpsellDetails(
        opportunity_id=upsell.opportunity_id,
        name=upsell.name,
        type=upsell.type,
        arr_increase=upsell.arr_increase,
        close_date=upsell.close_date,
        products=sorted(session.scalars(stmt)),
        sales_rep=upsell.sales_rep_name,
    )


def upsell_out(*, session: Session, upsell: Upsell) -> UpsellOut:
    """Return an upsell with its products."""
    details = _details(session, upsell).model_dump()
    return UpsellOut(
        **details, id=upsell.id, customer_id=upsell.customer_id, source=str(upsell.source)
    )


def _progress(plan: Measurement, metrics: list[MeasurementMetric]) -> Progress:
    known = [float(m.progress) for m in metrics if m.progress is not None]
    expected = next((float(m.expected) for m in metrics if m.expected is not None), None)
    return Progress(
        current_status=plan.progress_status,
        expected=expected,
        actual=round(sum(known) / len(known), 4) if known else None,
        metrics=[MetricProgress.model_validate(m) for m in metrics],
    )


def measurement_view(*, session: Session, measurement_id: uuid.UUID) -> SuccessMeasurement:
    """Return one plan as the PRD's UpsellSuccessMeasurement."""
    plan = session.get(Measurement, measurement_id, populate_existing=True)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    upsell = session.get(Upsell, plan.upsell_id)
    metrics = list(
        session.scalars(
            select(MeasurementMetric)
            .where(MeasurementMetric.measurement_id == plan.id)
            .order_by(MeasurementMetric.position, MeasurementMetric.name)
            .execution_options(populate_existing=True)
        )
    )
    checkpoints = list(
        session.scalars(
            select(Checkpoint).where(Checkpoint.measurement_id == plan.id).order_by(Checkpoint.day)
        )
    )
    reviews = session.execute(
        select(Review, Checkpoint.day, User.email)
        .outerjoin(Checkpoint, Checkpoint.id == Review.checkpoint_id)
        .outerjoin(User, User.id == Review.reviewer_id)
        .where(Review.measurement_id == plan.id)
        .order_by(Review.reviewed_at)
    ).all()
    outcome = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    return SuccessMeasurement(
        id=plan.id,
        upsell_id=upsell.id,
        customer_id=plan.customer_id,
        status=plan.status.value,
        upsell_details=_details(session, upsell),
        success_criteria=SuccessCriteria(
            metrics=[CriterionOut.model_validate(m) for m in metrics],
            checkpoint_days=[c.day for c in checkpoints],
        ),
        progress=_progress(plan, metrics),
        checkpoints=[CheckpointOut.model_validate(c) for c in checkpoints],
        reviews=[
            ReviewOut(
                id=r.id,
                checkpoint_day=day,
                assessment=r.assessment,
                findings=r.findings,
                next_steps=r.next_steps,
                reviewed_by=email,
                reviewed_at=r.reviewed_at,
            )
            for r, day, email in reviews
        ],
        outcome=outcome
        and OutcomeOut(
            status=outcome.status,
            proposed_status=outcome.proposed_status,
            reasons=[str(x) for x in outcome.proposed_reasons],
        ),
        predicted_success=plan.predicted_success,
    )


def criteria_changes(view: SuccessMeasurement, wanted: CriteriaIn) -> list[dict]:
    """Return the MetricChange list turning the plan's criteria into `wanted` (empty if equal)."""
    have = {m.name: m for m in view.success_criteria.metrics}
    changes: list[dict] = [
        {"action": "remove", "name": n} for n in have if n not in {w.name for w in wanted.metrics}
    ]
    for w in wanted.metrics:
        spec = w.model_dump(exclude_none=True)
        spec.setdefault("measurement", "automatic" if w.metric_key else "manual")
        old = have.get(w.name)
        if old is None:
            changes.append({"action": "add", **spec})
            continue
        # Fields left out (a baseline, say) keep what the plan worked out.
        if any(getattr(old, f) != v for f, v in spec.items()):
            changes.append({"action": "update", **spec})
    return changes
