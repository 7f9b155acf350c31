"""Read models of the Upsell progress page: the plan list and one plan's detail."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Direction, Role
from core.customers.models import Customer
from core.errors import Invalid, NotFound
from core.upsell import curve
from core.upsell.models import (
    Checkpoint,
    Measurement,
    MeasurementMetric,
    MeasurementMode,
    MeasurementStatus,
    Outcome,
    ProgressStatus,
    Review,
    Upsell,
)

SERIES_LEAD_DAYS = 30
METRIC_FIELDS = (
    "id",
    "name",
    "metric_key",
    "unit",
    "direction",
    "measurement",
    "origin",
    "baseline",
    "target",
    "current",
    "current_at",
    "progress",
    "expected",
)
REVIEW_FIELDS = ("id", "reviewed_at", "assessment", "findings", "next_steps")
PLANS = text(
    """
    SELECT m.id, m.status, m.progress_status, m.predicted_success, m.version,
           c.id AS customer_id, c.name AS customer_name, u.name AS upsell_name,
           u.arr_increase, u.close_date, (:today - u.close_date) AS days_since_close,
           coalesce((SELECT array_agg(coalesce(p.name, up.product_code) ORDER BY p.name)
                       FROM upsell_products up LEFT JOIN products p ON p.code = up.product_code
                      WHERE up.upsell_id = u.id), '{}') AS products,
           nc.day AS next_day, nc.due_on AS next_due,
           (SELECT count(*) FROM checkpoints x
             WHERE x.measurement_id = m.id AND x.status = 'overdue') AS overdue
      FROM upsell_measurements m
      JOIN upsells u ON u.id = m.upsell_id
      JOIN customers c ON c.id = m.customer_id
      LEFT JOIN LATERAL (SELECT k.day, k.due_on FROM checkpoints k
                          WHERE k.measurement_id = m.id
                            AND k.status NOT IN ('reviewed', 'skipped')
                          ORDER BY k.day LIMIT 1) nc ON true
     WHERE (CAST(:csm AS uuid) IS NULL OR c.owner_csm_id = CAST(:csm AS uuid))
       AND (CAST(:progress AS text) IS NULL OR m.progress_status::text = :progress)
       AND (CAST(:state AS text) IS NULL OR m.status::text = :state)
     ORDER BY overdue DESC, nc.due_on NULLS LAST, u.close_date DESC, c.name
    """
)
SERIES = text(
    """
    SELECT metric_key, (observed_at AT TIME ZONE 'UTC')::date AS day, avg(value) AS value
      FROM metric_observations
     WHERE customer_id = :customer AND metric_key = ANY(:keys)
       AND observed_at >= CAST(:since AS date)::timestamp AT TIME ZONE 'UTC'
     GROUP BY 1, 2 ORDER BY 1, 2
    """
)


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
    next_day: int | None
    next_due: date | None
    overdue: int


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
    current: Decimal | None
    current_at: datetime | None
    progress: Decimal | None
    expected: Decimal | None
    series: list[Point]
    expected_curve: list[Point]


class CheckpointView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: int
    due_on: date
    status: str
    doc_url: str | None
    summary: dict = {}


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


def _filters(status: str | None) -> tuple[str | None, str | None]:
    """Split a status filter into (progress status, plan status)."""
    if status is None:
        return None, None
    value = getattr(status, "value", status)
    if value in {s.value for s in ProgressStatus}:
        return value, None
    if value in {s.value for s in MeasurementStatus}:
        return None, value
    raise Invalid(f"Unknown plan status {value!r}.")


def list_plans(
    *,
    session: Session,
    viewer_id: uuid.UUID,
    viewer_role: Role,
    status: str | None = None,
    today: date | None = None,
) -> list[PlanRow]:
    """Return plans a viewer may see (a CSM: their customers'), most urgent first."""
    progress, state = _filters(status)
    csm = viewer_id if Role(viewer_role) == Role.CSM else None
    params = {
        "today": today or datetime.now(UTC).date(),
        "csm": csm,
        "progress": progress,
        "state": state,
    }
    return [PlanRow.model_validate(dict(r)) for r in session.execute(PLANS, params).mappings()]


def expected_curve(
    *, baseline, target, direction, started_on: date, horizon: int, shape=curve.LINEAR
) -> list[Point]:
    """Return the expected value at each tenth of the horizon (empty without a start value)."""
    if baseline is None and Direction(direction) != Direction.HIGHER:
        return []
    start = 0.0 if baseline is None else float(baseline)
    span = float(target) - start
    days = sorted({round(horizon * k / curve.STEPS) for k in range(curve.STEPS + 1)})
    at = {d: curve.expected_at(days=d, horizon=horizon, shape=shape) for d in days}
    return [
        Point(day=started_on + timedelta(days=d), value=round(start + at[d] * span, 4))
        for d in days
    ]


def _series(session: Session, plan: Measurement, metrics: list) -> dict[str, list[Point]]:
    keys = sorted({m.metric_key for m in metrics if m.metric_key and m.measurement == "automatic"})
    if not keys:
        return {}
    since = plan.started_on - timedelta(days=SERIES_LEAD_DAYS)
    out: dict[str, list[Point]] = {}
    params = {"customer": plan.customer_id, "keys": keys, "since": since}
    for row in session.execute(SERIES, params):
        out.setdefault(row.metric_key, []).append(Point(day=row.day, value=float(row.value)))
    return out


def _reviews(session: Session, plan_id: uuid.UUID) -> list[ReviewView]:
    stmt = (
        select(Review, Checkpoint.day, User.name)
        .outerjoin(Checkpoint, Checkpoint.id == Review.checkpoint_id)
        .outerjoin(User, User.id == Review.reviewer_id)
        .where(Review.measurement_id == plan_id)
        .order_by(Review.reviewed_at.desc())
    )
    return [
        ReviewView(
            **{f: getattr(r, f) for f in REVIEW_FIELDS}, checkpoint_day=day, reviewer_name=name
        )
        for r, day, name in session.execute(stmt)
    ]


def plan_detail(*, session: Session, measurement_id: uuid.UUID, today: date | None = None):
    """Return one plan with metrics, series, expected curves, checkpoints, reviews and outcome."""
    plan = session.get(Measurement, measurement_id, populate_existing=True)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    upsell = session.get(Upsell, plan.upsell_id)
    customer = session.get(Customer, plan.customer_id)
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
            select(Checkpoint)
            .where(Checkpoint.measurement_id == plan.id)
            .order_by(Checkpoint.day)
            .execution_options(populate_existing=True)
        )
    )
    horizon = max((c.day for c in checkpoints), default=plan.horizon_days) or 1
    shape = curve.learned_curve(session=session) or curve.LINEAR
    series = _series(session, plan, metrics)
    outcome = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    today = today or datetime.now(UTC).date()
    return PlanDetail(
        id=plan.id,
        version=plan.version,
        status=plan.status,
        progress_status=plan.progress_status,
        predicted_success=plan.predicted_success,
        customer_id=customer.id,
        customer_name=customer.name,
        upsell_name=upsell.name,
        arr_increase=upsell.arr_increase,
        close_date=upsell.close_date,
        started_on=plan.started_on,
        horizon_days=horizon,
        days_since_close=(today - upsell.close_date).days,
        health_before=plan.health_before,
        health_after=plan.health_after,
        metrics=[
            MetricView(
                **{f: getattr(m, f) for f in METRIC_FIELDS},
                type=m.type.value,
                series=series.get(m.metric_key, []) if m.measurement == "automatic" else [],
                expected_curve=expected_curve(
                    baseline=m.baseline,
                    target=m.target,
                    direction=m.direction,
                    started_on=plan.started_on,
                    horizon=horizon,
                    shape=shape,
                ),
            )
            for m in metrics
        ],
        checkpoints=[CheckpointView.model_validate(c) for c in checkpoints],
        reviews=_reviews(session, plan.id),
        outcome=None if outcome is None else OutcomeView.model_validate(outcome),
    )


def _differs(new, old) -> bool:
    if new is None or old is None:
        return new is not old
    try:
        return Decimal(str(new)) != Decimal(str(old))
    except ArithmeticError:
        return str(new) != str(old)


def criteria_changes(metrics: list[MetricView], rows: list[dict]) -> list[dict]:
    """Turn an edited criteria table into `customize_plan` changes: add, update, remove."""
    before = {m.name: m for m in metrics}
    edited = {str(r["name"]).strip(): r for r in rows if str(r.get("name") or "").strip()}
    changes = [{"action": "remove", "name": n} for n in before if n not in edited]
    for name, r in edited.items():
        fields = {k: r.get(k) for k in ("direction", "target", "baseline")}
        if name not in before:
            key = r.get("metric_key") or None
            changes.append(
                {
                    "action": "add",
                    "name": name,
                    "type": "outcome",
                    "metric_key": key,
                    "measurement": "automatic" if key else "manual",
                    "unit": r.get("unit") or None,
                    **fields,
                }
            )
        elif any(_differs(v, getattr(before[name], k)) for k, v in fields.items()):
            changes.append({"action": "update", "name": name, **fields})
    return changes
