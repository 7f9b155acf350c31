"""Inbound upserts: customers and goals by external id, usage batches in one statement."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from core.base import Consent, Direction
from core.customers.models import Customer, Observation
from core.customers.schemas import CustomerIn, ObservationIn
from core.customers.service import ingest_usage, upsert_customer
from core.errors import Conflict, Invalid
from core.goals.detection import detect
from core.goals.models import Goal, GoalStatus, Milestone, SuccessPlan
from core.goals.schemas import GoalIn
from core.goals.service import upsert_goal
from tests import factories as f

ACTOR = "api:test"
NOW = datetime.now(UTC).replace(microsecond=0)


def customer_body(**extra) -> CustomerIn:
    base = {"name": "Acme", "industry": "retail", "segment": "smb", "region": "EMEA", "arr": 1000}
    return CustomerIn.model_validate({**base, **extra})


def goal_body(**extra) -> GoalIn:
    base = {
        "customerExternalId": "acme",
        "type": "kpi",
        "name": "More users",
        "startDate": "2026-01-01",
    }
    return GoalIn.model_validate({**base, "metric": "active_users", "target": 50, **extra})


@pytest.fixture
def acme(session):
    f.metric(session, "active_users", Direction.HIGHER, "users")
    customer, _ = upsert_customer(
        session=session, external_id="acme", body=customer_body(), actor=ACTOR
    )
    return customer


def rows(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_customer_is_created_then_unchanged_then_updated(session):
    owner = f.csm(session)
    body = customer_body(ownerCsmEmail=owner.email.upper(), healthScore=80, crmId="001A")
    created, was_new = upsert_customer(session=session, external_id="c-1", body=body, actor=ACTOR)
    assert was_new and created.owner_csm_email == owner.email
    assert created.consent_level == Consent.INTERNAL_ONLY
    again, was_new = upsert_customer(session=session, external_id="c-1", body=body, actor=ACTOR)
    assert not was_new and again.updated_at == created.updated_at
    assert rows(session, Customer, Customer.external_id == "c-1") == 1
    version = session.scalar(select(Customer.version).where(Customer.id == created.id))
    assert version == 1

    changed, _ = upsert_customer(
        session=session, external_id="c-1", body=customer_body(arr=2500), actor=ACTOR
    )
    assert changed.arr == 2500
    assert changed.health_score == 80 and changed.crm_id == "001A"  # omitted: kept
    assert changed.owner_csm_email == owner.email
    cleared, _ = upsert_customer(
        session=session,
        external_id="c-1",
        body=customer_body(arr=2500, healthScore=None),
        actor=ACTOR,
    )
    assert cleared.health_score is None


def test_customer_rejects_unknown_owner_and_taken_crm_id(session):
    with pytest.raises(Invalid, match="ownerCsmEmail"):
        upsert_customer(
            session=session,
            external_id="c-2",
            body=customer_body(ownerCsmEmail="nobody@x.example"),
            actor=ACTOR,
        )
    upsert_customer(session=session, external_id="c-3", body=customer_body(crmId="X"), actor=ACTOR)
    with pytest.raises(Conflict, match="crmId"):
        upsert_customer(
            session=session, external_id="c-4", body=customer_body(crmId="X"), actor=ACTOR
        )


def test_customer_loaded_in_the_session_sees_the_upsert(session):
    row = f.customer(session)
    row.external_id = "loaded"
    session.flush()
    before = row.version
    upsert_customer(session=session, external_id="loaded", body=customer_body(), actor=ACTOR)
    assert row.name == "Acme" and row.version == before + 1
    row.region = "NA"
    session.flush()  # the ORM's version check still passes


def test_goal_upsert_is_idempotent_and_defaults_from_the_metric(session, acme):
    goal, created = upsert_goal(session=session, external_id="g-1", body=goal_body(), actor=ACTOR)
    assert created and goal.direction == Direction.HIGHER and goal.unit == "users"
    assert goal.customer_id == acme.id and goal.status == GoalStatus.ACTIVE
    again, created = upsert_goal(session=session, external_id="g-1", body=goal_body(), actor=ACTOR)
    assert not created and again.id == goal.id
    assert rows(session, Goal, Goal.external_id == "g-1") == 1
    assert session.scalar(select(Goal.version).where(Goal.id == goal.id)) == 1
    moved, _ = upsert_goal(
        session=session, external_id="g-1", body=goal_body(target=60), actor=ACTOR
    )
    assert moved.target == 60
    assert session.scalar(select(Goal.version).where(Goal.id == goal.id)) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"metric": None}, "metric: a KPI goal needs a metric"),
        ({"target": None}, "target: a KPI goal with a metric needs a target"),
        ({"type": "roi", "target": None}, "target: an ROI goal"),
        ({"type": "success_plan", "metric": None, "target": None}, "milestones: a success-plan"),
        ({"type": "success_plan", "milestones": [{"name": "a"}]}, "metric: success-plan goals"),
        ({"type": "onboarding", "metric": None}, "milestones: an onboarding goal"),
        ({"metric": "nope"}, "metric: unknown metric 'nope'"),
        ({"customerExternalId": "ghost"}, "customerExternalId: no customer"),
        ({"dueDate": "2025-01-01"}, "dueDate: must not be before startDate"),
    ],
)
def test_goal_rules_per_type(session, acme, extra, message):
    with pytest.raises(Invalid, match=message):
        upsert_goal(session=session, external_id="g-bad", body=goal_body(**extra), actor=ACTOR)
    assert rows(session, Goal, Goal.external_id == "g-bad") == 0


def test_custom_goal_needs_neither_metric_nor_milestones(session, acme):
    body = goal_body(type="custom", metric=None, target=None)
    goal, created = upsert_goal(session=session, external_id="g-c", body=body, actor=ACTOR)
    assert created and goal.metric is None and goal.milestones == []


def test_milestones_replace_and_attach_to_the_imported_plan(session, acme):
    steps = [{"name": "Kickoff", "status": "done"}, {"name": "Go live", "dueDate": "2026-03-01"}]
    body = goal_body(type="success_plan", metric=None, target=None, milestones=steps)
    goal, _ = upsert_goal(session=session, external_id="g-s", body=body, actor=ACTOR)
    assert [m.name for m in goal.milestones] == ["Kickoff", "Go live"]
    plan = session.scalar(select(SuccessPlan).where(SuccessPlan.id == goal.plan_id))
    assert plan.external_id == "imported:acme" and plan.name == "Imported plan"
    done_at = goal.milestones[0].completed_at
    assert done_at is not None

    again, created = upsert_goal(session=session, external_id="g-s", body=body, actor=ACTOR)
    assert not created and again.milestones[0].completed_at == done_at  # kept, not reset

    body = goal_body(
        type="success_plan",
        metric=None,
        target=None,
        milestones=[{"name": "Only"}],
        planExternalId="PLAN-9",
    )
    replaced, _ = upsert_goal(session=session, external_id="g-s", body=body, actor=ACTOR)
    assert [m.name for m in replaced.milestones] == ["Only"]
    assert rows(session, Milestone, Milestone.goal_id == goal.id) == 1
    assert rows(session, SuccessPlan, SuccessPlan.customer_id == acme.id) == 2


def test_plan_of_another_customer_is_refused(session, acme):
    upsert_customer(session=session, external_id="other", body=customer_body(), actor=ACTOR)
    steps = [{"name": "a"}]
    body = goal_body(type="success_plan", metric=None, target=None, milestones=steps)
    upsert_goal(
        session=session,
        external_id="g-o",
        body=body.model_copy(update={"customer_external_id": "other", "plan_external_id": "P"}),
        actor=ACTOR,
    )
    with pytest.raises(Invalid, match="planExternalId"):
        upsert_goal(
            session=session,
            external_id="g-a",
            body=body.model_copy(update={"plan_external_id": "P"}),
            actor=ACTOR,
        )


def test_achieved_goal_keeps_what_it_measures(session, acme):
    upsert_goal(session=session, external_id="g-1", body=goal_body(), actor=ACTOR)
    ingest_usage(session=session, observations=_daily("acme", [44, 46, 48, 50, 51, 52, 53]))
    assert len(detect(session=session)) == 1
    with pytest.raises(Conflict, match="target: goal 'g-1' is already achieved"):
        upsert_goal(session=session, external_id="g-1", body=goal_body(target=70), actor=ACTOR)
    renamed, _ = upsert_goal(
        session=session, external_id="g-1", body=goal_body(name="Renamed"), actor=ACTOR
    )
    assert renamed.name == "Renamed" and renamed.status != GoalStatus.ACTIVE


def test_goal_cannot_move_to_another_customer(session, acme):
    upsert_customer(session=session, external_id="other", body=customer_body(), actor=ACTOR)
    upsert_goal(session=session, external_id="g-1", body=goal_body(), actor=ACTOR)
    with pytest.raises(Conflict, match="another customer"):
        upsert_goal(
            session=session,
            external_id="g-1",
            body=goal_body(customerExternalId="other"),
            actor=ACTOR,
        )


def _daily(customer_ref, values, metric="active_users"):
    start = NOW - timedelta(days=len(values) - 1, hours=1)
    return [
        ObservationIn(
            customer_id=customer_ref, metric=metric, value=v, observed_at=start + timedelta(days=i)
        )
        for i, v in enumerate(values)
    ]


def test_usage_counts_inserted_updated_unchanged(session, acme):
    batch = _daily("acme", [1, 2, 3])
    first = ingest_usage(session=session, observations=batch)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    again = ingest_usage(session=session, observations=batch)
    assert (again.received, again.inserted, again.updated, again.unchanged) == (3, 0, 0, 3)
    changed = [batch[0].model_copy(update={"value": Decimal("9.5")}), *batch[1:]]
    result = ingest_usage(session=session, observations=changed)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    assert rows(session, Observation, Observation.customer_id == acme.id) == 3


def test_usage_accepts_our_uuid_and_rounds_like_the_column(session, acme):
    batch = _daily(str(acme.id), [Decimal("1.23456")])
    assert ingest_usage(session=session, observations=batch).inserted == 1
    assert ingest_usage(session=session, observations=batch).unchanged == 1


def test_usage_rejects_the_whole_batch_naming_each_bad_row(session, acme):
    batch = _daily("acme", [1, 2, 3])
    batch[1] = batch[1].model_copy(update={"metric": "x"})
    batch[2] = batch[2].model_copy(update={"customer_id": "ghost"})
    batch.append(batch[0])
    with pytest.raises(Invalid) as caught:
        ingest_usage(session=session, observations=batch)
    text = str(caught.value)
    assert "observations[1].metric: unknown metric 'x'" in text
    assert "observations[2].customerId: unknown customer 'ghost'" in text
    assert "observations[3]: repeats observations[0]" in text
    assert rows(session, Observation, Observation.customer_id == acme.id) == 0


def test_changed_values_are_restamped_for_detection_unchanged_are_not(session, acme):
    batch = _daily("acme", [1, 2, 3])
    ingest_usage(session=session, observations=batch)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    session.execute(update(Observation).values(ingested_at=old))
    fixed = [*batch[:2], batch[2].model_copy(update={"value": Decimal(30)})]
    assert ingest_usage(session=session, observations=fixed).updated == 1
    stamps = dict(
        session.execute(
            select(Observation.value, Observation.ingested_at).where(
                Observation.customer_id == acme.id
            )
        ).all()
    )
    assert stamps[Decimal(1)] == old and stamps[Decimal(2)] == old
    assert stamps[Decimal(30)] > old
