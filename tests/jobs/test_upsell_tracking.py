from datetime import timedelta

from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.customers.models import TimelineEvent
from core.drafts.models import Draft
from core.outbox.models import Channel, Delivery
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
    ProgressStatus,
)
from jobs import registry
from jobs.upsell_tracking import upsell_tracking
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of, deliveries

NOW = f.NOW
TODAY = NOW.date()


def _snapshot(session):
    tables = (Delivery, Draft, TimelineEvent, Outcome, AuditEntry, Checkpoint, Measurement)
    counts = {t.__name__: session.scalar(select(func.count()).select_from(t)) for t in tables}
    states = session.execute(
        select(Checkpoint.id, Checkpoint.status, Checkpoint.escalated_at, Checkpoint.summary)
    ).all()
    plans = session.execute(select(Measurement.id, Measurement.status, Measurement.version)).all()
    return counts, sorted(map(str, states)), sorted(map(str, plans))


def test_job_is_registered_every_ten_minutes():
    entry = registry.load_all()["upsell_tracking"]
    assert entry.seconds == 600 and entry.func is upsell_tracking


def test_job_runs_every_step_and_changes_nothing_the_second_time(session):
    owner = f.csm(session)
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    lagging = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=31),
        metrics=[f.auto("Seats", "tr_job_seats", 10, 110)],
    )
    f.observe_days(session, cust, "tr_job_seats", TODAY - timedelta(days=40), TODAY, 12)
    final = f.plan(
        session,
        f.customer(session, owner=owner, contacts=CONTACTS),
        started_on=TODAY - timedelta(days=90),
        metrics=[f.manual("Savings", 0, 10, 11)],
    )
    late = f.plan(
        session,
        f.customer(session, owner=owner, contacts=CONTACTS),
        started_on=TODAY - timedelta(days=45),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    for plan, days in ((final, (30, 60)), (late, (30,))):
        for day in days:
            checkpoints_of(session, plan)[day].status = CheckpointStatus.TRIGGERED
    session.flush()

    first = upsell_tracking(session=session, now=NOW)
    assert first["plans"] == 3 and first["alerts"] == 1
    assert first["checkpoints_triggered"] == 2  # lagging's day 30 (a day late), final's day 90
    assert first["checkpoints_caught_up"] == 1
    assert first["checkpoints_skipped"] == 2  # final's 30 and 60: the day-90 review replaces them
    assert first["outcomes_proposed"] == 1
    assert first["checkpoints_overdue"] == 1 and first["overdue_escalations"] == 1
    assert first["plans_closed_undecided"] == 0
    assert session.get(Measurement, lagging.id).progress_status == ProgressStatus.BEHIND
    assert checkpoints_of(session, late)[30].status == CheckpointStatus.OVERDUE
    assert {c.status for d, c in checkpoints_of(session, final).items() if d < 90} == {
        CheckpointStatus.SKIPPED
    }
    before = _snapshot(session)

    second = upsell_tracking(session=session, now=NOW)
    assert second["plans"] == 3
    assert {k: v for k, v in second.items() if k != "plans" and v} == {}
    assert _snapshot(session) == before


def test_a_first_run_over_a_backlog_leaves_no_finished_plan_without_a_proposal(session):
    """A plan 179 days past close: caught up in order, proposed as of day 90, then closed."""
    owner = f.csm(session)
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=179),
        metrics=[f.auto("Seats", "tr_job_backlog", 10, 110)],
    )
    start = TODAY - timedelta(days=179)
    # Seats climb to 120 by day 90 (target met then), then fall back to 20 by today.
    f.observe_days(
        session,
        cust,
        "tr_job_backlog",
        start - timedelta(days=14),
        TODAY,
        lambda i: 10 if i < 14 else (10 + min(i - 14, 90) * 110 / 90 if i <= 104 else 20),
    )
    counts = upsell_tracking(session=session, now=NOW)
    assert counts["checkpoints_triggered"] == 3 and counts["checkpoints_caught_up"] == 3
    cps = checkpoints_of(session, plan)
    assert cps[90].summary["caught_up"] == (
        "Day 90 check, prepared on day 179 from data up to day 90."
    )
    assert cps[90].summary["status"] == "exceeding" and cps[90].summary["metrics"][0]["met"]
    outcome = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    assert outcome.proposed_status == OutcomeStatus.SUCCESS  # as of day 90, not today's 20
    assert outcome.decide_by == TODAY + timedelta(days=30)
    row = session.get(Measurement, plan.id)
    assert row.status == MeasurementStatus.ACTIVE  # waiting for the CSM's decision
    # One meeting and one customer draft, for day 90 only.
    [meeting] = deliveries(session, Channel.CALENDAR)
    assert meeting.related_id == cps[90].id
    drafts = session.scalars(select(Draft.related_id).where(Draft.related_type == "checkpoint"))
    assert list(drafts) == [cps[90].id]

    later = upsell_tracking(session=session, now=NOW + timedelta(days=31))
    assert later["plans_closed_undecided"] == 1
    assert session.get(Measurement, plan.id).status == MeasurementStatus.COMPLETED
    assert session.get(Outcome, outcome.id).status == OutcomeStatus.NO_DECISION


def test_job_runs_through_the_registry(scratch_db):
    registry.load_all()
    first, second = registry.run_job("upsell_tracking"), registry.run_job("upsell_tracking")
    assert (first.status, second.status) == ("ok", "ok")
    assert second.details["checkpoints_triggered"] == 0
