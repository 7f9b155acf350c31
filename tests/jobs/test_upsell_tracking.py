from datetime import timedelta

from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.customers.models import TimelineEvent
from core.drafts.models import Draft
from core.outbox.models import Delivery
from core.upsell.models import CheckpointStatus, Measurement, Outcome, ProgressStatus
from jobs import registry
from jobs.upsell_tracking import upsell_tracking
from tests.core.upsell import factories_tracking as f

NOW = f.NOW
TODAY = NOW.date()


def _snapshot(session):
    tables = (Delivery, Draft, TimelineEvent, Outcome, AuditEntry)
    return {t.__name__: session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_job_is_registered_every_ten_minutes():
    entry = registry.load_all()["upsell_tracking"]
    assert entry.seconds == 600 and entry.func is upsell_tracking


def test_job_runs_every_step_and_changes_nothing_the_second_time(session):
    owner = f.csm(session)
    cust = f.customer(session, owner=owner)
    lagging = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=31),
        metrics=[f.auto("Seats", "tr_job_seats", 10, 110)],
    )
    f.observe(session, cust, "tr_job_seats", TODAY - timedelta(days=40), TODAY, 12)
    final = f.plan(
        session,
        f.customer(session, owner=owner),
        started_on=TODAY - timedelta(days=90),
        metrics=[f.manual("Savings", 0, 10, 11)],
    )
    late = f.plan(
        session,
        f.customer(session, owner=owner),
        started_on=TODAY - timedelta(days=45),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    for plan, days in ((final, (30, 60)), (late, (30,))):
        for day in days:
            f.checkpoints_of(session, plan)[day].status = CheckpointStatus.TRIGGERED
    session.flush()

    first = upsell_tracking(session=session, now=NOW)
    assert first == {
        "plans": 3,
        "values_refreshed": 1,
        "metrics_rescored": 3,
        "status_changes": 3,
        "alerts": 1,
        "alerts_cleared": 0,
        "checkpoints_triggered": 2,
        "outcomes_proposed": 1,
        "checkpoints_overdue": 3,
    }
    assert session.get(Measurement, lagging.id).progress_status == ProgressStatus.BEHIND
    assert f.checkpoints_of(session, late)[30].status == CheckpointStatus.OVERDUE
    before = _snapshot(session)

    second = upsell_tracking(session=session, now=NOW)
    assert second == {
        "plans": 3,
        "values_refreshed": 0,
        "metrics_rescored": 0,
        "status_changes": 0,
        "alerts": 0,
        "alerts_cleared": 0,
        "checkpoints_triggered": 0,
        "outcomes_proposed": 0,
        "checkpoints_overdue": 0,
    }
    assert _snapshot(session) == before


def test_job_runs_through_the_registry(scratch_db):
    registry.load_all()
    first, second = registry.run_job("upsell_tracking"), registry.run_job("upsell_tracking")
    assert (first.status, second.status) == ("ok", "ok")
    assert second.details["checkpoints_triggered"] == 0
