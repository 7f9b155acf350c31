"""Reads of the goals API: achievements with filters, a customer's goals, people and references."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.accounts.service import person
from core.base import Direction, Role
from core.customers.queries import customer_id_for
from core.documentation.queries import customer_goals, get_achievement, list_achievements
from core.documentation.schemas import AchievementFilters
from core.documentation.service import confirm_win
from core.errors import Forbidden, Invalid, NotFound
from core.goals.models import AchievementMethod, AchievementStatus, GoalStatus, GoalType
from core.goals.queries import goal_id_for
from core.goals.schemas import progress_pct
from tests import factories as f


def row(**values):
    base = dict(
        status=GoalStatus.ACTIVE,
        metric="m",
        target=Decimal(100),
        latest_value=Decimal(50),
        baseline=None,
        cost=None,
        type=GoalType.KPI,
        direction=Direction.HIGHER,
        milestones_total=0,
        milestones_closed=0,
    )
    return SimpleNamespace(**{**base, **values})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, 50.0),
        ({"baseline": Decimal(40)}, 16.7),
        ({"latest_value": Decimal(120)}, 100.0),
        ({"direction": Direction.LOWER, "target": Decimal(4), "latest_value": Decimal(8)}, 50.0),
        (
            {
                "direction": Direction.LOWER,
                "target": Decimal(4),
                "baseline": Decimal(10),
                "latest_value": Decimal(7),
            },
            50.0,
        ),
        ({"direction": Direction.LOWER, "target": Decimal(4), "latest_value": Decimal(3)}, 100.0),
        ({"type": GoalType.ROI, "cost": Decimal(1000), "target": Decimal(2), "unit": "×"}, 2.5),
        ({"latest_value": None}, None),
        ({"latest_value": Decimal(-5)}, 0.0),
        ({"metric": None, "target": None, "milestones_total": 4, "milestones_closed": 1}, 25.0),
        ({"metric": None, "target": None}, None),
        ({"status": GoalStatus.ACHIEVED, "latest_value": None}, 100.0),
    ],
)
def test_progress_is_direction_aware(values, expected):
    assert progress_pct(row(**values)) == expected


def _achievement(session, goal, *, at, score=None, status=AchievementStatus.VERIFIED, **extra):
    return f.achievement(
        session,
        goal,
        achieved_at=at,
        status=status,
        target_value=goal.target,
        achieved_value=Decimal(60),
        marketing_score=score,
        marketing_candidates=["case_study"] if score else [],
        **extra,
    )


@pytest.fixture
def wins(session):
    casey = f.csm(session, email="casey@outcomes.example")
    acme = f.customer(session, owner=casey, external_id="acme-ext")
    beta = f.customer(session, name="Beta Bank", industry="banking")
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    day = datetime(2026, 10, 1, 12, tzinfo=UTC)
    found = []
    for i, (cust, score) in enumerate([(acme, 80), (acme, 40), (beta, 90), (beta, None)]):
        goal = f.goal(session, cust, metric_key="weekly_active_users", target=55, name=f"G{i}")
        found.append(_achievement(session, goal, at=day + timedelta(days=i), score=score))
    found[3].status = AchievementStatus.HELD
    found[3].method = AchievementMethod.MANUAL
    session.flush()
    return SimpleNamespace(casey=casey, acme=acme, beta=beta, items=found)


def _ids(page):
    return [item.id for item in page.items]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [3, 2, 1, 0]),
        ({"industry": "BANKING"}, [3, 2]),
        ({"customer_id": "acme-ext"}, [1, 0]),
        ({"min_score": 50}, [2, 0]),
        ({"status": "held_for_confirmation"}, [3]),
        ({"method": "manual"}, [3]),
        ({"goal_type": "roi"}, []),
        ({"achieved_from": date(2026, 10, 2), "achieved_to": date(2026, 10, 3)}, [2, 1]),
        ({"csm": "CASEY@outcomes.example"}, [1, 0]),
    ],
)
def test_filters(session, wins, filters, expected):
    page = list_achievements(session=session, filters=AchievementFilters(**filters))
    assert _ids(page) == [wins.items[i].id for i in expected]
    assert page.total == len(expected)


def test_filters_by_our_uuid_and_pages(session, wins):
    page = list_achievements(
        session=session, filters=AchievementFilters(customer_id=str(wins.beta.id)), limit=1
    )
    assert page.total == 2 and _ids(page) == [wins.items[3].id]
    rest = list_achievements(session=session, filters=AchievementFilters(), limit=2, offset=2)
    assert rest.total == 4 and _ids(rest) == [wins.items[1].id, wins.items[0].id]


def test_dates_must_be_in_order():
    with pytest.raises(ValueError, match="achievedTo must not be before achievedFrom"):
        AchievementFilters(achieved_from=date(2026, 2, 1), achieved_to=date(2026, 1, 1))


def test_customer_goals_show_latest_value_and_progress(session):
    cust = f.customer(session)
    cust.external_id = "ext-9"
    f.metric(session, "resolution_hours", Direction.LOWER, "hours")
    kpi = f.goal(
        session,
        cust,
        metric_key="resolution_hours",
        target=4,
        baseline=8,
        direction=Direction.LOWER,
        name="Faster",
    )
    f.observe(session, cust, "resolution_hours", [8, 7, 6])
    plan_goal = f.goal(session, cust, type=GoalType.SUCCESS_PLAN, name="Launch")
    f.success_plan(session, cust, plan_goal, ["done", "open", "skipped", "open"])
    other = f.customer(session, name="Other")
    f.observe(session, other, "resolution_hours", [1])

    result = customer_goals(session=session, customer_ref="ext-9")
    assert result.customer.id == cust.id
    by_name = {g.name: g for g in result.goals}
    faster = by_name["Faster"]
    assert faster.id == kpi.id and faster.latest_value == 6 and faster.unit == "hours"
    assert faster.observed_at == f.NOW - timedelta(hours=6)
    assert faster.progress_pct == 50.0
    launch = by_name["Launch"]
    assert (launch.milestones_done, launch.milestones_total, launch.progress_pct) == (1, 4, 50.0)
    assert launch.latest_value is None and result.achievements == []
    assert customer_goals(session=session, customer_ref=str(cust.id)).customer.id == cust.id


def test_unknown_customer_and_goal_are_not_found(session):
    with pytest.raises(NotFound):
        customer_goals(session=session, customer_ref="nobody")
    with pytest.raises(NotFound):
        customer_id_for(session=session, ref=str(uuid.uuid4()))
    with pytest.raises(NotFound):
        goal_id_for(session=session, ref="nope")


def test_goal_reference_is_uuid_or_external_id(session):
    cust = f.customer(session)
    goal = f.goal(session, cust, external_id="SF-1")
    assert goal_id_for(session=session, ref="SF-1") == goal.id
    assert goal_id_for(session=session, ref=str(goal.id)) == goal.id


def test_person_must_be_active_and_allowed(session):
    casey = f.csm(session)
    f.user(session, Role.SALES, "Mo", email="mo@x.example")
    f.user(session, Role.CSM, "Gone", email="gone@x.example", active=False)
    allowed = {Role.CSM, Role.ADMIN}
    found = person(
        session=session, email=casey.email.upper(), roles=allowed, field="by", action="x"
    )
    assert found.id == casey.id
    with pytest.raises(Forbidden, match="by: mo@x.example is a sales user"):
        person(session=session, email="mo@x.example", roles=allowed, field="by", action="x")
    with pytest.raises(Invalid, match="by: no active user"):
        person(session=session, email="gone@x.example", roles=allowed, field="by", action="x")


def test_confirmed_achievement_reads_with_verifier_and_record(session):
    casey = f.csm(session)
    cust = f.customer(session, owner=casey)
    goal = f.goal(session, cust, type=GoalType.CUSTOM, name="Exec sponsor signed off")
    achievement = confirm_win(session=session, goal_id=goal.id, actor=casey, note="Signed QBR deck")
    out = get_achievement(session=session, achievement_id=achievement.id)
    assert out.verified_by == casey.email and out.note == "Signed QBR deck"
    assert out.method == AchievementMethod.MANUAL and out.success_record_id is not None
    assert out.marketing_score is not None and out.goal_name == "Exec sponsor signed off"
