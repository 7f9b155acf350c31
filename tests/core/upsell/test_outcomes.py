import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Direction
from core.customers.models import Customer, HealthFactor, TimelineEvent
from core.errors import Conflict, Invalid
from core.upsell.checkpoints import trigger_due
from core.upsell.models import (
    CheckpointStatus,
    Measurement,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
)
from core.upsell.outcomes import confirm_outcome, propose_outcomes, realization_score
from core.upsell.progress import record_manual_values, update_progress
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of

NOW = f.NOW
TODAY = NOW.date()
OUT = OutcomeStatus


@pytest.fixture
def owner(session):
    return f.csm(session)


def _at_final(session, owner, metrics, *, health=60, started=90):
    cust = f.customer(session, owner=owner, health=health, contacts=CONTACTS)
    plan = f.plan(session, cust, started_on=TODAY - timedelta(days=started), metrics=metrics)
    for day, cp in checkpoints_of(session, plan).items():
        if day < 90:
            cp.status = CheckpointStatus.REVIEWED
    session.flush()
    update_progress(session=session, now=NOW)
    trigger_due(session=session, now=NOW)
    return cust, plan


def _proposal(session, plan):
    propose_outcomes(session=session, now=NOW)
    return session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))


def test_success_when_every_target_is_met(session, owner):
    _, plan = _at_final(
        session,
        owner,
        [
            f.manual("Savings", 0, 10, 12),
            f.manual("Handle time", 8, 4, 3.5, direction=Direction.LOWER),
        ],
    )
    outcome = _proposal(session, plan)
    assert outcome.proposed_status == OUT.SUCCESS and outcome.status is None
    assert outcome.proposed_reasons == [
        "2 of 2 targets met; average progress 116%.",
        "Evidence — Savings: 12 units against a target of 10 (baseline 0).",
        "Evidence — Handle time: 3.5 units against a target of 4 (baseline 8).",
    ]


def test_partial_when_half_are_met(session, owner):
    _, plan = _at_final(
        session,
        owner,
        [
            f.manual("Savings", 0, 10, 10),
            f.manual("Handle time", 8, 4, 7, direction=Direction.LOWER),
        ],
    )
    outcome = _proposal(session, plan)
    assert outcome.proposed_status == OUT.PARTIAL
    assert "Gap — Handle time: 7 against a target of 4 units, 25% of the way." in (
        outcome.proposed_reasons
    )


def test_partial_when_average_progress_reaches_070(session, owner):
    metrics = [f.manual("A", 0, 10, 8), f.manual("B", 0, 10, 8), f.manual("C", 0, 10, 7)]
    _, plan = _at_final(session, owner, metrics)
    outcome = _proposal(session, plan)
    assert outcome.proposed_status == OUT.PARTIAL
    assert outcome.proposed_reasons[0] == "0 of 3 targets met; average progress 77%."


def test_at_risk_with_an_intervention_plan(session, owner):
    _, plan = _at_final(session, owner, [f.manual("A", 0, 10, 5), f.manual("B", 0, 10, 4)])
    outcome = _proposal(session, plan)
    assert outcome.proposed_status == OUT.AT_RISK
    interventions = [r for r in outcome.proposed_reasons if r.startswith("Intervention")]
    assert interventions[0] == (
        "Intervention — Walk through the B workflow with the customer's champion to find what "
        "blocks it."
    )


def test_failed_when_average_progress_stays_below_030(session, owner):
    _, plan = _at_final(session, owner, [f.manual("A", 0, 10, 2), f.manual("B", 0, 10, 1)])
    outcome = _proposal(session, plan)
    assert outcome.proposed_status == OUT.FAILED
    assert "Average progress is below 30% at the horizon." in outcome.proposed_reasons


def test_failed_on_contraction_of_the_expansion(session, owner):
    cust, plan = _at_final(session, owner, [f.manual("Savings", 0, 10, 12)])
    session.add_all(
        [
            TimelineEvent(
                customer_id=cust.id,
                occurred_at=NOW - timedelta(days=200),
                kind="churn",
                title="Old churn before the plan",
            ),
            TimelineEvent(
                customer_id=cust.id,
                occurred_at=NOW - timedelta(days=5),
                kind="upsell_contracted",
                title="Another upsell shrank",
                related_type="upsell",
                related_id=uuid.UUID(int=1),
            ),
        ]
    )
    session.flush()
    assert _proposal(session, plan).proposed_status == OUT.SUCCESS  # neither signal counts

    cust2, plan2 = _at_final(session, owner, [f.manual("Savings", 0, 10, 12)])
    session.add(
        TimelineEvent(
            customer_id=cust2.id,
            occurred_at=NOW - timedelta(days=10),
            kind="upsell_contracted",
            title="Contract amendment gave back 5,000.00 ARR",
            related_type="upsell",
            related_id=session.get(Measurement, plan2.id).upsell_id,
        )
    )
    session.flush()
    outcome = _proposal(session, plan2)
    assert outcome.proposed_status == OUT.FAILED
    assert outcome.proposed_reasons == [
        "Contraction signal — upsell_contracted: Contract amendment gave back 5,000.00 ARR"
    ]


def test_churn_fails_the_plan(session, owner):
    cust, plan = _at_final(session, owner, [f.manual("Savings", 0, 10, 12)])
    session.add(
        TimelineEvent(customer_id=cust.id, occurred_at=NOW, kind="churn", title="Customer churned")
    )
    session.flush()
    assert _proposal(session, plan).proposed_status == OUT.FAILED


def test_no_proposal_before_the_final_checkpoint_and_only_once(session, owner):
    _, early = _at_final(session, owner, [f.manual("Savings", 0, 10, 5)], started=60)
    _, done = _at_final(session, owner, [f.manual("Savings", 0, 10, 12)])
    assert propose_outcomes(session=session, now=NOW) == {"outcomes_proposed": 1}
    assert propose_outcomes(session=session, now=NOW) == {"outcomes_proposed": 0}
    ids = set(session.scalars(select(Outcome.measurement_id)))
    assert ids == {done.id}
    assert early.id not in ids


def test_confirm_agreeing_completes_the_plan_and_updates_health(session, owner):
    cust, plan = _at_final(session, owner, [f.manual("Savings", 0, 10, 12)], health=60)
    _proposal(session, plan)
    outcome = confirm_outcome(
        session=session, measurement_id=plan.id, status="success", actor=owner, now=NOW
    )
    assert outcome.status == OUT.SUCCESS and outcome.override_reason is None
    assert outcome.decided_by_id == owner.id and outcome.decided_at == NOW
    row = session.get(Measurement, plan.id)
    assert row.status == MeasurementStatus.COMPLETED and row.evaluated_at == NOW
    factors = {
        f.factor: f
        for f in session.scalars(select(HealthFactor).where(HealthFactor.customer_id == cust.id))
    }
    factor = factors["upsell_realization"]
    assert factor.score == Decimal(100) and factor.details["outcome"] == "success"
    # The stored 60 is kept as the CRM factor: (100 × 1 + 60 × 2) ÷ 3
    assert factors["crm_health"].score == Decimal(60)
    assert (row.health_before, row.health_after) == (Decimal(60), Decimal("73.33"))
    assert session.get(Customer, cust.id).health_score == Decimal("73.33")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "upsell.outcome.confirm"))
    assert entry.changes["status"] == ["success", "success"]
    assert entry.changes["health"] == ["60", "73.33"]
    line = session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "upsell_outcome"))
    assert line.title == "Upsell outcome for Analytics expansion: success"
    with pytest.raises(Conflict, match="already completed"):
        confirm_outcome(session=session, measurement_id=plan.id, status="success", actor=owner)


def test_overriding_needs_a_reason(session, owner):
    cust, plan = _at_final(session, owner, [f.manual("Savings", 0, 10, 12)], health=60)
    session.add(
        HealthFactor(
            customer_id=cust.id,
            factor="goal_attainment",
            score=Decimal(90),
            weight=Decimal(1),
            source="goal_detection",
        )
    )
    row = session.get(Measurement, plan.id)
    row.health_before = Decimal(55)  # recorded when the plan was created
    session.flush()
    with pytest.raises(Invalid, match="suggests success; give a reason"):
        confirm_outcome(
            session=session, measurement_id=plan.id, status="partial", actor=owner, reason="  "
        )
    outcome = confirm_outcome(
        session=session,
        measurement_id=plan.id,
        status="partial",
        actor=owner,
        reason="Only one of three regions adopted; the win is not broad yet.",
        now=NOW,
    )
    assert outcome.proposed_status == OUT.SUCCESS and outcome.status == OUT.PARTIAL
    assert outcome.override_reason.startswith("Only one of three regions")
    factor = session.scalar(
        select(HealthFactor).where(
            HealthFactor.customer_id == cust.id, HealthFactor.factor == "upsell_realization"
        )
    )
    assert factor.score == Decimal(79)  # top of the partial band (progress ≥ 1)
    row = session.get(Measurement, plan.id)
    # (90 + 79 + 60 × 2) ÷ 4; health_before keeps the value from plan creation
    assert (row.health_before, row.health_after) == (Decimal(55), Decimal("72.25"))


def test_confirming_early_proposes_first(session, owner):
    _, plan = _at_final(session, owner, [f.manual("Savings", 0, 10, 2)], started=40)
    with pytest.raises(Invalid, match="suggests failed"):
        confirm_outcome(session=session, measurement_id=plan.id, status="success", actor=owner)
    outcome = confirm_outcome(session=session, measurement_id=plan.id, status="failed", actor=owner)
    assert outcome.proposed_status == OUT.FAILED and outcome.status == OUT.FAILED


def test_realization_score_bands():
    assert realization_score(OUT.SUCCESS, 1.3) == Decimal(100)
    assert realization_score(OUT.PARTIAL, 0.5) == Decimal("64.5")
    assert realization_score(OUT.AT_RISK, None) == Decimal(37)
    assert realization_score(OUT.FAILED, -0.4) == Decimal(0)


def test_the_proposal_reads_the_final_day_not_the_day_it_is_made(session, owner):
    """Caught up on day 120: the target was met on day 90 (the horizon), missed since."""
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    start = TODAY - timedelta(days=120)
    plan = f.plan(session, cust, started_on=start, metrics=[f.manual("Savings", 0, 10)])
    for day, value in ((85, 12), (110, 2)):
        record_manual_values(
            session=session,
            measurement_id=plan.id,
            values={"Savings": value},
            actor=owner,
            observed_at=NOW - timedelta(days=120 - day),
        )
    trigger_due(session=session, now=NOW)
    outcome = _proposal(session, plan)
    assert outcome.proposed_status == OUT.SUCCESS
    assert outcome.proposed_reasons[1] == (
        "Evidence — Savings: 12 units against a target of 10 (baseline 0)."
    )
    assert outcome.decide_by == TODAY + timedelta(days=30)
