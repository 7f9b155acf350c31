"""Every upsell-tracking step that loops over plans goes on past one plan it cannot process.

The failed plan is recorded with its reason (job_item_failures, listed on the System page), the
others go through, the next pass tries it again and its failure is cleared once it succeeds.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.audit.models import JobItemFailure
from core.customers.models import Customer
from core.drafts.models import Draft, DraftKind
from core.outbox.models import Channel, Delivery
from core.reporting.failed_items import failed_items
from core.upsell import checkpoints, feedback, lifecycle, milestones, outcomes, progress
from core.upsell.models import (
    CheckpointStatus,
    Measurement,
    Outcome,
    ProgressStatus,
    SuccessTemplate,
)
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of

NOW = f.NOW
TODAY = NOW.date()
BAD_NAME = "x\r\nBcc: y"


@pytest.fixture
def owner(session):
    return f.csm(session)


def _plan(session, owner, *, name=None, day=30, **kwargs) -> Measurement:
    cust = f.customer(session, owner=owner, name=name, contacts=CONTACTS)
    return f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=day),
        metrics=[f.manual("Hours saved", 0, 100, 20)],
        **kwargs,
    )


def _failures(session) -> dict[tuple[str, str], JobItemFailure]:
    stmt = select(JobItemFailure).execution_options(populate_existing=True)
    return {(r.item_type, r.item_id): r for r in session.scalars(stmt)}


def _rename(session, plan: Measurement, name: str = "X Corp") -> None:
    session.execute(update(Customer).where(Customer.id == plan.customer_id).values(name=name))


def _drafts(session, kind: DraftKind) -> set:
    return set(session.scalars(select(Draft.related_id).where(Draft.kind == kind)))


def test_a_checkpoint_that_cannot_be_prepared_leaves_the_other_plans_alone(session, owner):
    good = _plan(session, owner)
    bad = _plan(session, owner, name=BAD_NAME)

    counts = checkpoints.trigger_due(session=session, now=NOW)

    assert counts["checkpoints_triggered"] == 1
    assert checkpoints_of(session, good)[30].status == CheckpointStatus.TRIGGERED
    assert checkpoints_of(session, bad)[30].status == CheckpointStatus.SCHEDULED
    # Nothing of the failed plan's checkpoint was kept: no doc, meeting or timeline line.
    related = set(session.scalars(select(Delivery.related_id)))
    assert related == {checkpoints_of(session, good)[30].id}
    failure = _failures(session)[("checkpoint", str(bad.id))]
    assert "single line" in failure.reason
    [row] = failed_items(session=session)
    assert row.step == "Preparing a plan's checkpoint review"
    assert row.item == f"The success plan for Analytics expansion ({BAD_NAME})"

    _rename(session, bad)
    assert checkpoints.trigger_due(session=session, now=NOW)["checkpoints_triggered"] == 1
    assert checkpoints_of(session, bad)[30].status == CheckpointStatus.TRIGGERED
    assert _failures(session) == {}


def test_a_feedback_ask_that_cannot_be_drafted_is_retried(session, owner):
    good = _plan(session, owner, day=60)
    bad = _plan(session, owner, name=BAD_NAME, day=60)

    assert feedback.ask_due(session=session, now=NOW) == {"feedback_asks": 1}
    assert _drafts(session, DraftKind.FEEDBACK_REQUEST) == {good.id}
    assert "single line" in _failures(session)[("feedback_ask", str(bad.id))].reason

    assert feedback.ask_due(session=session, now=NOW) == {"feedback_asks": 0}
    assert _failures(session)[("feedback_ask", str(bad.id))].failure_count == 2

    _rename(session, bad)
    assert feedback.ask_due(session=session, now=NOW) == {"feedback_asks": 1}
    assert _drafts(session, DraftKind.FEEDBACK_REQUEST) == {good.id, bad.id}
    assert _failures(session) == {}


def _fail_for(monkeypatch, module, name: str, item_id, of) -> None:
    """Make `module.name` raise for one item, as a bad row would; `of(args)` names the item."""
    original = getattr(module, name)

    def step(*args, **kwargs):
        if of(args) == item_id:
            raise ValueError("this plan's data is broken")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, step)


def test_an_outcome_that_cannot_be_proposed_leaves_the_others(session, owner, monkeypatch):
    good = _plan(session, owner, day=95)
    bad = _plan(session, owner, day=95)
    for plan in (good, bad):
        session.execute(
            update(checkpoints.Checkpoint)
            .where(checkpoints.Checkpoint.measurement_id == plan.id)
            .values(status=CheckpointStatus.TRIGGERED)
        )
    _fail_for(monkeypatch, outcomes, "_propose_one", bad.id, lambda args: args[0].id)

    assert outcomes.propose_outcomes(session=session, now=NOW) == {"outcomes_proposed": 1}
    proposed = set(session.scalars(select(Outcome.measurement_id)))
    assert proposed == {good.id}
    reason = _failures(session)[("outcome", str(bad.id))].reason
    assert reason == "Unexpected error (ValueError): this plan's data is broken"

    monkeypatch.undo()
    assert outcomes.propose_outcomes(session=session, now=NOW) == {"outcomes_proposed": 1}
    assert _failures(session) == {}


def test_a_plan_that_cannot_be_scored_keeps_its_score_and_the_others_are_scored(
    session, owner, monkeypatch
):
    good = _plan(session, owner)
    bad = _plan(session, owner)
    _fail_for(monkeypatch, progress, "_score", bad.id, lambda args: args[0][0].plan_id)

    counts = progress.update_progress(session=session, now=NOW)

    assert counts["plans"] == 2
    statuses = dict(session.execute(select(Measurement.id, Measurement.progress_status)).all())
    assert statuses[good.id] is not None and statuses[bad.id] is None
    assert ("plan", str(bad.id)) in _failures(session)

    monkeypatch.undo()
    progress.update_progress(session=session, now=NOW)
    statuses = dict(session.execute(select(Measurement.id, Measurement.progress_status)).all())
    assert statuses[bad.id] is not None
    assert _failures(session) == {}


def test_an_alert_that_cannot_be_queued_is_sent_on_the_next_pass(session, owner, monkeypatch):
    plans = [_plan(session, owner) for _ in range(2)]
    session.execute(
        update(Measurement)
        .where(Measurement.id.in_([p.id for p in plans]))
        .values(progress_status=ProgressStatus.BEHIND)
    )
    good, bad = plans
    _fail_for(monkeypatch, progress, "_alert", bad.id, lambda args: args[0].id)

    assert progress.send_alerts(session=session, now=NOW)["alerts"] == 1
    alerted = dict(session.execute(select(Measurement.id, Measurement.alerted_status)).all())
    assert alerted[good.id] == ProgressStatus.BEHIND and alerted[bad.id] is None
    assert ("plan_alert", str(bad.id)) in _failures(session)

    monkeypatch.undo()
    assert progress.send_alerts(session=session, now=NOW)["alerts"] == 1
    assert _failures(session) == {}


def test_an_overdue_reminder_that_cannot_be_queued_stays_unescalated(session, owner, monkeypatch):
    plans = [_plan(session, owner, day=45) for _ in range(2)]
    cps = {p.id: checkpoints_of(session, p)[30] for p in plans}
    for cp in cps.values():
        cp.status, cp.review_due_on = CheckpointStatus.OVERDUE, TODAY - timedelta(days=5)
    session.flush()
    good, bad = plans
    _fail_for(monkeypatch, lifecycle, "_remind", cps[bad.id].id, lambda args: args[0].id)

    assert lifecycle.escalate_overdue(session=session, now=NOW) == {"overdue_escalations": 1}
    assert ("overdue_review", str(cps[bad.id].id)) in _failures(session)
    dms = set(
        session.scalars(select(Delivery.related_id).where(Delivery.channel == Channel.SLACK_DM))
    )
    assert dms == {cps[good.id].id}

    monkeypatch.undo()
    assert lifecycle.escalate_overdue(session=session, now=NOW) == {"overdue_escalations": 1}
    assert _failures(session) == {}


def test_milestones_a_template_cannot_lay_out_leave_that_plan_unstamped(session, owner):
    good = _plan(session, owner, day=10)
    bad = _plan(session, owner, day=10, product=("MS-BROKEN", "Broken module"))
    spec = {"criterion": "Hours saved", "threshold": 1e300, "dueDay": 30}  # cannot be rounded
    template = f.add(
        session, SuccessTemplate(product_code="MS-BROKEN", metrics=[], milestones=[spec])
    )

    milestones.lay_out(session=session, now=NOW)

    stamped = dict(session.execute(select(Measurement.id, Measurement.milestones_planned_at)).all())
    assert stamped[good.id] is not None and stamped[bad.id] is None
    assert ("plan_milestones", str(bad.id)) in _failures(session)

    template.milestones = [{**spec, "threshold": 60}]
    session.flush()
    assert milestones.lay_out(session=session, now=NOW) == {"milestones_planned": 1}
    assert _failures(session) == {}
