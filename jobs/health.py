"""Customer health: refresh the adoption factor from usage, then every combined health score."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.customers.adoption import refresh_adoption
from core.customers.health import PASS_MINUTES, refresh_scores
from jobs.registry import job


@job("customer_health", seconds=PASS_MINUTES * 60, first_delay=30)
def customer_health(*, session: Session, now: datetime | None = None) -> dict:
    """Refresh adoption factors and combined health scores; queue CRM write-backs of changes."""
    now = now or datetime.now(UTC)
    return refresh_adoption(session=session, now=now) | refresh_scores(session=session, now=now)
