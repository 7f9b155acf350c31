"""A heartbeat that proves the jobs process is alive and can reach the database."""

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.customers.models import Customer
from jobs.registry import job


@job("heartbeat", seconds=60)
def heartbeat(*, session: Session) -> dict:
    """Record that the scheduler is alive, with the database time and customer count."""
    now = session.scalar(text("SELECT now()"))
    customers = session.scalar(select(func.count()).select_from(Customer))
    return {"databaseTime": now.isoformat(), "customers": customers}
