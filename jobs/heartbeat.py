"""A heartbeat that proves the jobs process is alive and can reach the database."""

from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from core.audit.models import JobRun
from core.customers.models import Customer
from jobs.registry import job

KEEP_RUNS = timedelta(days=7)


@job("heartbeat", seconds=60)
def heartbeat(*, session: Session) -> dict:
    """Record that the scheduler is alive, with the database time; prune week-old job runs."""
    now = session.scalar(text("SELECT now()"))
    customers = session.scalar(select(func.count()).select_from(Customer))
    pruned = session.execute(delete(JobRun).where(JobRun.started_at < now - KEEP_RUNS)).rowcount
    return {"databaseTime": now.isoformat(), "customers": customers, "prunedRuns": pruned}
