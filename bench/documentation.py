"""Documenting wins and preparing checkpoints: the first passes after seeding a fresh demo.

Each pass runs in a process of its own, as the jobs process runs it, so its peak RSS is the
pass's own: the first `goal_detection` pass (detect, commit, document every new win) and, once
the upsell sync has planned every closed upsell, the first `upsell_tracking` pass (checkpoints
due since each plan started are prepared then).
"""

import multiprocessing
import resource
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.scratch import scratch_database
from core.documentation.announce import notify_held
from core.documentation.service import document_pending
from core.goals.detection import detect
from data.demo import generate
from jobs import upsell_tracking
from jobs.memory import settle_after_start
from jobs.upsell_sync import upsell_sync

TARGETS = (
    "targets: ≥ 500 wins/s documented; the first upsell tracking pass over 20,000 plans "
    "≤ 30 s (1.5 s per 1,000 plans)"
)
PLANS = text("SELECT count(*) FROM upsell_measurements WHERE status = 'active'")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _first_detection(url: str) -> dict:
    """Run the first goal_detection pass as the job does; return its figures."""
    settle_after_start()  # as the jobs process does once its jobs are loaded
    engine = create_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        created = detect(session=session)
        notify_held(session=session, achievement_ids=created)
        session.commit()
        detected, cpu = time.perf_counter(), time.process_time()
        documented = document_pending(session=session)["documented"]
        session.commit()
        finished, cpu = time.perf_counter(), time.process_time() - cpu
    engine.dispose()
    return {
        "detection": detected - started,
        "documentation": finished - detected,
        "documentation_cpu": cpu,
        "wins": documented,
        "peak_mb": _peak_mb(),
    }


def _first_tracking(url: str) -> dict:
    """Run the first upsell_tracking pass as the job does; time its checkpoints on the way."""
    spent = {}
    trigger_due = upsell_tracking.trigger_due

    def timed(**kwargs):
        started = time.perf_counter()
        counts = trigger_due(**kwargs)
        spent["checkpoints"] = time.perf_counter() - started
        return counts

    upsell_tracking.trigger_due = timed  # the job's own step, timed where the job calls it
    engine = create_engine(url)
    with Session(engine) as session:
        plans = session.scalar(PLANS)
        started = time.perf_counter()
        counts = upsell_tracking.upsell_tracking(session=session, now=datetime.now(UTC))
        session.commit()
        finished = time.perf_counter()
    engine.dispose()
    return {
        "plans": plans,
        "pass": finished - started,
        "checkpoints": spent["checkpoints"],
        "triggered": counts["checkpoints_triggered"],
        "peak_mb": _peak_mb(),
    }


def _in_own_process(fn, url: str) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, (url,))


def run(customers: int = 1_000) -> list[str]:
    """Seed `customers` customers, then time the first documentation and checkpoint passes."""
    with scratch_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            generate(conn, customers=customers, seed=7)
        docs = _in_own_process(_first_detection, url)
        with Session(engine) as session, session.begin():
            upsell_sync(session=session)  # plans every closed upsell, as the first sync does
        engine.dispose()
        tracking = _in_own_process(_first_tracking, url)
    rate = docs["wins"] / docs["documentation"] if docs["documentation"] else 0
    per_thousand = tracking["pass"] / tracking["plans"] * 1_000 if tracking["plans"] else 0
    return [
        f"docs    {customers:,} customers, first goal_detection pass "
        f"{docs['detection'] + docs['documentation']:.1f}s: detection {docs['detection']:.1f}s, "
        f"documenting {docs['wins']:,} wins {docs['documentation']:.1f}s = {rate:,.0f} wins/s "
        f"(process CPU {docs['documentation_cpu']:.1f}s); peak RSS {docs['peak_mb']:,.0f} MB",
        f"docs    first upsell_tracking pass over {tracking['plans']:,} plans "
        f"{tracking['pass']:.1f}s ({per_thousand:.1f}s per 1,000 plans): checkpoints "
        f"{tracking['checkpoints']:.1f}s for {tracking['triggered']:,}; "
        f"peak RSS {tracking['peak_mb']:,.0f} MB",
        f"docs    {TARGETS}",
    ]
