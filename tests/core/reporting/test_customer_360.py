"""One customer's page read: health with factors and readings, wins, plans, upsells, a linked
timeline and the last renewal, as the viewer may see them, in a fixed number of statements."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.base import Consent, Role
from core.customers.health import refresh_scores, set_crm_health, upsert_factor
from core.customers.models import CustomerEvent, CustomerEventKind, TimelineEvent
from core.goals.models import AchievementStatus, GoalStatus, GoalType
from core.records.models import SuccessRecord
from core.reporting.customers import customer_detail
from core.upsell.models import Checkpoint, MeasurementStatus
from tests import factories as f
from tests.api.test_query_counts import counted

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def line(session, cust, kind, title, related_type=None, related_id=None, days_ago=1):
    f.add(
        session,
        TimelineEvent(
            customer_id=cust.id,
            occurred_at=NOW - timedelta(days=days_ago),
            kind=kind,
            title=title,
            related_type=related_type,
            related_id=related_id,
        ),
    )


def add_world(session, cust, n: int) -> dict:
    """`n` wins, success plans, upsells with plans and linked timeline lines for `cust`."""
    found = {"wins": [], "plans": []}
    for i in range(n):
        won = f.goal(
            session, cust, name=f"Faster support {i}", status=GoalStatus.ACHIEVED, baseline=10.0
        )
        win = f.achievement(session, won, achieved_at=NOW - timedelta(days=i + 2))
        f.add(
            session,
            SuccessRecord(
                achievement_id=win.id,
                title=f"{cust.name} cut wait times {i}",
                summary="s",
                markdown="m",
            ),
        )
        line(session, cust, "goal_achieved", f"Goal achieved: {won.name}", "achievement", win.id)
        f.success_plan(session, cust, won, ["done", "open"], name=f"Launch {i}")
        plan = f.plan(session, cust, started_on=date(2026, 6, 1 + i), name=f"Seats {i}")
        plan.health_before = Decimal(50 + i)
        checkpoint = session.query(Checkpoint).filter_by(measurement_id=plan.id, day=30).one()
        line(session, cust, "checkpoint_triggered", "Day 30 check", "checkpoint", checkpoint.id)
        found["wins"].append(win)
        found["plans"].append(plan)
    session.flush()
    return found


@pytest.fixture
def acme(session):
    owner = f.csm(session, email="casey@outcomes.example")
    cust = f.customer(
        session,
        name="Acme Health",
        owner=owner,
        consent=Consent.INTERNAL_ONLY,
        customer_since=date(2024, 3, 1),
        external_id="ACME-1",
    )
    set_crm_health(session=session, customer_id=cust.id, score=Decimal(40))
    upsert_factor(
        session=session,
        customer_id=cust.id,
        factor="goal_attainment",
        score=Decimal(70),
        source="goal_detection",
    )
    refresh_scores(session=session, customer_ids=[cust.id])  # as the health pass would
    return cust


def test_the_page_read_links_wins_and_plans_and_explains_health(session, acme):
    world = add_world(session, acme, 2)
    f.goal(session, acme, name="Open goal", type=GoalType.CUSTOM)
    f.achievement(
        session,
        f.goal(session, acme, name="Refused", status=GoalStatus.ACTIVE),
        status=AchievementStatus.REJECTED,
    )
    line(session, acme, "qbr", "Quarterly business review held", days_ago=0)
    line(session, acme, "note", "A dangling link", "achievement", uuid.uuid4(), days_ago=9)
    f.add(
        session,
        CustomerEvent(
            customer_id=acme.id,
            kind=CustomerEventKind.RENEWAL,
            occurred_on=date(2026, 3, 1),
            arr_change=Decimal(0),
            source="crm",
            source_id="R-1",
        ),
    )

    detail = customer_detail(session=session, customer_id=acme.id, viewer=Role.CSM)

    assert detail.csm_email == "casey@outcomes.example"
    assert detail.external_id == "ACME-1" and detail.customer_since == date(2024, 3, 1)
    assert detail.last_renewal == date(2026, 3, 1)
    assert detail.health.score == Decimal(50)  # (40 × 2 + 70) ÷ 3
    assert [x.factor for x in detail.health.factors] == ["crm_health", "goal_attainment"]
    assert [w.achievement_id for w in detail.wins] == [w.id for w in world["wins"]]
    assert detail.wins[0].record_title == "Acme Health cut wait times 0"
    by_goal = {g.name: g.achievement_id for g in detail.goals}
    assert by_goal["Faster support 1"] == world["wins"][1].id
    assert by_goal["Open goal"] is None and by_goal["Refused"] is None
    assert [(p.milestones_done, p.milestones_total) for p in detail.plans] == [(1, 2), (1, 2)]
    assert {u.plan_id for u in detail.upsells} == {p.id for p in world["plans"]}
    assert all(u.plan_status == MeasurementStatus.ACTIVE for u in detail.upsells)
    links = {(t.title, t.achievement_id, t.plan_id) for t in detail.timeline}
    assert ("Goal achieved: Faster support 0", world["wins"][0].id, None) in links
    assert ("Day 30 check", None, world["plans"][1].id) in links
    assert ("A dangling link", None, None) in links
    assert detail.timeline[0].title == "Quarterly business review held"
    readings = [(r.moment, r.score) for r in detail.health_readings]
    assert readings == [("plan_start", 50), ("plan_start", 51), ("current", 50)]


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_sales_and_marketing_see_no_name_plans_or_upsells(session, acme, role):
    add_world(session, acme, 1)

    detail = customer_detail(session=session, customer_id=acme.id, viewer=role)

    shown = detail.model_dump_json()
    assert "Acme" not in shown and "ACME-1" not in shown
    assert detail.wins[0].record_title == "The customer cut wait times 0"
    assert detail.plans == [] and detail.upsells == []
    assert detail.health.name == detail.customer.name != "Acme Health"


def test_the_page_read_sends_as_many_statements_for_many_rows_as_for_few(session, connection, acme):
    counts = {}
    for size in (1, 6):
        add_world(session, acme, size)
        customer_detail(session=session, customer_id=acme.id, viewer=Role.CSM)  # warm up
        with counted(connection) as sent:
            detail = customer_detail(session=session, customer_id=acme.id, viewer=Role.CSM)
        assert len(detail.upsells) == {1: 1, 6: 7}[size]
        counts[size] = len(sent)
    assert counts[1] == counts[6], counts


def test_a_customer_without_history_reads_only_its_current_score(session):
    cust = f.customer(session, health=None)
    detail = customer_detail(session=session, customer_id=cust.id, viewer=Role.CSM)
    assert detail.health.score is None and detail.health_readings == []
    assert detail.wins == [] and detail.timeline == [] and detail.last_renewal is None


def test_an_upsell_predicted_before_any_outcome_says_so(session, acme):
    world = add_world(session, acme, 2)
    unlearned, learned = world["plans"]
    unlearned.predicted_success, unlearned.prediction_basis = Decimal(60), {"history": 0}
    learned.predicted_success, learned.prediction_basis = Decimal(62), {"history": 14}
    session.flush()
    detail = customer_detail(session=session, customer_id=acme.id, viewer=Role.CSM)
    said = {u.plan_id: u.prediction_unlearned for u in detail.upsells}
    assert said == {unlearned.id: True, learned.id: False}
