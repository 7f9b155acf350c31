"""Goal detection: a full pass over a fresh demo, an idle pass, and the documentation after."""

import time

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.scratch import scratch_database
from core.documentation.service import document_pending
from core.goals.detection import detect
from data.demo import generate

METRIC_GOALS = text("SELECT count(*) FROM goals WHERE metric_key IS NOT NULL")
REFERENCE = "reference: 10,000 customers took 89–119 s for a full pass before the SQL rework"


def run(customers: int = 1_000) -> list[str]:
    """Seed `customers` customers, then time detection and documentation; return report lines."""
    with scratch_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            generate(conn, customers=customers, seed=7)
        with Session(engine) as session, session.begin():
            goals = session.scalar(METRIC_GOALS)
            started = time.perf_counter()
            found = detect(session=session)
            full = time.perf_counter() - started
            started = time.perf_counter()
            documented = document_pending(session=session)["documented"]
            documenting = time.perf_counter() - started
        with Session(engine) as session, session.begin():
            started = time.perf_counter()
            again = detect(session=session)
            idle = time.perf_counter() - started
        engine.dispose()
    return [
        f"detect  {customers:,} customers, {goals:,} metric goals: full pass {full:.2f}s "
        f"({len(found):,} new achievements); idle pass {idle * 1000:.0f} ms ({len(again)} new)",
        f"detect  documentation: {documented:,} wins in {documenting:.2f}s "
        f"= {documented / documenting if documenting else 0:,.0f} wins/s",
        f"detect  {REFERENCE}",
    ]
