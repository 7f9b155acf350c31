"""Two PRD metrics of the outcomes report, each with its distribution or rows behind it.

- **Plans within 48 h** = upsells whose plan was created at most 48 h after the deal closed
  (its close date, 00:00 UTC: the close is known to the day) ÷ upsells that were planned or
  closed more than 48 h ago; an unplanned upsell still inside its 48 h has time and is left out.
  It covers every upsell, like coverage (`core.upsell.queries.plan_latency`).
- **Tracking active by first review** (PRD-130 NFR-1) = plans whose every metric had data by the
  end of their first checkpoint day ÷ plans whose first checkpoint day is over. Data for an
  automatic metric: a usage observation of its metric from the plan's start to the end of that
  day; for a manual one: a value recorded for that window (the audit trail of recorded values,
  or the latest value's time). A plan without metrics tracks nothing and is not active. It
  follows the report's filters (`TRACKING_CTES` join the report's query).
"""

from collections import Counter

from core.upsell.analysis_schemas import Kpi, KpiBin, KpiRow
from core.upsell.queries import PLAN_WITHIN_HOURS
from core.upsell.schemas import PlanLatency

ROWS = 50  # rows listed per KPI; the counts cover all of them
# Hours from the close to the plan: (upper bound, label); the last bar is open-ended.
LATENCY_BINS = ((PLAN_WITHIN_HOURS, "≤ 48 h"), (168, "2–7 days"), (672, "1–4 weeks"))
LAST_BIN, UNPLANNED = "over 4 weeks", "not planned yet"


def _within(column: str) -> str:
    """SQL: `column` falls between the plan's start and the end of its first checkpoint day."""
    return (
        f"{column} >= fi.started_on::timestamp AT TIME ZONE 'UTC' "
        f"AND {column} < (fi.due_on + 1)::timestamp AT TIME ZONE 'UTC'"
    )


TRACKING_CTES = f"""
, firsts AS (
  SELECT f.id, f.started_on, cp.due_on
    FROM facts f
   CROSS JOIN LATERAL (SELECT c.due_on FROM checkpoints c WHERE c.measurement_id = f.id
                        ORDER BY c.day LIMIT 1) cp
   WHERE cp.due_on < :today
), tracked AS (
  SELECT fi.id, fi.due_on, x.name, x.position,
         CASE WHEN x.id IS NULL THEN false  -- a plan without metrics tracks nothing
              WHEN x.measurement = 'automatic' AND x.metric_key IS NOT NULL THEN EXISTS (
                SELECT 1 FROM metric_observations o
                 WHERE o.customer_id = m.customer_id AND o.metric_key = x.metric_key
                   AND {_within("o.observed_at")})
              ELSE coalesce({_within("x.current_at")}, false) OR EXISTS (
                SELECT 1 FROM audit_log a
                 WHERE a.entity_type = 'measurement' AND a.entity_id = m.id::text
                   AND a.action = 'measurement.manual_values'
                   AND a.changes->'values'->x.name IS NOT NULL
                   AND {_within("(a.changes->>'observed_at')::timestamptz")})
         END AS has_data
    FROM firsts fi
    JOIN upsell_measurements m ON m.id = fi.id
    LEFT JOIN measurement_metrics x ON x.measurement_id = fi.id
), tracking AS (
  SELECT t.id AS measurement_id, m.upsell_id, c.name AS customer_name, u.name AS upsell_name,
         t.due_on AS since, coalesce(bool_and(t.has_data), false) AS active,
         coalesce(array_agg(t.name ORDER BY t.position, t.name)
                  FILTER (WHERE NOT t.has_data AND t.name IS NOT NULL), '{{}}') AS metrics
    FROM tracked t
    JOIN upsell_measurements m ON m.id = t.id
    JOIN upsells u ON u.id = m.upsell_id
    JOIN customers c ON c.id = m.customer_id
   GROUP BY t.id, m.upsell_id, c.name, u.name, t.due_on
)
"""
# Over `tracking` (one row per plan past its first checkpoint day): the counts, and the first
# plans that were not tracked in time.
TRACKING_COUNTS = "SELECT count(*) AS plans, count(*) FILTER (WHERE active) AS active FROM tracking"
TRACKING_IDLE = f"""
SELECT measurement_id, upsell_id, customer_name, upsell_name, since, metrics
  FROM tracking WHERE NOT active
 ORDER BY since DESC, customer_name, upsell_name LIMIT {ROWS}
"""


def _met(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _bin(hours: float) -> str:
    return next((name for high, name in LATENCY_BINS if hours <= high), LAST_BIN)


def within_48h(latency: PlanLatency, *, target: float) -> Kpi:
    """Return the plans-within-48-hours KPI with its latency distribution and late upsells."""
    planned = [r for r in latency.rows if r.planned_at is not None]
    waiting = [r for r in latency.rows if r.planned_at is None and r.hours > PLAN_WITHIN_HOURS]
    counts = Counter(_bin(r.hours) for r in planned)
    names = [*(name for _, name in LATENCY_BINS), LAST_BIN]
    late = [r for r in planned if r.hours > PLAN_WITHIN_HOURS]  # slowest first (query order)
    rows = [
        KpiRow(
            kind="unplanned" if r.planned_at is None else "late",
            measurement_id=r.measurement_id,
            upsell_id=r.upsell_id,
            customer_name=r.customer_name,
            upsell_name=r.upsell_name,
            since=r.closed_at.date(),
            hours=r.hours,
        )
        for r in [*waiting, *late]
    ]
    value = latency.within_48h_share
    still = f"; {len(waiting)} still without a plan" if waiting else ""
    return Kpi(
        key="within48h",
        label="Plans within 48 h",
        value=None if value is None else round(value, 4),
        target=target,
        met=_met(value, target),
        detail=f"{latency.within_48h} of {latency.due} upsells planned within 48 hours of the "
        f"close{still}",
        numerator=latency.within_48h,
        denominator=latency.due,
        bins=[
            *(KpiBin(label=name, count=counts[name]) for name in names),
            KpiBin(label=UNPLANNED, count=len(waiting)),
        ],
        p50_hours=latency.median_hours,
        p90_hours=latency.p90_hours,
        rows=rows[:ROWS],
        rows_total=len(rows),
    )


def tracking_active(*, plans: int, active: int, idle: list[dict], target: float) -> Kpi:
    """Return the tracking-active-by-first-review KPI: `active` of `plans`, the first `idle`."""
    value = round(active / plans, 4) if plans else None
    return Kpi(
        key="trackingActive",
        label="Tracking by first review",
        value=value,
        target=target,
        met=_met(value, target),
        detail=f"{active} of {plans} plans past their first checkpoint had data for every "
        "metric by that day",
        numerator=active,
        denominator=plans,
        rows=[KpiRow(kind="untracked", **row) for row in idle],
        rows_total=plans - active,
    )
