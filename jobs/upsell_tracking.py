"""Upsell tracking: score plans, alert, milestones, checkpoints, feedback asks, outcomes, report.

The pass is set-based whatever the number of plans: each step selects every plan it has work
for in one query, prepares their rows in memory (a plan that cannot be prepared is recorded and
left out) and writes them a chunk of at most 1,000 rows per statement, one array per column; a
chunk the database refuses is written again one item per savepoint, so only the refused item
fails (`core/upsell/bulk.py`, `core.audit.failures`). The expected adoption curve is learned
once for the pass. Its statements do not grow with its plans; `python -m bench tracking`
times a first and a steady pass.
"""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.upsell import curve, feedback, lifecycle, milestones, outcome_report
from core.upsell.checkpoints import mark_overdue, trigger_due
from core.upsell.outcomes import propose_outcomes
from core.upsell.prediction import refresh_predictions
from core.upsell.progress import send_alerts, update_progress
from jobs.registry import job


@job("upsell_tracking", seconds=600, first_delay=60)  # after the first upsell_sync
def upsell_tracking(*, session: Session, now: datetime | None = None) -> dict:
    """Score every active plan, alert CSMs, trigger due checkpoints and propose outcomes."""
    now = now or datetime.now(UTC)
    counts: dict[str, int] = {}
    # Learned once: only completed plans teach the curve, and the pass completes none before
    # its last scoring step.
    shape = curve.learned_curve(session=session) or curve.LINEAR
    counts.update(update_progress(session=session, now=now, shape=shape))
    counts.update(send_alerts(session=session, now=now))
    counts.update(milestones.track(session=session, now=now))
    counts.update(trigger_due(session=session, now=now, shape=shape))
    counts.update(feedback.ask_due(session=session, now=now))  # the 60-day feedback ask
    counts.update(propose_outcomes(session=session, now=now, shape=shape))
    counts.update(mark_overdue(session=session, now=now))
    counts.update(lifecycle.escalate_overdue(session=session, now=now))  # once per checkpoint
    counts.update(lifecycle.close_undecided(session=session, now=now))  # "no decision" after grace
    counts.update(refresh_predictions(session=session, now=now))  # e.g. the day-30 signal
    # The pass stands on its own; the outcome report is then computed from it and stored, so
    # its readers never compute it themselves.
    session.commit()
    counts.update(outcome_report.refresh(session=session, now=now))
    return counts
