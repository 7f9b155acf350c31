"""The Wins dashboard's PRD success metrics, with honest denominators and the rows behind them.

- **Achievement capture** = verified wins with a success record ÷ (verified wins achieved in the
  period + goals reached in the period that the app never recorded + custom goals whose due
  date passed in the period without a confirmation). A goal counts as reached but not recorded
  when it has no achievement at all and either
  - (KPI, onboarding, ROI with a metric and target) its observations since the goal's start held
    the target, direction-aware (value ÷ cost for ratio ROI goals), for the goal's `consecutive`
    count (default 3) of observations in a row, and that run came after an observation that
    missed the target and the baseline missed it too (a goal met when it started is no win);
    it was reached when the first such run began; or
  - (milestone goals) every milestone is done or skipped and at least one done; reached when the
    last one was completed.
  Held and rejected achievements wait for (or had) a person's decision, and cancelled or missed
  goals were closed by one: none of them enters the denominator.
- **Documented within 24 h** = wins whose success record was written at most 24 h after the goal
  was reached (`achieved_at`, not when the app noticed) ÷ wins reached in the period (verified
  ones and reached-but-not-recorded ones), leaving out undocumented ones reached less than 24 h
  ago, which still have time. Overdue custom goals have no moment of reaching: only capture
  counts them.

  How the reached-but-not-recorded goals are found (`UNRECORDED`): the earlier query read every
  observation since each goal's start and cut the whole series into runs with three window
  passes and sorts (1.0 s of a cold Wins page at 1,000 customers, spilling its sort to disk).
  Now each goal is handled on its own, in observation order:
  1. a goal whose observations since its start hold the target fewer than `consecutive` times
     can never have a run that long; counting its hits stops at the `consecutive`-th, and this
     drops most goals without an achievement (they are mostly goals not reached yet);
  2. for the rest, one streaming pass keeps the running length of the current run, its start
     and whether a long enough miss run came before (for goals met at start), and stops at the
     first qualifying run: the goal was reached when it began, and later points cannot change
     that; with a period end it also stops once a point after the end lies outside a run begun
     before it, as no run found later could begin in the period.
  Whether the goal was met at start, the scope and the period are unchanged. No new index is
  needed. Rejected: bounding by min/max of the value since the start (it reads the same rows
  as the hit count, which stops sooner and is exact about `consecutive`); a stored "first
  reached at" per goal (a second source of truth for a number leaders see). Equality with the
  earlier query is checked on generated goals in tests/core/reporting/test_unrecorded_agreement.py.
- **Customer communication** = wins whose congratulations email was sent ÷ verified wins.
- **Marketing utilization** = wins with a marketing flag marked used ÷ verified wins.
"""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from sqlalchemy import and_, func, select, text
from sqlalchemy.orm import Session

from core.goals.results import RATIO_UNITS
from core.reporting.schemas import Bin, MetricRow, SuccessMetric

ROWS = 50  # rows listed per metric; the counts always cover all of them
WITHIN_HOURS = 24  # "documented within 24 h"
# Hours from reaching a goal to its success record: (upper bound, label); the last is open.
DOC_BINS = ((WITHIN_HOURS, "≤ 24 h"), (72, "1–3 days"), (168, "3–7 days"), (672, "1–4 weeks"))
LAST_DOC_BIN = "over 4 weeks"
NEVER = "not documented"
TARGETS = {"capture": 0.9, "communication": 0.7, "utilization": 0.2, "documented_24h": 0.9}

START_LOOKBACK_DAYS = 31  # the value at a goal's start: its latest observation this far back


def _meets(value: str) -> str:
    """SQL telling whether `value` meets the goal's target in its direction."""
    return (
        f"CASE WHEN s.direction = 'lower_is_better' THEN {value} <= s.target "
        f"ELSE {value} >= s.target END"
    )


def _measure(value: str) -> str:
    """SQL of what a ratio ROI goal compares: the value as a multiple of the cost."""
    return f"CASE WHEN s.ratio THEN {value} / s.cost ELSE {value} END"


UNRECORDED = text(
    f"""
    WITH scope AS (
      SELECT g.id, g.customer_id, g.type::text AS type, g.name, g.metric_key, g.target,
             g.direction::text AS direction, g.baseline, g.start_date, g.due_date, g.cost,
             (g.type = 'roi' AND g.cost > 0 AND lower(trim(g.unit)) = ANY(:ratio_units)) AS ratio,
             greatest(coalesce(CASE WHEN jsonb_typeof(g.verification->'consecutive') = 'number'
                                    THEN (g.verification->>'consecutive')::numeric::int END, 3),
                      1) AS needed,
             g.start_date::timestamp AT TIME ZONE 'UTC' AS started,
             c.name AS customer_name, u.name AS csm_name
        FROM goals g
        JOIN customers c ON c.id = g.customer_id
        LEFT JOIN users u ON u.id = c.owner_csm_id
       WHERE g.status NOT IN ('cancelled', 'missed')
         AND NOT EXISTS (SELECT 1 FROM goal_achievements a WHERE a.goal_id = g.id)
         AND (CAST(:csm_id AS uuid) IS NULL OR c.owner_csm_id = CAST(:csm_id AS uuid))
         AND (CAST(:industry AS text) IS NULL OR lower(c.industry) = lower(:industry))
         AND (CAST(:goal_type AS text) IS NULL OR g.type::text = :goal_type)
    ), metric_goals AS (
      SELECT s.*, coalesce(
               (NOT s.ratio AND s.baseline IS NOT NULL AND {_meets("s.baseline")})
               OR {_meets(_measure("v.value"))}, false) AS met_at_start
        FROM scope s
        LEFT JOIN LATERAL (
          (SELECT b.value FROM metric_observations b
            WHERE b.customer_id = s.customer_id AND b.metric_key = s.metric_key
              AND b.observed_at < s.started
              AND b.observed_at >= s.started - make_interval(days => :lookback)
            ORDER BY b.observed_at DESC LIMIT 1)
          UNION ALL
          (SELECT a.value FROM metric_observations a
            WHERE a.customer_id = s.customer_id AND a.metric_key = s.metric_key
              AND a.observed_at >= s.started
            ORDER BY a.observed_at LIMIT 1)
          LIMIT 1
        ) v ON true
       WHERE s.type IN ('kpi', 'onboarding', 'roi') AND s.target IS NOT NULL
         AND s.metric_key IS NOT NULL
    ), reached AS (
      SELECT 'not_recorded' AS kind, s.id, first.began AS at
        FROM metric_goals s
        CROSS JOIN LATERAL (  -- the goal's first qualifying run; the scan stops at it
          SELECT r.began,
                 r.ok AND r.run >= s.needed AND (NOT s.met_at_start OR r.armed) AS qualifies
            FROM (SELECT p.*, bool_or(NOT p.ok AND p.run >= s.needed) OVER w AS armed
                    FROM (SELECT q.*,  -- run: points in a row on this point's side, it included
                                 q.n - coalesce(
                                   CASE WHEN q.ok THEN max(CASE WHEN NOT q.ok THEN q.n END) OVER w
                                        ELSE max(CASE WHEN q.ok THEN q.n END) OVER w END,
                                   0) AS run,
                                 max(CASE WHEN q.ok AND q.prev_ok IS NOT TRUE
                                          THEN q.observed_at END) OVER w AS began
                            FROM (SELECT o.observed_at, {_meets(_measure("o.value"))} AS ok,
                                         count(*) OVER w AS n,
                                         lag({_meets(_measure("o.value"))}) OVER w AS prev_ok
                                    FROM metric_observations o
                                   WHERE o.customer_id = s.customer_id
                                     AND o.metric_key = s.metric_key
                                     AND o.observed_at >= s.started AND o.observed_at <= :now
                                  WINDOW w AS (ORDER BY o.observed_at)) q
                          WINDOW w AS (ORDER BY q.observed_at)) p
                  WINDOW w AS (ORDER BY p.observed_at)) r
           WHERE (r.ok AND r.run >= s.needed AND (NOT s.met_at_start OR r.armed))
              OR (r.observed_at >= CAST(:end AS timestamptz)  -- nothing later is in the period
                  AND (NOT r.ok OR r.began >= CAST(:end AS timestamptz)))
           ORDER BY r.observed_at
           LIMIT 1
        ) first
       WHERE first.qualifies
         AND (SELECT count(*) FROM (  -- a run needs this many hits: most goals never get them
               SELECT FROM metric_observations o
                WHERE o.customer_id = s.customer_id AND o.metric_key = s.metric_key
                  AND o.observed_at >= s.started AND o.observed_at <= :now
                  AND {_meets(_measure("o.value"))}
                LIMIT s.needed) hits) >= s.needed
      UNION ALL
      SELECT 'milestones_done', s.id, max(m.completed_at)
        FROM scope s JOIN milestones m ON m.goal_id = s.id
       WHERE s.type IN ('success_plan', 'onboarding') AND s.metric_key IS NULL
       GROUP BY s.id
      HAVING bool_and(m.status IN ('done', 'skipped')) AND bool_or(m.status = 'done')
      UNION ALL
      SELECT 'custom_overdue', s.id, s.due_date::timestamp AT TIME ZONE 'UTC'
        FROM scope s WHERE s.type = 'custom' AND s.due_date < CAST(:today AS date)
    )
    SELECT r.kind, r.id AS goal_id, CAST(NULL AS uuid) AS achievement_id, s.customer_id,
           s.customer_name, s.name AS goal_name, s.csm_name, r.at
      FROM reached r JOIN scope s ON s.id = r.id
     WHERE r.at IS NOT NULL
       AND (CAST(:start AS timestamptz) IS NULL OR r.at >= CAST(:start AS timestamptz))
       AND (CAST(:end AS timestamptz) IS NULL OR r.at < CAST(:end AS timestamptz))
     ORDER BY r.at DESC, s.customer_name, s.name
    """
)


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), UTC)


def unrecorded_goals(
    *,
    session: Session,
    now: datetime,
    csm_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    industry: str | None = None,
    goal_type: str | None = None,
) -> list[MetricRow]:
    """Return goals reached (or custom goals fallen due) in the period that have no win."""
    params = {
        "ratio_units": list(RATIO_UNITS),
        "lookback": START_LOOKBACK_DAYS,
        "csm_id": csm_id,
        "industry": industry or None,
        "goal_type": str(goal_type) if goal_type else None,
        "now": now,
        "today": now.astimezone(UTC).date(),
        "start": _midnight(date_from),
        "end": _midnight(date_to + timedelta(days=1)) if date_to else None,
    }
    return [MetricRow.model_validate(r._mapping) for r in session.execute(UNRECORDED, params)]


def _rows(session: Session, w, kind: str, where, order) -> list[MetricRow]:
    columns = (
        w.c.goal_id,
        w.c.id.label("achievement_id"),
        w.c.customer_id,
        w.c.customer_name,
        w.c.goal_name,
        w.c.csm_name,
        w.c.achieved_at.label("at"),
        w.c.doc_hours.label("hours"),
    )
    found = session.execute(select(*columns).where(where).order_by(*order, w.c.id).limit(ROWS))
    return [MetricRow(kind=kind, **r._mapping) for r in found]


def _counts(rows: list[MetricRow]) -> dict[str, int]:
    return dict(Counter(row.kind for row in rows))


def _gaps(**counts: int) -> dict[str, int]:
    return {k: n for k, n in counts.items() if n}


def _between(hours, low: int | None, high: int | None):
    bounds = [hours.is_not(None)]
    bounds += [] if low is None else [hours > low]
    bounds += [] if high is None else [hours <= high]
    return and_(*bounds)


def success_metrics(
    *, session: Session, wins, unrecorded: list[MetricRow], now: datetime
) -> list[SuccessMetric]:
    """Return the four PRD metrics of the verified-wins subquery `wins` and the missed goals."""
    w, hours = wins, wins.c.doc_hours
    aged = now - timedelta(hours=WITHIN_HOURS)
    stale = and_(~w.c.documented, w.c.achieved_at <= aged)  # undocumented and out of time
    edges = [None, *(high for high, _ in DOC_BINS), None]
    t = session.execute(
        select(
            func.count().label("wins"),
            func.count().filter(w.c.documented).label("documented"),
            func.count().filter(w.c.emailed).label("emailed"),
            func.count().filter(w.c.used).label("used"),
            func.count().filter(hours <= WITHIN_HOURS).label("within"),
            func.count().filter(stale).label("stale"),
            func.percentile_cont(0.5).within_group(hours).label("p50"),
            func.percentile_cont(0.9).within_group(hours).label("p90"),
            *(
                func.count().filter(_between(hours, low, high)).label(f"bin{i}")
                for i, (low, high) in enumerate(pairwise(edges))
            ),
        )
    ).one()
    reached_late = [r for r in unrecorded if r.kind != "custom_overdue" and r.at <= aged]
    never = t.stale + len(reached_late)
    never_rows = _rows(session, w, "not_documented", stale, [w.c.achieved_at]) + reached_late
    slow_rows = _rows(session, w, "late", hours > WITHIN_HOURS, [hours.desc()])
    capture_rows = _rows(session, w, "not_documented", ~w.c.documented, [w.c.achieved_at.desc()])
    labels = [*(name for _, name in DOC_BINS), LAST_DOC_BIN]
    return [
        SuccessMetric(
            key="capture",
            numerator=t.documented,
            denominator=t.wins + len(unrecorded),
            target=TARGETS["capture"],
            gaps=_gaps(not_documented=t.wins - t.documented, **_counts(unrecorded)),
            rows=sorted(capture_rows + unrecorded, key=lambda r: r.at, reverse=True)[:ROWS],
        ),
        SuccessMetric(
            key="communication",
            numerator=t.emailed,
            denominator=t.wins,
            target=TARGETS["communication"],
            gaps=_gaps(not_emailed=t.wins - t.emailed),
            rows=_rows(session, w, "not_emailed", ~w.c.emailed, [w.c.achieved_at.desc()]),
        ),
        SuccessMetric(
            key="utilization",
            numerator=t.used,
            denominator=t.wins,
            target=TARGETS["utilization"],
            gaps=_gaps(used=t.used),
            rows=_rows(session, w, "used", w.c.used, [w.c.achieved_at.desc()]),
        ),
        SuccessMetric(
            key="documented_24h",
            numerator=t.within,
            denominator=t.documented + never,
            target=TARGETS["documented_24h"],
            gaps=_gaps(
                late=t.documented - t.within, not_documented=t.stale, **_counts(reached_late)
            ),
            rows=(sorted(never_rows, key=lambda r: r.at) + slow_rows)[:ROWS],
            bins=[
                *(Bin(label=name, count=t._mapping[f"bin{i}"]) for i, name in enumerate(labels)),
                Bin(label=NEVER, count=never),
            ],
            p50_hours=t.p50,
            p90_hours=t.p90,
        ),
    ]
