"""Goals reached (or fallen due) that the app never recorded, for achievement capture.

A goal counts as reached but not recorded when it has no achievement at all, is neither
cancelled nor missed, and either
- (KPI, onboarding, ROI with a metric and target) its observations since the goal's start held
  the target, direction-aware (value ÷ cost for ratio ROI goals), for the goal's `consecutive`
  count (default 3) of observations in a row, and that run came after an observation that
  missed the target and the baseline missed it too (a goal met when it started is no win);
  it was reached when the first such run began; or
- (milestone goals) every milestone is done or skipped and at least one done; reached when the
  last one was completed; or
- (custom goals) its due date passed without a confirmation ("custom_overdue").

How a metric goal's first qualifying run is found (`_FIRST_RUN`), each goal on its own, in
observation order:
1. a goal whose observations since its start hold the target fewer than `consecutive` times
   can never have a run that long; counting its hits stops at the `consecutive`-th, and this
   drops most goals without an achievement (they are mostly goals not reached yet);
2. for the rest, one streaming pass keeps the running length of the current run, its start
   and whether a long enough miss run came before (for goals met at start), and stops at the
   first qualifying run: the goal was reached when it began, and later points cannot change
   that; with a period end it also stops once a point after the end lies outside a run begun
   before it, as no run found later could begin in the period.
Equality with a plain windowed query over every observation is checked on generated goals in
tests/core/reporting/test_unrecorded_agreement.py.

Stored first reach. Even pruned, reading every metric goal's series takes seconds at 10,000
customers, and every leader's page shows capture. The moment a goal first reached its target
only changes when the goal changes (`updated_at`) or its series receives observations (a new
or corrected one moves `ingested_at`), so the `achievement_capture` job stores it per goal
(`refresh_first_reach`) with a watermark: the refresh's start (or the start of an older
transaction still open: its rows carry that start as their stamp) less the ingest grace that
detection uses. A reader takes a stored moment only for a goal with a row that is unchanged
since the watermark and whose series got nothing since then, nor holds an observation dated
after the refresh that is now past (`valid_until`: usage may be sent up to a day ahead of its
date, and the refresh only read up to its own time); every other metric goal in scope
(new, edited, with new data, or before the first refresh: all of them) is derived from its
observations as above, in the same statement. The figure is therefore the same with or without
the store (tested), and stays exact between refreshes; the store only decides how much is read.
Achievements, statuses, owners and industries are read live, so a win recorded a moment ago
leaves the unrecorded list at once.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.audit.watermarks import SETTLED, read_watermark, write_watermark
from core.goals.detection import INGEST_GRACE
from core.goals.results import RATIO_UNITS
from core.reporting.schemas import MetricRow

START_LOOKBACK_DAYS = 31  # the value at a goal's start: its latest observation this far back
WATERMARK = "goal_first_reach"  # sync_watermarks key: what the stored moments are valid since


def _meets(value: str) -> str:
    """SQL telling whether `value` meets the goal's target in its direction."""
    return (
        f"CASE WHEN s.direction = 'lower_is_better' THEN {value} <= s.target "
        f"ELSE {value} >= s.target END"
    )


def _measure(value: str) -> str:
    """SQL of what a ratio ROI goal compares: the value as a multiple of the cost."""
    return f"CASE WHEN s.ratio THEN {value} / s.cost ELSE {value} END"


# Goals without an achievement that a decision has not closed, within the filters.
_SCOPE = """
    scope AS (
      SELECT g.id, g.customer_id, g.type::text AS type, g.name, g.metric_key, g.target,
             g.direction::text AS direction, g.baseline, g.start_date, g.due_date, g.cost,
             g.updated_at,
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
    ), metric_scope AS (
      SELECT s.* FROM scope s
       WHERE s.type IN ('kpi', 'onboarding', 'roi') AND s.target IS NOT NULL
         AND s.metric_key IS NOT NULL
    ), derive AS MATERIALIZED (  -- metric goals whose stored first reach cannot be used
      SELECT s.id FROM metric_scope s
       WHERE CAST(:since AS timestamptz) IS NULL
          OR s.updated_at > CAST(:since AS timestamptz)
          OR NOT EXISTS (  -- none stored, or an observation sent ahead of its date is due now
               SELECT 1 FROM goal_first_reach f
                WHERE f.goal_id = s.id
                  AND (f.valid_until IS NULL OR f.valid_until > CAST(:now AS timestamptz)))
          OR (s.customer_id, s.metric_key) IN (
               SELECT o.customer_id, o.metric_key FROM metric_observations o
                WHERE o.ingested_at > CAST(:since AS timestamptz))
    )"""

# The first qualifying run of each goal in `derive`, from its observations: (kind, id, at).
_FIRST_RUN = f"""
    metric_goals AS (
      SELECT s.*, coalesce(
               (NOT s.ratio AND s.baseline IS NOT NULL AND {_meets("s.baseline")})
               OR {_meets(_measure("v.value"))}, false) AS met_at_start
        FROM metric_scope s
        JOIN derive d ON d.id = s.id
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
    ), first_runs AS (
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
    )"""

UNRECORDED = text(
    f"""
    WITH {_SCOPE}, {_FIRST_RUN}, reached AS (
      SELECT kind, id, at FROM first_runs
      UNION ALL
      SELECT 'not_recorded', f.goal_id, f.reached_at  -- stored, still valid
        FROM goal_first_reach f
        JOIN metric_scope s ON s.id = f.goal_id
       WHERE CAST(:since AS timestamptz) IS NOT NULL
         AND f.reached_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM derive d WHERE d.id = f.goal_id)
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

# Store the first reach of every metric goal whose stored one cannot be used (NULL: never).
STORE = text(
    f"""
    WITH {_SCOPE}, {_FIRST_RUN}
    INSERT INTO goal_first_reach (goal_id, reached_at, checked_at, valid_until)
    SELECT d.id, r.at, CAST(:now AS timestamptz),
           (SELECT min(o.observed_at) FROM metric_observations o  -- sent ahead of its date
             WHERE o.customer_id = s.customer_id AND o.metric_key = s.metric_key
               AND o.observed_at > CAST(:now AS timestamptz))
      FROM derive d
      JOIN metric_scope s ON s.id = d.id
      LEFT JOIN first_runs r ON r.id = d.id
    ON CONFLICT (goal_id) DO UPDATE
       SET reached_at = excluded.reached_at, checked_at = excluded.checked_at,
           valid_until = excluded.valid_until
    """
)

# Rows no reader can use any more: the goal got a win, was closed or is no metric goal now.
PRUNE = text(
    """
    DELETE FROM goal_first_reach f
     WHERE NOT EXISTS (
       SELECT 1 FROM goals g
        WHERE g.id = f.goal_id AND g.status NOT IN ('cancelled', 'missed')
          AND g.type IN ('kpi', 'onboarding', 'roi')
          AND g.target IS NOT NULL AND g.metric_key IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM goal_achievements a WHERE a.goal_id = g.id))
    """
)

VALID_SINCE = text(f"SELECT {SETTLED}")  # before reading: see core.audit.watermarks
ONE_WRITER = text("SELECT pg_advisory_xact_lock(hashtext('outcomes:goal-first-reach'))")


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), UTC)


def _params(now: datetime, since: datetime | None, **scope) -> dict:
    return {
        "ratio_units": list(RATIO_UNITS),
        "lookback": START_LOOKBACK_DAYS,
        "csm_id": None,
        "industry": None,
        "goal_type": None,
        "now": now,
        "today": now.astimezone(UTC).date(),
        "start": None,
        "end": None,
        "since": since,
    } | scope


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
    params = _params(
        now,
        read_watermark(session, WATERMARK),
        csm_id=csm_id,
        industry=industry or None,
        goal_type=str(goal_type) if goal_type else None,
        start=_midnight(date_from),
        end=_midnight(date_to + timedelta(days=1)) if date_to else None,
    )
    return [MetricRow.model_validate(r._mapping) for r in session.execute(UNRECORDED, params)]


def refresh_first_reach(*, session: Session, now: datetime | None = None) -> dict:
    """Store the first reach of every metric goal changed since the last refresh."""
    now = now or datetime.now(UTC)
    session.execute(ONE_WRITER)  # two refreshes at once would store the same rows twice
    since = read_watermark(session, WATERMARK)
    # Taken before reading: a row stamped before this moment is committed or seen as open.
    valid_since = session.scalar(VALID_SINCE, {"now": now, "grace": INGEST_GRACE})
    stored = session.execute(STORE, _params(now, since)).rowcount
    pruned = session.execute(PRUNE).rowcount
    write_watermark(session, WATERMARK, valid_since)
    return {"goals_read": stored, "rows_pruned": pruned}
