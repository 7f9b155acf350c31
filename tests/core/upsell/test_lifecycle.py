"""A plan's end: it closes on the CSM's decision, or as "no decision" after the grace period;
overdue reviews are escalated once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Role
from core.customers.models import Customer, TimelineEvent
from core.errors import Invalid
from core.outbox.models import Channel
from core.upsell.analysis import outcomes_analysis
from core.upsell.checkpoints import mark_overdue, trigger_due
from core.upsell.lifecycle import close_undecided, escalate_overdue
from core.upsell.models import (
    CheckpointStatus,
    Measurement,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
)
from core.upsell.outcomes import GRACE_DAYS, confirm_outcome, propose_outcomes
from core.upsell.queries import list_plans
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of, deliveries

NOW = f.NOW
TODAY = NOW.date()


@pytest.fixture
def owner(session):
    return f.csm(session)


def _finished(session, owner, current=12, name=None):
    """A plan on its final day, its outcome proposed today."""
    cust = f.customer(session, owner=owner, name=name, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=90),
        metrics=[f.manual("Savings", 0, 10, current)],
    )
    trigger_due(session=session, now=NOW)
    propose_outcomes(session=session, now=NOW)
    return cust, plan


def _outcome(session, plan) -> Outcome:
    return session.scalar(
        select(Outcome)
        .where(Outcome.measurement_id == plan.id)
        .execution_options(populate_existing=True)
    )


def _rows(session, owner, status):
    return list_plans(
        session=session, viewer_id=owner.id, viewer_role=Role.CSM, status=status, today=TODAY
    )


def test_a_proposal_waits_for_the_csm_and_the_plan_stays_active(session, owner):
    _, plan = _finished(session, owner)
    outcome = _outcome(session, plan)
    assert outcome.proposed_status == OutcomeStatus.SUCCESS and outcome.status is None
    assert outcome.decide_by == TODAY + timedelta(days=GRACE_DAYS) == TODAY + timedelta(days=30)
    [row] = _rows(session, owner, "active")
    assert row.id == plan.id and row.proposed_outcome == OutcomeStatus.SUCCESS
    assert row.outcome is None and row.next_day is None  # no checkpoint left to come


def test_the_plan_closes_after_confirmation_and_leaves_the_active_list(session, owner):
    _, plan = _finished(session, owner)
    assert [r.id for r in _rows(session, owner, "active")] == [plan.id]
    confirm_outcome(session=session, measurement_id=plan.id, status="success", actor=owner, now=NOW)
    assert session.get(Measurement, plan.id).status == MeasurementStatus.COMPLETED
    assert _rows(session, owner, "active") == []
    assert _rows(session, owner, "exceeding") == []  # progress filters show live plans only
    [closed] = _rows(session, owner, "completed")
    assert closed.id == plan.id and closed.outcome == OutcomeStatus.SUCCESS
    assert close_undecided(session=session, now=NOW + timedelta(days=90)) == {
        "plans_closed_undecided": 0
    }
    assert _outcome(session, plan).status == OutcomeStatus.SUCCESS


def test_undecided_after_the_grace_period_closes_as_no_decision(session, owner):
    cust, plan = _finished(session, owner)
    health = session.get(Customer, cust.id).health_score
    last_day = NOW + timedelta(days=GRACE_DAYS)
    assert close_undecided(session=session, now=last_day) == {"plans_closed_undecided": 0}
    assert session.get(Measurement, plan.id).status == MeasurementStatus.ACTIVE

    after = last_day + timedelta(days=1)
    assert close_undecided(session=session, now=after) == {"plans_closed_undecided": 1}
    outcome = _outcome(session, plan)
    assert outcome.status == OutcomeStatus.NO_DECISION and outcome.decided_by_id is None
    assert outcome.decided_at == after and outcome.proposed_status == OutcomeStatus.SUCCESS
    row = session.get(Measurement, plan.id)
    assert row.status == MeasurementStatus.COMPLETED and row.evaluated_at == after
    line = session.scalar(
        select(TimelineEvent).where(
            TimelineEvent.related_id == plan.id, TimelineEvent.kind == "upsell_outcome"
        )
    )
    assert line.title == "Upsell plan for Analytics expansion closed without a decision"
    assert line.body == (
        f"Nobody confirmed the proposed outcome (success) by "
        f"{(TODAY + timedelta(days=30)).isoformat()}."
    )
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(plan.id)))
    assert entry.action == "upsell.outcome.no_decision" and entry.actor == "upsell_tracking"
    assert session.get(Customer, cust.id).health_score == health  # no decision, no health change
    [closed] = _rows(session, owner, "completed")
    assert closed.outcome == OutcomeStatus.NO_DECISION
    assert close_undecided(session=session, now=after) == {"plans_closed_undecided": 0}


def test_no_decision_counts_neither_as_success_nor_as_failure(session, owner):
    _, won = _finished(session, owner, current=12)
    _, lost = _finished(session, owner, current=1)
    _, ignored = _finished(session, owner, current=0)
    for plan, status in ((won, "success"), (lost, "failed")):
        confirm_outcome(session=session, measurement_id=plan.id, status=status, actor=owner)
    close_undecided(session=session, now=NOW + timedelta(days=GRACE_DAYS + 1))
    assert _outcome(session, ignored).status == OutcomeStatus.NO_DECISION
    overall = outcomes_analysis(session=session, today=TODAY).overall
    assert overall.decided == 2 and overall.success_rate == 0.5
    assert overall.mix == {"success": 1, "partial": 0, "at_risk": 0, "failed": 1}


def test_a_csm_can_still_decide_after_no_decision_but_never_choose_it(session, owner):
    _, plan = _finished(session, owner)
    with pytest.raises(Invalid, match="status: choose success, partial, at risk or failed"):
        confirm_outcome(
            session=session, measurement_id=plan.id, status="no_decision", actor=owner, reason="x"
        )
    close_undecided(session=session, now=NOW + timedelta(days=GRACE_DAYS + 1))
    outcome = confirm_outcome(
        session=session, measurement_id=plan.id, status="success", actor=owner, now=NOW
    )
    assert outcome.status == OutcomeStatus.SUCCESS and outcome.decided_by_id == owner.id
    assert session.get(Measurement, plan.id).status == MeasurementStatus.COMPLETED


def test_an_overdue_review_is_escalated_once(session, owner):
    cust = f.customer(session, owner=owner, name="Fabrikam & Sons", contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=30),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    trigger_due(session=session, now=NOW)
    assert escalate_overdue(session=session, now=NOW) == {"overdue_escalations": 0}
    late = NOW + timedelta(days=8)
    mark_overdue(session=session, now=late)
    assert escalate_overdue(session=session, now=late) == {"overdue_escalations": 1}
    [dm] = deliveries(session, Channel.SLACK_DM)
    cp = checkpoints_of(session, plan)[30]
    assert dm.idempotency_key == f"checkpoint:{cp.id}:overdue" and dm.related_id == cp.id
    assert dm.payload["email"] == owner.email
    assert dm.payload["text"] == (
        f"Fabrikam & Sons: the 30-day check of Analytics expansion is overdue since "
        f"{(TODAY + timedelta(days=7)).isoformat()}."
    )
    assert "Fabrikam &amp; Sons" in dm.payload["blocks"][1]["text"]["text"]
    assert cp.status == CheckpointStatus.OVERDUE and cp.escalated_at == late
    for days in (8, 9, 20):
        mark_overdue(session=session, now=NOW + timedelta(days=days))
        assert escalate_overdue(session=session, now=NOW + timedelta(days=days)) == {
            "overdue_escalations": 0
        }
    assert len(deliveries(session, Channel.SLACK_DM)) == 1
    [row] = _rows(session, owner, "active")
    assert row.overdue == 1 and row.overdue_since == TODAY + timedelta(days=7)


def test_without_a_csm_the_escalation_waits_for_an_owner(session, owner):
    cust = f.customer(session, owner=None, contacts=CONTACTS)
    f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=30),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    trigger_due(session=session, now=NOW)
    late = NOW + timedelta(days=8)
    mark_overdue(session=session, now=late)
    assert escalate_overdue(session=session, now=late) == {"overdue_escalations": 0}
    session.get(Customer, cust.id).owner_csm_id = owner.id
    session.flush()
    assert escalate_overdue(session=session, now=late) == {"overdue_escalations": 1}
    assert len(deliveries(session, Channel.SLACK_DM)) == 1
