"""The tracking pass writes in bulk what the per-plan rules decide, and isolates a refused write.

Several plans go through one `upsell_tracking` pass: their alerts, outbox rows, timeline lines,
feedback asks and outcome proposals are compared with what the rules decide for each plan on
its own. One plan's alert is refused by the database (a check constraint added for the test):
that plan alone keeps no alert and is recorded as failed, every other row is written, and the
next pass sends it.
"""

from datetime import timedelta

from sqlalchemy import event, select, text

from core.audit.models import JobItemFailure
from core.customers.models import TimelineEvent
from core.drafts.models import Draft, DraftKind
from core.outbox.models import Channel, Delivery
from core.upsell import asof
from core.upsell.models import (
    CheckpointStatus,
    Measurement,
    MeasurementMetric,
    Outcome,
    PlanMilestone,
    ProgressStatus,
)
from core.upsell.outcomes import propose
from core.upsell.progress import alert_reasons
from core.upsell.reviews import checkpoint_title
from jobs.upsell_tracking import upsell_tracking
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of

NOW = f.NOW
TODAY = NOW.date()


def _lagging(session, owner, key: str) -> Measurement:
    """A plan 31 days in whose usage stays at its baseline: behind, alerted, day 30 due."""
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=31),
        metrics=[f.auto("Seats", key, 10, 110)],
    )
    f.observe_days(session, cust, key, TODAY - timedelta(days=40), TODAY, 10)
    return plan


def _final(session, owner, current) -> Measurement:
    """A plan at day 90 whose day-30 and day-60 checkpoints were prepared: it gets a proposal."""
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=90),
        metrics=[f.manual("Hours saved", 0, 10, current)],
    )
    for day in (30, 60):
        checkpoints_of(session, plan)[day].status = CheckpointStatus.TRIGGERED
    session.flush()
    return plan


def _asking(session, owner) -> Measurement:
    """A plan at day 61 with contacts: its 60-day feedback ask is due, nothing else."""
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    return f.plan(
        session, cust, started_on=TODAY - timedelta(days=61), metrics=[f.manual("Hours", 0, 10, 9)]
    )


def _refuse_alerts_of(session, plan: Measurement) -> None:
    """Make the database refuse the alert DM of `plan` (rolled back with the test)."""
    session.execute(
        text(
            "ALTER TABLE outbox_deliveries ADD CONSTRAINT test_refused_alert "
            f"CHECK (related_id IS DISTINCT FROM '{plan.id}'::uuid OR channel <> 'slack_dm')"
        )
    )


def _expected_alert(session, plan: Measurement) -> dict:
    """What the alert rules decide for one plan on its own: its key, recipient and reasons."""
    row = session.get(Measurement, plan.id)
    metrics = session.scalars(
        select(MeasurementMetric)
        .where(MeasurementMetric.measurement_id == plan.id)
        .order_by(MeasurementMetric.position)
    ).all()
    reasons = alert_reasons(metrics, days=(TODAY - row.started_on).days, horizon=90)
    return {
        "key": f"plan:{plan.id}:alert:{row.progress_status.value}:{TODAY.isoformat()}",
        "reasons": "\n".join(f"• {r}" for r in reasons),
    }


def _expected_proposal(session, plan: Measurement) -> tuple:
    """What the proposal rules decide for one plan on its own, as of its final checkpoint."""
    final = checkpoints_of(session, plan)[90]
    shot = asof.snapshots(session=session, points=[(1, plan.id, asof.moment(final.due_on, NOW))])[1]
    status, reasons = propose(shot.metrics, shrink=[], product="Analytics Pro", now=shot.at)
    return status, reasons


def test_a_pass_writes_what_the_rules_decide_and_isolates_a_refused_write(session):
    owner = f.csm(session)
    lagging = [_lagging(session, owner, f"tp_seats_{i}") for i in range(3)]
    refused = lagging[1]
    met, short = _final(session, owner, 11), _final(session, owner, 1)
    asking = _asking(session, owner)
    plans = [*lagging, met, short, asking]
    _refuse_alerts_of(session, refused)

    counts = upsell_tracking(session=session, now=NOW)

    assert counts["plans"] == 6
    # Alerts: one DM per plan behind (the lagging ones and the short final one), the refused
    # one excepted; it keeps no alerted status.
    alerts = [lagging[0], lagging[2], short]
    assert counts["alerts"] == 3
    dms = {
        d.related_id: d
        for d in session.scalars(select(Delivery).where(Delivery.channel == Channel.SLACK_DM))
    }
    assert set(dms) == {p.id for p in alerts}
    for plan in alerts:
        expected = _expected_alert(session, plan)
        assert dms[plan.id].idempotency_key == expected["key"]
        assert dms[plan.id].payload["email"] == owner.email
        assert dms[plan.id].payload["blocks"][2]["text"]["text"] == expected["reasons"]
    alerted = dict(session.execute(select(Measurement.id, Measurement.alerted_status)).all())
    assert {alerted[p.id] for p in alerts} == {ProgressStatus.BEHIND}
    assert alerted[refused.id] is None
    failures = {(r.item_type, r.item_id): r for r in session.scalars(select(JobItemFailure))}
    assert set(failures) == {("plan_alert", str(refused.id))}
    assert failures[("plan_alert", str(refused.id))].reason.startswith("The database refused it")

    # Checkpoints, timeline and the other outbox rows: the refused plan's included.
    prepared = {
        p.id: [c for c in checkpoints_of(session, p).values() if c.status != "scheduled"]
        for p in plans
    }
    assert {p: sorted(c.day for c in cps) for p, cps in prepared.items()} == {
        **{p.id: [30] for p in lagging},
        met.id: [30, 60, 90],
        short.id: [30, 60, 90],
        asking.id: [30, 60],
    }
    lines = session.execute(
        select(TimelineEvent.related_id, TimelineEvent.title).where(
            TimelineEvent.kind == "checkpoint_triggered"
        )
    ).all()
    new = {p: [c for c in cps if c.triggered_at is not None] for p, cps in prepared.items()}
    assert sorted(map(tuple, lines)) == sorted(
        (c.id, f"{checkpoint_title(c.day)} for Analytics expansion")
        for cps in new.values()
        for c in cps
    )
    others = session.execute(
        select(Delivery.channel, Delivery.related_id).where(Delivery.channel != Channel.SLACK_DM)
    ).all()
    assert sorted(map(tuple, others)) == sorted(
        [(Channel.GOOGLE_DOC, c.id) for cps in new.values() for c in cps]
        + [(Channel.CALENDAR, max(cps, key=lambda c: c.day).id) for cps in new.values() if cps]
    )

    # Proposals: the per-plan rules as of each plan's final checkpoint.
    outcomes = {o.measurement_id: o for o in session.scalars(select(Outcome))}
    assert set(outcomes) == {met.id, short.id}
    for plan in (met, short):
        status, reasons = _expected_proposal(session, plan)
        assert (outcomes[plan.id].proposed_status, outcomes[plan.id].proposed_reasons) == (
            status,
            reasons,
        )
    assert outcomes[met.id].proposed_status.value == "success"
    assert outcomes[met.id].decide_by == TODAY + timedelta(days=30)

    # The 60-day feedback asks (plans between day 60 and their horizon), to the primary contact.
    asks = session.execute(
        select(Draft.related_id, Draft.to_addresses).where(Draft.kind == DraftKind.FEEDBACK_REQUEST)
    ).all()
    assert counts["feedback_asks"] == 3
    assert {related for related, _ in asks} == {asking.id, met.id, short.id}
    assert all(len(to) == 1 and to[0].startswith("lee") for _, to in asks)
    # Milestones were laid out for every plan, the refused one's too.
    planned = set(session.scalars(select(PlanMilestone.measurement_id)))
    assert refused.id in planned and lagging[0].id in planned

    # The next pass, the database accepting it again, sends the refused alert and clears it.
    session.execute(text("ALTER TABLE outbox_deliveries DROP CONSTRAINT test_refused_alert"))
    again = upsell_tracking(session=session, now=NOW)
    assert again["alerts"] == 1
    assert session.scalar(select(JobItemFailure.id)) is None
    assert session.get(Measurement, refused.id).alerted_status == ProgressStatus.BEHIND


def _statements(session, action) -> tuple[int, dict]:
    count = 0

    def seen(*_):
        nonlocal count
        count += 1

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        result = action()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    return count, result


def _book(session, owner, copies: int, tag: str) -> None:
    for i in range(copies):
        _lagging(session, owner, f"tp_{tag}_{i}")
        _final(session, owner, 11)
        _asking(session, owner)


def test_the_statements_of_a_pass_do_not_grow_with_its_plans(session):
    owner = f.csm(session)
    _book(session, owner, 1, "few")
    few, counts = _statements(session, lambda: upsell_tracking(session=session, now=NOW))
    assert (counts["alerts"], counts["feedback_asks"], counts["outcomes_proposed"]) == (1, 2, 1)

    _book(session, owner, 4, "many")
    many, counts = _statements(session, lambda: upsell_tracking(session=session, now=NOW))
    assert (counts["alerts"], counts["feedback_asks"], counts["outcomes_proposed"]) == (4, 8, 4)
    assert many == few
