"""Goal detection: find achieved goals, hold doubtful ones, document and celebrate the rest."""

from sqlalchemy.orm import Session

from core.documentation.announce import notify_held
from core.documentation.service import document_pending
from core.goals.detection import detect
from jobs.registry import job


@job("goal_detection", seconds=300)
def goal_detection(*, session: Session) -> dict:
    """Detect achievements set-based, then document and celebrate them in the same cycle."""
    created = detect(session=session)
    held = notify_held(session=session, achievement_ids=created)
    # Detection stands on its own: whatever documenting does next, the wins are recorded.
    session.commit()
    documented = document_pending(session=session)["documented"]
    return {"detected": len(created), "held": held, "documented": documented}
