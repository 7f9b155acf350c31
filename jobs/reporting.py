"""Report upkeep: store what pages would otherwise derive from every usage series on each view."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.reporting.unrecorded import refresh_first_reach
from jobs.registry import job


@job("achievement_capture", seconds=300, first_delay=20, quiet=True)
def achievement_capture(*, session: Session, now: datetime | None = None) -> dict:
    """Store when each changed metric goal without a win first held its target."""
    found = refresh_first_reach(session=session, now=now or datetime.now(UTC))
    return {k: n for k, n in found.items() if n}
