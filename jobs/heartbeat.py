"""A heartbeat that proves the jobs process is alive and can reach the database."""

from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from core.audit.models import JobItemFailure, JobRun
from core.customers.models import Customer
from jobs.registry import job

KEEP_RUNS = timedelta(days=7)


@job("heartbeat", seconds=60)
def heartbeat(*, session: Session) -> dict:
    """Record that the scheduler is alive; prune week-old job runs and item failures."""
    now = session.scalar(text("SELECT now()"))
    customers = session.scalar(select(func.count()).select_from(Customer))
    pruned = session.execute(delete(JobRun).where(JobRun.started_at < now - KEEP_RUNS)).rowcount
    # A failed item no job tried for a week is gone (deleted, closed, decided): forget it.
    forgotten = session.execute(
        delete(JobItemFailure).where(JobItemFailure.last_seen_at < now - KEEP_RUNS)
    ).rowcount
    return {
        "databaseTime": now.isoformat(),
        "customers": customers,
        "prunedRuns": pruned,
        "prunedItemFailures": forgotten,
    }
