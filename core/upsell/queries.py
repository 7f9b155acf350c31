"""Read upsells and their plans: the one plan loader behind the API's and the page's shapes.

`load_plan` reads a plan once with its upsell, customer, products, criteria, checkpoints, reviews
and outcome; `success_measurement` shapes it as the PRD's UpsellSuccessMeasurement (the API; the
parts only it carries are in `core/upsell/prd.py`) and `plan_detail` as the Upsell progress page's
detail (adding the daily series and expected curves).
Both carry the plan's adoption milestones, ROI realized and each metric's measurement frequency
with whether its data is recent; the page also shows the 60-day feedback ask and its answers.
"""

import statistics
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Direction, Role
from core.customers.models import Customer
from core.errors import Invalid, NotFound
from core.schemas import as_uuid
from core.upsell import curve, feedback, frequency, milestones, prd, reviews, roi
from core.upsell.models import (
    Checkpoint,
    Measurement,
    MeasurementMetric,
    MeasurementStatus,
    Outcome,
    ProgressStatus,
    Review,
    Upsell,
    UpsellProduct,
)
from core.upsell.page_schemas import (
    CheckpointView,
    FeedbackAnswer,
    FeedbackAsk,
    MetricView,
    OutcomeView,
    PlanDetail,
    PlanRow,
    Point,
    ReviewView,
)
from core.upsell.schemas import (
    CheckpointOut,
    CriterionOut,
    MetricProgress,
    MilestoneOut,
    OverdueCheckpoint,
    Plan,
    PlanCheckpoint,
    PlanLatency,
    PlanLatencyRow,
    PlanMetric,
    Progress,
    ReviewOut,
    RoiRealized,
    SuccessCriteria,
    SuccessMeasurement,
    UpsellDetails,
    UpsellOut,
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
    "target_source",
    "target_explanation",
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
             WHERE x.measurement_id = m.id AND x.status = 'overdue') AS overdue,
           (SELECT min(x.review_due_on) FROM checkpoints x
             WHERE x.measurement_id = m.id AND x.status = 'overdue') AS overdue_since,
           o.status AS outcome, o.proposed_status AS proposed_outcome, o.decide_by
      FROM upsell_measurements m
      JOIN upsells u ON u.id = m.upsell_id
      JOIN customers c ON c.id = m.customer_id
      LEFT JOIN upsell_outcomes o ON o.measurement_id = m.id
      LEFT JOIN LATERAL (SELECT k.day, k.due_on FROM checkpoints k
                          WHERE k.measurement_id = m.id AND k.status = 'scheduled'
                          ORDER BY k.day LIMIT 1) nc ON true
     WHERE (CAST(:csm AS uuid) IS NULL OR c.owner_csm_id = CAST(:csm AS uuid))
       AND (CAST(:progress AS text) IS NULL
            OR m.status = 'active' AND m.progress_status::text = :progress)
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
PLAN_WITHIN_HOURS = 48
# Hours from the deal's close (its close date, 00:00 UTC) to the plan, or waited so far.
LATENCY = text(
    """
    SELECT m.id AS measurement_id, u.id AS upsell_id, c.name AS customer_name,
           u.name AS upsell_name, k.closed_at, m.created_at AS planned_at,
           greatest(extract(epoch FROM coalesce(m.created_at, :now) - k.closed_at) / 3600, 0)
             AS hours
    FROM upsells u JOIN customers c ON c.id = u.customer_id
    LEFT JOIN upsell_measurements m ON m.upsell_id = u.id
    CROSS JOIN LATERAL (SELECT u.close_date::timestamp AT TIME ZONE 'UTC' AS closed_at) k
    ORDER BY hours DESC, c.name, u.name
    """
)
OVERDUE = text(
    """
    SELECT c.id AS checkpoint_id, c.measurement_id, m.customer_id, cu.name AS customer_name,
           up.name AS upsell_name, c.day, c.due_on, c.doc_url, u.id AS csm_id, u.name AS csm_name,
           coalesce(c.review_due_on, c.due_on + 7) AS overdue_since
      FROM checkpoints c
      JOIN upsell_measurements m ON m.id = c.measurement_id
      JOIN customers cu ON cu.id = m.customer_id
      JOIN upsells up ON up.id = m.upsell_id
      LEFT JOIN users u ON u.id = cu.owner_csm_id
     WHERE c.status = 'overdue' AND m.status = 'active'
       AND (CAST(:csm AS uuid) IS NULL OR cu.owner_csm_id = CAST(:csm AS uuid))
     ORDER BY overdue_since, cu.name
    """
)


# Upsells ------------------------------------------------------------------------------------


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
    found = existing_plan_id(session=session, upsell=upsell)
    if found is None:
        raise NotFound(f"Upsell '{upsell.opportunity_id}' has no measurement plan yet.")
    return found


def existing_plan_id(*, session: Session, upsell: Upsell) -> uuid.UUID | None:
    """Return the id of the upsell's measurement plan, or None before it has one."""
    return session.scalar(select(Measurement.id).where(Measurement.upsell_id == upsell.id))


def _products(session: Session, upsell: Upsell) -> list[str]:
    stmt = select(UpsellProduct.product_code).where(UpsellProduct.upsell_id == upsell.id)
    return sorted(session.scalars(stmt))


def _details(upsell: Upsell, products: list[str]) -> UpsellDetails:
    return UpsellDetails(
        opportunity_id=upsell.opportunity_id,
        name=upsell.name,
        type=upsell.type,
        arr_increase=upsell.arr_increase,
        close_date=upsell.close_date,
        products=products,
        sales_rep=upsell.sales_rep_name,
    )


def upsell_out(*, session: Session, upsell: Upsell) -> UpsellOut:
    """Return an upsell with its products."""
    details = _details(upsell, _products(session, upsell)).model_dump()
    return UpsellOut(
        **details, id=upsell.id, customer_id=upsell.customer_id, source=str(upsell.source)
    )


# One plan: loaded once, shaped for the API or for the page ----------------------------------


@dataclass
class LoadedPlan:
    """A plan with everything either shape shows; reviews oldest first."""

    plan: Measurement
    upsell: Upsell
    customer: Customer
    products: list[str]
    metrics: list[MeasurementMetric]
    checkpoints: list[Checkpoint]
    reviews: list[tuple[Review, int | None, str | None, str | None]]  # day, reviewer email, name
    outcome: Outcome | None
    milestones: list = field(default_factory=list)  # PlanMilestone rows, in due order
    roi_realized: roi.Realized | None = None
    now: datetime | None = None  # the moment recency and ROI were judged at


def load_plan(
    *, session: Session, measurement_id: uuid.UUID, now: datetime | None = None
) -> LoadedPlan:
    """Read one plan with its upsell, customer, criteria, checkpoints, reviews and outcome."""
    now = now or datetime.now(UTC)
    plan = session.get(Measurement, measurement_id, populate_existing=True)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    upsell = session.get(Upsell, plan.upsell_id)
    metrics = session.scalars(
        select(MeasurementMetric)
        .where(MeasurementMetric.measurement_id == plan.id)
        .order_by(MeasurementMetric.position, MeasurementMetric.name)
        .execution_options(populate_existing=True)
    )
    checkpoints = session.scalars(
        select(Checkpoint)
        .where(Checkpoint.measurement_id == plan.id)
        .order_by(Checkpoint.day)
        .execution_options(populate_existing=True)
    )
    review_rows = session.execute(
        select(Review, Checkpoint.day, User.email, User.name)
        .outerjoin(Checkpoint, Checkpoint.id == Review.checkpoint_id)
        .outerjoin(User, User.id == Review.reviewer_id)
        .where(Review.measurement_id == plan.id)
        .order_by(Review.reviewed_at)
    )
    return LoadedPlan(
        plan=plan,
        upsell=upsell,
        customer=session.get(Customer, plan.customer_id),
        products=_products(session, upsell),
        metrics=list(metrics),
        checkpoints=list(checkpoints),
        reviews=[tuple(r) for r in review_rows],
        outcome=session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id)),
        milestones=milestones.for_plans(session=session, measurement_ids=[plan.id])[plan.id],
        roi_realized=roi.realized(session=session, measurement_ids=[plan.id], now=now).get(plan.id),
        now=now,
    )


def review_out(review: Review, *, checkpoint_day: int | None, reviewed_by: str | None) -> ReviewOut:
    """Return a review as the API shows it."""
    return ReviewOut(
        id=review.id,
        checkpoint_day=checkpoint_day,
        assessment=review.assessment,
        findings=review.findings,
        next_steps=review.next_steps,
        reviewed_by=reviewed_by,
        reviewed_at=review.reviewed_at,
    )


def recency(m: MeasurementMetric, now: datetime | None = None) -> dict:
    """Return a criterion's measurement frequency and whether its data is too old to count."""
    freq = frequency.resolve(m.frequency, m.type, m.measurement)
    now = now or datetime.now(UTC)
    stale = frequency.is_stale(current_at=m.current_at, frequency=freq, now=now)
    return {"frequency": freq, "no_recent_data": stale}


def milestone_views(loaded: LoadedPlan) -> list[MilestoneOut]:
    """Return the plan's milestones with the criterion each one watches."""
    by_id = {m.id: m for m in loaded.metrics}
    return [
        MilestoneOut(
            name=ms.name,
            criterion=by_id[ms.metric_id].name,
            unit=by_id[ms.metric_id].unit,
            threshold=ms.threshold,
            due_day=ms.due_day,
            due_on=ms.due_on,
            status=ms.status,
            reached_on=ms.reached_on,
        )
        for ms in loaded.milestones
        if ms.metric_id in by_id
    ]


def roi_view(loaded: LoadedPlan) -> RoiRealized | None:
    """Return the plan's ROI realized as the read models show it."""
    found = loaded.roi_realized
    return None if found is None else RoiRealized.model_validate(found)


def _progress(loaded: LoadedPlan) -> Progress:
    plan, metrics = loaded.plan, loaded.metrics
    known = [float(m.progress) for m in metrics if m.progress is not None]
    expected = next((float(m.expected) for m in metrics if m.expected is not None), None)
    each = [
        MetricProgress.model_validate(m).model_copy(update=recency(m, loaded.now)) for m in metrics
    ]
    return Progress(
        current_status=plan.progress_status,
        metrics_progress=each,
        last_updated=prd.last_updated(plan, metrics),
        expected=expected,
        actual=round(sum(known) / len(known), 4) if known else None,
        metrics=each,
        milestones=milestone_views(loaded),
        roi_realized=roi_view(loaded),
    )


def as_success_measurement(loaded: LoadedPlan, *, benchmarks=()) -> SuccessMeasurement:
    """Shape a loaded plan (and its criteria's benchmarks) as the PRD's UpsellSuccessMeasurement."""
    plan = loaded.plan
    reviewed = [r for r, *_ in loaded.reviews]
    return SuccessMeasurement(
        id=plan.id,
        upsell_id=loaded.upsell.id,
        customer_id=plan.customer_id,
        status=plan.status.value,
        upsell_details=_details(loaded.upsell, loaded.products),
        success_criteria=SuccessCriteria(
            metrics=[CriterionOut.model_validate(m) for m in loaded.metrics],
            goals=prd.stated_goals(loaded.upsell),
            benchmarks=list(benchmarks),
            checkpoint_days=[c.day for c in loaded.checkpoints],
        ),
        measurement_plan=prd.measurement_plan(plan, loaded.checkpoints, reviewed),
        progress=_progress(loaded),
        checkpoints=[CheckpointOut.model_validate(c) for c in loaded.checkpoints],
        reviews=[
            review_out(r, checkpoint_day=day, reviewed_by=email)
            for r, day, email, _ in loaded.reviews
        ],
        outcome=prd.outcome_out(loaded.outcome, reviewed),
        predicted_success=plan.predicted_success,
        created_at=plan.created_at,
    )


def success_measurement(
    *, session: Session, measurement_id: uuid.UUID, now: datetime | None = None
) -> SuccessMeasurement:
    """Return one plan as the PRD's UpsellSuccessMeasurement."""
    loaded = load_plan(session=session, measurement_id=measurement_id, now=now)
    found = prd.benchmarks(session=session, customer=loaded.customer, metrics=loaded.metrics)
    return as_success_measurement(loaded, benchmarks=found)


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


def plan_detail(
    *,
    session: Session,
    measurement_id: uuid.UUID,
    today: date | None = None,
    now: datetime | None = None,
) -> PlanDetail:
    """Return one plan with metrics, series, expected curves, checkpoints, reviews and outcome."""
    loaded = load_plan(session=session, measurement_id=measurement_id, now=now)
    plan, upsell, customer, metrics = loaded.plan, loaded.upsell, loaded.customer, loaded.metrics
    horizon = max((c.day for c in loaded.checkpoints), default=plan.horizon_days) or 1
    shape = curve.learned_curve(session=session) or curve.LINEAR
    series = _series(session, plan, metrics)
    today = today or datetime.now(UTC).date()
    newest_first = sorted(loaded.reviews, key=lambda r: r[0].reviewed_at, reverse=True)
    return PlanDetail(
        id=plan.id,
        version=plan.version,
        status=plan.status,
        progress_status=plan.progress_status,
        predicted_success=plan.predicted_success,
        customer_id=customer.id,
        customer_name=customer.name,
        upsell_name=upsell.name,
        prediction_unlearned=(plan.prediction_basis or {}).get("history") == 0,
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
                **recency(m, loaded.now),
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
        checkpoints=[CheckpointView.model_validate(c) for c in loaded.checkpoints],
        reviews=[
            ReviewView(
                **{f: getattr(r, f) for f in REVIEW_FIELDS},
                checkpoint_day=day,
                reviewer_name=name,
            )
            for r, day, _, name in newest_first
        ],
        outcome=None if loaded.outcome is None else OutcomeView.model_validate(loaded.outcome),
        milestones=milestone_views(loaded),
        roi=roi_view(loaded),
        feedback=feedback_view(session=session, measurement_id=plan.id),
    )


def feedback_view(*, session: Session, measurement_id: uuid.UUID) -> FeedbackAsk | None:
    """Return the plan's feedback ask with its answers (None before it was drafted)."""
    ask = feedback.asks(session=session, measurement_ids=[measurement_id]).get(measurement_id)
    if ask is None:
        return None
    return FeedbackAsk(
        status=ask.status,
        status_label=feedback.ASK_LABELS.get(ask.status, ask.status),
        drafted_at=ask.drafted_at,
        sent_at=ask.sent_at,
        to=ask.to,
        answers=[
            FeedbackAnswer(
                kind=a.kind,
                score=a.score,
                comment=a.comment,
                respondent_name=a.respondent_name,
                responded_at=a.responded_at,
                line=feedback.answer_line(a),
            )
            for a in ask.answers
        ],
        lines=feedback.feedback_lines(ask),
    )


# Plan lists and reports -------------------------------------------------------------------


def _filters(status: str | None) -> tuple[str | None, str | None]:
    """Split a status filter into (progress status of active plans, plan status)."""
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


def plan_view(*, session: Session, measurement_id: uuid.UUID) -> Plan:
    """Return a plan with its criteria and checkpoints."""
    plan = session.get(Measurement, measurement_id)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    metrics = session.scalars(
        select(MeasurementMetric)
        .where(MeasurementMetric.measurement_id == plan.id)
        .order_by(MeasurementMetric.position, MeasurementMetric.name)
    )
    checkpoints = session.scalars(
        select(Checkpoint).where(Checkpoint.measurement_id == plan.id).order_by(Checkpoint.day)
    )
    fields = {f: getattr(plan, f) for f in Plan.model_fields if f not in ("metrics", "checkpoints")}
    return Plan(
        **fields,
        metrics=[PlanMetric.model_validate(m) for m in metrics],
        checkpoints=[PlanCheckpoint.model_validate(c) for c in checkpoints],
    )


def plan_latency(*, session: Session, now: datetime | None = None) -> PlanLatency:
    """Return hours from each deal's close to its plan, coverage and the share within 48 h.

    The 48 h share counts planned upsells and unplanned ones whose 48 h have run out; an upsell
    closed less than 48 h ago without a plan still has time and is left out.
    """
    now = now or datetime.now(UTC)
    rows = [
        PlanLatencyRow(**{**r._mapping, "hours": float(r.hours)})
        for r in session.execute(LATENCY, {"now": now})
    ]
    planned = [r.hours for r in rows if r.planned_at is not None]
    due = len(planned) + sum(r.planned_at is None and r.hours > PLAN_WITHIN_HOURS for r in rows)
    within = sum(h <= PLAN_WITHIN_HOURS for h in planned)
    return PlanLatency(
        rows=rows,
        upsells=len(rows),
        planned=len(planned),
        due=due,
        within_48h=within,
        coverage=len(planned) / len(rows) if rows else 1.0,
        within_48h_share=within / due if due else None,
        median_hours=statistics.median(planned) if planned else None,
        p90_hours=_p90(planned),
    )


def _p90(values: list[float]) -> float | None:
    """Return the 90th percentile, interpolated like PostgreSQL's percentile_cont."""
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def overdue_checkpoints(
    *, session: Session, csm_id: uuid.UUID | None = None, now: datetime | None = None
) -> list[OverdueCheckpoint]:
    """Return overdue checkpoints of active plans, oldest first (one CSM's book if given)."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    rows = session.execute(OVERDUE, {"csm": csm_id}).mappings()
    return [
        OverdueCheckpoint(
            **row,
            title=reviews.checkpoint_title(row["day"]),
            days_overdue=(today - row["overdue_since"]).days,
        )
        for row in rows
    ]
