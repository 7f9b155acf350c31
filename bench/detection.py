"""Goal detection: a full pass beside the raw-SQL floor, an incremental pass and an idle pass.

- **floor**: one aggregation query reading what verification has to read (per metric goal its
  value at the start and its latest 60 observations since the start) and deciding, per goal,
  only whether its latest three points meet the target: the least a full pass can cost.
- **full pass**: `detect` over a fresh demo (every metric goal read and judged, wins written).
- **next pass**: the pass after it, which reads again the goals the full pass moved (held wins,
  met at start): a goal changed since the last pass is read again, whoever changed it.
- **incremental**: `detect` after 10,000 new observations, five on each of 2,000 goals' series
  (more on a smaller book), once the passes before it settled.
- **idle**: `detect` again with nothing new.

The seeded rows get statistics (`ANALYZE`, as autovacuum would), and each pass runs as the job
would `INGEST_GRACE` after the rows before it arrived, so the grace re-read of the last five
minutes is not counted as work. Besides wall time, the lines give the CPU seconds of the
database backend and of this process: on a shared, loaded machine those move far less.
"""

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.scratch import scratch_database
from core.goals.detection import INGEST_GRACE, detect
from core.goals.verify_sql import RECENT, START_LOOKBACK_DAYS
from data.demo import generate

TARGETS = "targets: full ≤ 2× floor; incremental ≤ 0.5 s; idle ≤ 50 ms"
REFERENCE = (
    "before the SQL rework (10,000 customers): full 89–119 s vs floor 1.5–2 s; "
    "idle 0.9 s; incremental 5.9 s"
)
EARLIER = (
    "before HOT evaluation stamps and presorted point arrays (10,000 customers): full 2.41 s "
    "vs floor 0.91 s (db cpu 2.2×); incremental 0.35 s; idle 2.0 ms"
)
NEW_ROWS, NEW_SERIES = 10_000, 2_000

METRIC_GOALS = """
    g.status IN ('active', 'met_at_start', 'pending_confirmation')
    AND g.metric_key IS NOT NULL AND g.target IS NOT NULL
    AND g.type IN ('kpi', 'onboarding', 'roi')
    AND NOT EXISTS (SELECT 1 FROM goal_achievements a
                     WHERE a.goal_id = g.id AND a.status <> 'held_for_confirmation')
"""
FLOOR = text(
    f"""
    SELECT g.id, bool_and(CASE WHEN g.direction = 'lower_is_better' THEN o.value <= g.target
                               ELSE o.value >= g.target END) FILTER (WHERE o.r <= 3) AS crossed,
           min(s.value) AS start_value
      FROM goals g
      LEFT JOIN LATERAL (
        (SELECT sb.value FROM metric_observations sb
          WHERE sb.customer_id = g.customer_id AND sb.metric_key = g.metric_key
            AND sb.observed_at < g.start_date
            AND sb.observed_at >= g.start_date - make_interval(days => :lookback)
          ORDER BY sb.observed_at DESC LIMIT 1)
        UNION ALL
        (SELECT sa.value FROM metric_observations sa
          WHERE sa.customer_id = g.customer_id AND sa.metric_key = g.metric_key
            AND sa.observed_at >= g.start_date
          ORDER BY sa.observed_at LIMIT 1)
        LIMIT 1
      ) s ON true
      CROSS JOIN LATERAL (
        SELECT x.value, row_number() OVER (ORDER BY x.observed_at DESC) AS r
          FROM (SELECT ob.observed_at, ob.value FROM metric_observations ob
                 WHERE ob.customer_id = g.customer_id AND ob.metric_key = g.metric_key
                   AND ob.observed_at >= g.start_date
                 ORDER BY ob.observed_at DESC LIMIT :recent) x
      ) o
     WHERE {METRIC_GOALS}
     GROUP BY g.id
    """
)
FLOOR_PARAMS = {"recent": RECENT, "lookback": START_LOOKBACK_DAYS}
# 10,000 new observations on up to 2,000 goals' series (five each; more on a smaller book),
# an hour apart after each series' latest one, a little past its value.
NEW_OBSERVATIONS = text(
    f"""
    INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, source)
    SELECT s.customer_id, s.metric_key, s.latest + i * interval '1 hour',
           round(s.value * (1 + 0.01 * i), 4), 'bench'
      FROM (SELECT *, count(*) OVER () AS series FROM (
            SELECT DISTINCT ON (g.customer_id, g.metric_key) g.customer_id, g.metric_key,
                   o.observed_at AS latest, o.value
              FROM goals g
              CROSS JOIN LATERAL (
                SELECT ob.observed_at, ob.value FROM metric_observations ob
                 WHERE ob.customer_id = g.customer_id AND ob.metric_key = g.metric_key
                 ORDER BY ob.observed_at DESC LIMIT 1) o
             WHERE {METRIC_GOALS}
             ORDER BY g.customer_id, g.metric_key
             LIMIT {NEW_SERIES}) chosen) s
      CROSS JOIN generate_series(1, 1 + {NEW_ROWS} / s.series) AS i
     ORDER BY i, s.customer_id, s.metric_key
     LIMIT {NEW_ROWS}
    ON CONFLICT DO NOTHING
    """
)
COUNTS = text(
    f"""
    SELECT (SELECT count(*) FROM goals g WHERE {METRIC_GOALS}) AS goals,
           (SELECT count(*) FROM metric_observations) AS observations
    """
)
READ = text("SELECT count(*) FROM goals WHERE evaluated_at = :stamp")


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds the database backend has used (None when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time, database CPU and this process's CPU of what runs on one connection."""

    def __init__(self, session: Session) -> None:
        self.pid = session.scalar(text("SELECT pg_backend_pid()"))

    def __call__(self, work):
        db, app, wall = _backend_cpu(self.pid), time.process_time(), time.perf_counter()
        result = work()
        wall, app = time.perf_counter() - wall, time.process_time() - app
        db = None if db is None else _backend_cpu(self.pid) - db
        return result, wall, db, app


def _cpu(db: float | None, app: float) -> str:
    return f"cpu db {'?' if db is None else f'{db:.2f}'} s + app {app:.2f} s"


def _pass(engine, now: datetime):
    """One detection pass in its own transaction; (new achievements, goals read, timings)."""
    with Session(engine) as session, session.begin():
        clock = Clock(session)
        created, wall, db, app = clock(lambda: detect(session=session, now=now))
        read = session.scalar(READ, {"stamp": now - INGEST_GRACE})
    return len(created), read, wall, db, app


def _as_job(now: datetime | None = None) -> datetime:
    """The pass's `now`: the grace after the rows before it arrived."""
    return (now or datetime.now(UTC)) + INGEST_GRACE


def run(customers: int = 1_000) -> list[str]:
    """Seed `customers` customers, time the floor and the passes; return report lines."""
    with scratch_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            generate(conn, customers=customers, seed=7)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        with Session(engine) as session:
            goals, observations = session.execute(COUNTS).one()
            clock = Clock(session)
            floors = [clock(lambda: session.execute(FLOOR, FLOOR_PARAMS).all()) for _ in range(3)]
        floor = statistics.median(f[1] for f in floors)
        floor_db = statistics.median(f[2] for f in floors) if floors[0][2] is not None else None
        floor_app = statistics.median(f[3] for f in floors)
        full = _pass(engine, _as_job())
        after_full = _pass(engine, _as_job())  # reads the goals the full pass moved
        with engine.begin() as conn:
            added = conn.execute(NEW_OBSERVATIONS).rowcount
        incremental = _pass(engine, _as_job())
        after_incremental = _pass(engine, _as_job())
        idle = _pass(engine, _as_job())
        engine.dispose()
    created, read, wall, db, app = full
    ratio = wall / floor if floor else float("inf")
    db_ratio = f", db cpu {db / floor_db:.1f}×" if db is not None and floor_db else ""
    return [
        f"detect  {customers:,} customers: {goals:,} metric goals to check, "
        f"{observations:,} observations (shared, loaded machine: wall times vary run to run)",
        f"detect  full pass    {wall:7.2f} s  ({read:,} goals read, {created:,} new achievements; "
        f"{_cpu(db, app)})",
        f"detect  floor        {floor:7.2f} s  (median of 3; {_cpu(floor_db, floor_app)})"
        f"  → full/floor {ratio:.1f}×{db_ratio}",
        f"detect  next pass    {after_full[2]:7.2f} s  ({after_full[1]:,} goals the full pass "
        f"moved, read again; {_cpu(after_full[3], after_full[4])})",
        f"detect  incremental  {incremental[2]:7.2f} s  ({added:,} new observations: "
        f"{incremental[1]:,} goals read, {incremental[0]:,} new achievements; "
        f"{_cpu(incremental[3], incremental[4])}); next pass {after_incremental[2]:.2f} s",
        f"detect  idle         {idle[2] * 1000:7.1f} ms ({idle[1]:,} goals read; "
        f"{_cpu(idle[3], idle[4])})",
        f"detect  {TARGETS}",
        f"detect  {REFERENCE}",
        f"detect  {EARLIER}",
    ]
