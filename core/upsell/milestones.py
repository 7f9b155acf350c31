"""Adoption milestones of a plan: laid out once from the product templates, evaluated every pass.

A milestone watches one criterion of the plan ("Weekly active users reaches 240 users by day
30"). It is reached on the first day, on or after the plan's start, on which the criterion's
value averaged over its measurement-frequency window (`core/upsell/frequency.py`: the day, the
7 or the 30 days ending that day) meets the threshold in the criterion's better direction; a
manually measured criterion reaches it when a value entered since the start meets it. Status,
as for checkpoints: **completed** (with the day it was reached, also when that was after the due
day), **overdue** (the due day has passed and it is not reached) or **upcoming**. A completed
milestone stays completed when the metric falls back. One `evaluate` is three statements over
every active plan, never a query per milestone; the averaged days are computed once per series
(customer, metric, start, frequency), however many milestones watch it.

Layout (`plan_milestones`, once per plan, stamped in `milestones_planned_at`): the `milestones` of
the plan's product templates, each {"name" (optional), "metricKey" or "criterion" (a criterion
name), "threshold" (a value) or "share" (of the way from the criterion's baseline to its target),
"dueDay"}; admins edit them on the template. When none of the plan's templates has milestones,
the default set: for the plan's first two automatic usage or adoption criteria, a quarter of the
way to target by day 30 and halfway by day 60. A milestone due after the plan's horizon, or whose
threshold is not beyond the criterion's baseline (it would be met on day 0), is left out, and so
is a share of a lower-is-better criterion without a baseline. Criteria added to a plan later do
not get milestones. A plan whose milestones cannot be laid out (say a template spec that is not
understood) is recorded as failed with its reason, left unstamped so the next pass tries it
again, and the other plans get theirs.
"""

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from sqlalchemy import Uuid, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.audit.failures import batch
from core.base import Direction
from core.customers.models import MetricKind
from core.formatting import number
from core.upsell import bulk, curve, frequency
from core.upsell.models import Measurement, MeasurementMode, MilestoneStatus, PlanMilestone

DEFAULT_STEPS = ((0.25, 30), (0.5, 60))  # (share of the way to target, due day)
DEFAULT_KINDS = (MetricKind.USAGE.value, MetricKind.ADOPTION.value)
DEFAULT_CRITERIA = 2
ITEM = "plan_milestones"  # a plan whose milestones to lay out (job_item_failures.item_type)
ONE_NAME = ("measurement_id", "name")  # a plan's milestones are unique by name

TO_LAY_OUT = text(
    f"""
    SELECT m.id AS plan_id, m.started_on, {curve.HORIZON} AS horizon,
           coalesce((SELECT jsonb_agg(x.spec ORDER BY t.product_code, x.n)
                       FROM upsell_products l
                       JOIN success_templates t ON t.product_code = l.product_code
                      CROSS JOIN LATERAL jsonb_array_elements(t.milestones)
                            WITH ORDINALITY AS x(spec, n)
                      WHERE l.upsell_id = m.upsell_id), '[]') AS specs
      FROM upsell_measurements m
     WHERE m.status = 'active' AND m.milestones_planned_at IS NULL
     ORDER BY m.id
     FOR UPDATE OF m SKIP LOCKED
    """
)
CRITERIA = text(
    """
    SELECT mm.measurement_id, mm.id, mm.name, mm.metric_key, mm.type, mm.measurement,
           mm.direction, mm.baseline, mm.target, mm.unit
      FROM measurement_metrics mm
     WHERE mm.measurement_id = ANY(CAST(:ids AS uuid[]))
     ORDER BY mm.measurement_id, mm.position, mm.name
    """
)
STAMP = text(
    """
    UPDATE upsell_measurements SET milestones_planned_at = :now
     WHERE id = ANY(CAST(:ids AS uuid[]))
    """
)


def _meets(value: str) -> str:
    return (
        f"CASE direction WHEN '{Direction.LOWER.value}' THEN {value} <= threshold "
        f"ELSE {value} >= threshold END"
    )


SERIES = ("customer_id", "metric_key", "started_on", "frequency")  # what a rolled value reads


def _rolled() -> str:
    """SQL: each series' days since its start, averaged over its frequency window."""
    # Computed once per series, however many milestones watch it (a criterion's milestones, plans
    # of one customer started the same day), and one series at a time, so each sort is small.
    # A series has one frequency: only its frequency's branch reads observations.
    return " UNION ALL ".join(
        f"""
        SELECT day, sum(total) OVER w / sum(n) OVER w AS value
          FROM (SELECT (x.observed_at AT TIME ZONE 'UTC')::date AS day, sum(x.value) AS total,
                       count(*) AS n
                  FROM metric_observations x
                 WHERE s.frequency = '{f.value}'
                   AND x.customer_id = s.customer_id AND x.metric_key = s.metric_key
                   AND x.observed_at >= (s.started_on::timestamp AT TIME ZONE 'UTC')
                   AND x.observed_at <= :now
                 GROUP BY day) daily
        WINDOW w AS (ORDER BY day RANGE BETWEEN interval '{d - 1} days' PRECEDING AND CURRENT ROW)
        """
        for f, d in frequency.WINDOW_DAYS.items()
    )


REACH = text(
    f"""
    WITH open AS (
      SELECT ms.id, ms.threshold, mm.direction, mm.measurement, mm.metric_key, mm.current,
             mm.current_at, m.customer_id, m.started_on,
             {frequency.frequency_sql("mm")} AS frequency
        FROM plan_milestones ms
        JOIN measurement_metrics mm ON mm.id = ms.metric_id
        JOIN upsell_measurements m ON m.id = ms.measurement_id
       WHERE m.status = 'active' AND ms.reached_on IS NULL
    ), series AS (
      SELECT {", ".join(SERIES)}, array_agg(id) AS ids, array_agg(threshold) AS thresholds,
             array_agg(direction) AS directions
        FROM open
       WHERE measurement = '{MeasurementMode.AUTOMATIC.value}'
       GROUP BY {", ".join(SERIES)}
    ), reached AS (
      SELECT ms.id, f.day
        FROM series s
       CROSS JOIN LATERAL (SELECT array_agg(day ORDER BY day) AS days,
                                  array_agg(value ORDER BY day) AS values
                             FROM ({_rolled()}) x) r
       CROSS JOIN LATERAL unnest(s.ids, s.thresholds, s.directions) AS ms(id, threshold, direction)
       CROSS JOIN LATERAL (SELECT min(d.day) AS day FROM unnest(r.days, r.values) AS d(day, value)
                            WHERE {_meets("d.value")}) f
       WHERE f.day IS NOT NULL
      UNION ALL
      SELECT id, (current_at AT TIME ZONE 'UTC')::date FROM open
       WHERE measurement = '{MeasurementMode.MANUAL.value}' AND current IS NOT NULL
         AND current_at >= (started_on::timestamp AT TIME ZONE 'UTC') AND current_at <= :now
         AND {_meets("current")}
    )
    UPDATE plan_milestones ms SET reached_on = r.day, status = 'completed', updated_at = now()
      FROM reached r
     WHERE ms.id = r.id
    """
)
STATUS = """
    CASE WHEN ms.reached_on IS NOT NULL THEN 'completed'
         WHEN m.started_on + ms.due_day < :today THEN 'overdue' ELSE 'upcoming' END
"""
RESTATE = text(
    f"""
    UPDATE plan_milestones ms
       SET due_on = m.started_on + ms.due_day, status = {STATUS}, updated_at = now()
      FROM upsell_measurements m
     WHERE m.id = ms.measurement_id AND m.status = 'active'
       AND (ms.due_on IS DISTINCT FROM m.started_on + ms.due_day
            OR ms.status::text IS DISTINCT FROM {STATUS})
    """
)


def _decimal(raw) -> Decimal | None:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _rounded(value: Decimal, direction: Direction) -> Decimal:
    """Round a threshold to the digits `number` shows, never back towards the baseline."""
    size = abs(value)
    places = Decimal(1) if size >= 100 else Decimal("0.1") if size >= 10 else Decimal("0.01")
    rounding = ROUND_CEILING if direction == Direction.HIGHER else ROUND_FLOOR
    return value.quantize(places, rounding=rounding)


def default_specs(criteria: list) -> list[dict]:
    """Return the default milestones of a plan with `criteria` (its templates define none)."""
    picked = [
        c
        for c in criteria
        if c.measurement == MeasurementMode.AUTOMATIC.value and c.type in DEFAULT_KINDS
    ][:DEFAULT_CRITERIA]
    return [
        {"criterion": c.name, "share": share, "dueDay": day, "origin": "default"}
        for c in picked
        for share, day in DEFAULT_STEPS
    ]


def _criterion(spec: dict, criteria: list):
    if name := spec.get("criterion"):
        return next((c for c in criteria if c.name == name), None)
    key = spec.get("metricKey")
    return next((c for c in criteria if key and c.metric_key == key), None)


def threshold_for(spec: dict, criterion) -> Decimal | None:
    """Return the spec's threshold on `criterion`, or None when it is no milestone there."""
    direction = Direction(criterion.direction)
    if spec.get("threshold") is not None:
        value = _decimal(spec["threshold"])
    else:
        share = _decimal(spec.get("share"))
        if share is None or (criterion.baseline is None and direction == Direction.LOWER):
            return None
        start = Decimal(0) if criterion.baseline is None else Decimal(criterion.baseline)
        value = start + share * (Decimal(criterion.target) - start)
    if value is None:
        return None
    value = _rounded(value, direction)
    if criterion.baseline is None and direction == Direction.LOWER:
        return value  # a level to get down to; without a baseline nothing says it is met already
    start = Decimal(0) if criterion.baseline is None else Decimal(criterion.baseline)
    beyond = value > start if direction == Direction.HIGHER else value < start
    return value if beyond else None


def milestone_name(criterion, threshold: Decimal) -> str:
    """Name a milestone by what it asks: 'Weekly active users reaches 240 users'."""
    verb = "reaches" if Direction(criterion.direction) == Direction.HIGHER else "is down to"
    return f"{criterion.name} {verb} {number(threshold, criterion.unit)}"[:200]


def layout_rows(*, plan_id: uuid.UUID, horizon: int, specs: list, criteria: list) -> list[dict]:
    """Return the milestone rows of one plan from its template specs (or the default set)."""
    specs = [s for s in specs if isinstance(s, dict)] or default_specs(criteria)
    rows: dict[str, dict] = {}
    for spec in specs:
        criterion = _criterion(spec, criteria)
        day = spec.get("dueDay")
        if criterion is None or not isinstance(day, int) or not 0 < day <= horizon:
            continue
        threshold = threshold_for(spec, criterion)
        if threshold is None:
            continue
        name = str(spec.get("name") or milestone_name(criterion, threshold)).strip()[:200]
        rows.setdefault(
            name,
            {
                "measurement_id": plan_id,
                "metric_id": criterion.id,
                "name": name,
                "threshold": threshold,
                "due_day": day,
                "origin": "default" if spec.get("origin") == "default" else "template",
            },
        )
    ordered = sorted(rows.values(), key=lambda r: (r["due_day"], r["name"]))
    return [{**r, "position": i} for i, r in enumerate(ordered)]


def lay_out(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Give every active plan without milestones its milestones, once (idempotent)."""
    now = now or datetime.now(UTC)
    session.flush()
    plans = session.execute(TO_LAY_OUT).all()
    if not plans:
        return {"milestones_planned": 0}
    ids = [p.plan_id for p in plans]
    criteria: dict[uuid.UUID, list] = defaultdict(list)
    for row in session.execute(CRITERIA, {"ids": ids}):
        criteria[row.measurement_id].append(row)
    rows = []
    with batch(session, ITEM) as laid_out:
        for p in plans:
            # A plan whose template milestones cannot be read stays unstamped (tried again).
            with laid_out.item(p.plan_id, savepoint=False):
                rows.extend(_plan_rows(p, criteria[p.plan_id]))
        planned = bulk.insert(
            laid_out, PlanMilestone.__table__, rows, key=_plan_of, skip_conflicts_on=ONE_NAME
        )
        stamped = [i for i in ids if laid_out.ok(i)]
        if stamped:
            session.execute(STAMP, {"ids": stamped, "now": now})
    _expire(session)
    return {"milestones_planned": planned}


def _plan_of(row: dict) -> uuid.UUID:
    return row["measurement_id"]


def _plan_rows(plan, criteria: list) -> list[dict]:
    return [
        {
            **r,
            "id": uuid.uuid4(),
            "due_on": plan.started_on + timedelta(days=r["due_day"]),
            "status": MilestoneStatus.UPCOMING.value,
        }
        for r in layout_rows(
            plan_id=plan.plan_id, horizon=plan.horizon, specs=plan.specs, criteria=criteria
        )
    ]


def evaluate(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Mark reached milestones completed and the rest overdue or upcoming, for every plan."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    session.flush()
    reached = session.execute(REACH, {"now": now}).rowcount
    changed = session.execute(RESTATE, {"today": now.date()}).rowcount
    _expire(session)
    return {"milestones_reached": reached, "milestones_restated": changed}


def track(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Lay out new plans' milestones, then evaluate every active plan's milestones."""
    return {**lay_out(session=session, now=now), **evaluate(session=session, now=now)}


def for_plans(*, session: Session, measurement_ids: list[uuid.UUID]) -> dict:
    """Return {plan id: [milestone, …]} in due order, for the read models."""
    stmt = (
        select(PlanMilestone)
        .where(
            PlanMilestone.measurement_id
            == any_(bindparam("plans", list(measurement_ids), type_=ARRAY(Uuid)))
        )
        .order_by(PlanMilestone.due_day, PlanMilestone.position, PlanMilestone.name)
        .execution_options(populate_existing=True)
    )
    found: dict[uuid.UUID, list[PlanMilestone]] = defaultdict(list)
    for row in session.scalars(stmt):
        found[row.measurement_id].append(row)
    return found


def _expire(session: Session) -> None:
    """Forget loaded plans and milestones: the raw SQL above changed them behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Measurement | PlanMilestone):
            session.expire(obj)
