"""Partition upkeep: usage observations get their coming months' partitions ahead of the data."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.customers.partitions import ensure_partitions
from jobs.registry import job


@job("observation_partitions", seconds=3600, first_delay=60, quiet=True)
def observation_partitions(*, session: Session, now: datetime | None = None) -> dict:
    """Create the monthly partitions of usage observations for the coming months."""
    created = ensure_partitions(session=session, now=now or datetime.now(UTC))
    return {"created": created} if created else {}
