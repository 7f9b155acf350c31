"""Upsell tracking: the first pass over N plans, and a steady pass beside its floor.

Seeds a demo of `customers` customers, plans every closed upsell (as the first `upsell_sync`
does), then copies the plans in SQL as `bench/reads.py` does (their upsells, criteria,
checkpoints, milestones, reviews and outcomes; the copies share their customer's usage) until
about `plans` of them are active. Then:

- **first pass**: the `upsell_tracking` job over every plan, as its first run after seeding
  (each plan's backlog of checkpoints, alerts, milestones, feedback asks and proposals);
- **steady pass**: the job again at the same moment, with nothing new to do;
- **floor**: every distinct statement the steady pass sent, sent again once, in the same order,
  with nothing computed around them, then one commit (the pass stores its outcome report every
  time): the least SQL that decides the same thing.

Besides wall time, the lines give the CPU seconds of the database backend and of this process:
on a shared, loaded machine those move far less.
"""

import gc
import os
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session, configure_mappers

from bench.detection import Clock, _cpu
from bench.reads import PLANS, _grow
from bench.scratch import scratch_database
from core.upsell import curve, feedback, milestones, outcome_report
from data.demo import generate
from jobs import upsell_tracking
from jobs.memory import settle_after_start
from jobs.upsell_sync import upsell_sync

TARGET = "target: first pass over 20,000 plans ≤ 30 s; steady ≤ 2× floor"
BEFORE = "before: first pass 383 s at 20,000 plans; steady 4.2 s vs floor 1.2 s"
TARGET_PLANS, TARGET_SECONDS = 20_000, 30
COUNTS = text(
    """
    SELECT count(*) FILTER (WHERE status = 'active') AS active, count(*) AS total
      FROM upsell_measurements
    """
)
# The job's steps, timed where the job calls them (module, attribute, label).
STEPS = (
    (curve, "learned_curve", "curve"),
    (upsell_tracking, "update_progress", "scores"),
    (upsell_tracking, "send_alerts", "alerts"),
    (milestones, "track", "milestones"),
    (upsell_tracking, "trigger_due", "checkpoints"),
    (feedback, "ask_due", "feedback asks"),
    (upsell_tracking, "propose_outcomes", "proposals"),
    (upsell_tracking, "refresh_predictions", "predictions"),
    (outcome_report, "refresh", "report"),
)


def _grow_to(engine, plans: int) -> tuple[int, int]:
    """Copy plans until about `plans` are active; return (active, all) plans."""
    with engine.connect() as conn:
        active, total = conn.execute(COUNTS).one()
    if active and plans > active:
        _grow(engine, "upsell_measurements", plans * total // active, PLANS)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        return tuple(conn.execute(COUNTS).one())


class _Steps:
    """Time each step of the job where the job calls it, for the first pass's breakdown."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.saved = []

    def __enter__(self):
        for module, name, label in STEPS:
            self._wrap(module, name, label)
        return self

    def _wrap(self, module, name: str, label: str) -> None:
        original = getattr(module, name)
        self.saved.append((module, name, original))

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0) + time.perf_counter() - started

        setattr(module, name, timed)

    def __exit__(self, *exc) -> None:
        for module, name, original in reversed(self.saved):
            setattr(module, name, original)


def _job(engine, now: datetime, statements: list | None = None):
    """Run the job once as its scheduler does; (counts, wall, db cpu, app cpu)."""
    with Session(engine) as session:
        clock = Clock(session)
        connection = session.connection()
        if statements is not None:

            def seen(_conn, _cursor, statement, parameters, _context, _many):
                statements.append((statement, parameters))

            event.listen(connection, "before_cursor_execute", seen)
        try:
            return clock(lambda: _run_and_commit(session, now))
        finally:
            if statements is not None:
                event.remove(connection, "before_cursor_execute", seen)


def _run_and_commit(session: Session, now: datetime) -> dict:
    counts = upsell_tracking.upsell_tracking(session=session, now=now)
    session.commit()
    return counts


def _floor(engine, statements: list) -> tuple:
    """Send each distinct statement of a steady pass once, in order, and commit as it does."""
    distinct = list({statement: (statement, params) for statement, params in statements}.values())
    with Session(engine) as session:
        clock = Clock(session)
        connection = session.connection()

        def replay():
            for statement, params in distinct:
                result = connection.exec_driver_sql(statement, params)
                if result.returns_rows:
                    result.all()
            # The pass stores its report every time, so it pays one commit that writes too.
            session.commit()

        _, wall, db, app = clock(replay)
    return len(distinct), wall, db, app


@contextmanager
def _as_jobs_process():
    """Set up as the jobs process is long before its first pass; restore the collector after."""
    thresholds = gc.get_threshold()
    configure_mappers()
    settle_after_start()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def run(customers: int | None = None, plans: int | None = None) -> list[str]:
    """Seed, grow to `plans` active plans, time the first and a steady pass; return lines."""
    customers, plans = customers or 1_000, plans or 2_000
    with _as_jobs_process(), scratch_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            generate(conn, customers=customers, seed=7)
        with Session(engine) as session, session.begin():
            upsell_sync(session=session)  # plans every closed upsell, as the first sync does
        active, total = _grow_to(engine, plans)
        now = datetime.now(UTC)
        with _Steps() as steps:
            counts, wall, db, app = _job(engine, now)
        steady, floors, statements = [], [], []
        for _ in range(3):
            statements.clear()
            steady.append(_job(engine, now, statements))
            floors.append(_floor(engine, statements))
        engine.dispose()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    per_thousand = wall / active * 1_000 if active else 0
    at_target = per_thousand * TARGET_PLANS / 1_000
    # The middle of three, by wall time (with its CPU figures).
    counts_steady, steady_wall, steady_db, steady_app = sorted(steady, key=lambda r: r[1])[1]
    statements_sent, floor_wall, floor_db, floor_app = sorted(floors, key=lambda r: r[1])[1]
    busy = {k: v for k, v in counts_steady.items() if k != "plans" and v}
    spent = {**steps.spent, "rest": wall - sum(steps.spent.values())}
    breakdown = ", ".join(f"{label} {seconds:.1f}" for label, seconds in spent.items())
    return [
        f"tracking {customers:,} customers, {active:,} active plans of {total:,} (copies share "
        f"their customer's usage); load average {load}",
        f"tracking first pass over {active:,} plans {wall:.1f} s = {active / wall:,.0f} plans/s, "
        f"{per_thousand:.2f} s per 1,000 plans (≈ {at_target:.0f} s at {TARGET_PLANS:,}; "
        f"{_cpu(db, app)}) — target: first pass over {TARGET_PLANS:,} plans ≤ {TARGET_SECONDS} s; "
        "before: first pass 383 s at 20,000 plans",
        f"tracking first pass steps (s): {breakdown}; "
        f"{counts['checkpoints_triggered']:,} checkpoints, {counts['alerts']:,} alerts, "
        f"{counts['milestones_planned']:,} milestones, {counts['feedback_asks']:,} feedback asks, "
        f"{counts['outcomes_proposed']:,} proposals",
        f"tracking steady pass {steady_wall:.2f} s vs floor {floor_wall:.2f} s "
        f"({statements_sent} statements) = {steady_wall / floor_wall:.1f}× "
        f"({_cpu(steady_db, steady_app)} vs {_cpu(floor_db, floor_app)}; middle of 3"
        f"{'; it still did ' + str(busy) if busy else ''}) — target: steady ≤ 2× floor; "
        "before: steady 4.2 s vs floor 1.2 s",
        f"tracking {TARGET}",
        f"tracking {BEFORE}",
    ]
