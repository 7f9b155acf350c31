"""Deliver the outbox: Slack, Gmail, Google Docs/Calendar and Salesforce write-backs."""

from sqlalchemy.orm import Session

from core.outbox.worker import deliver_due
from jobs.registry import job


@job("outbox", seconds=5, exclusive=False, quiet=True)
def outbox(*, session: Session) -> dict:
    """Deliver every due outbox row (retries with backoff; dead letters wait for a person)."""
    return deliver_due()
