"""Home figures: a CSM sees their own book, everyone else the whole company."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from core.base import Role, Segment
from core.drafts.models import DraftStatus
from core.errors import NotFound
from core.goals.models import GoalStatus
from core.reporting.home import home_figures
from core.upsell.models import MeasurementStatus
from tests import factories as f

TODAY = date(2026, 6, 15)


@pytest.fixture
def world(session):
    """Two CSMs with their own books, one unassigned customer, and a leader."""
    ava, ben = f.user(session, Role.CSM, "Ava"), f.user(session, Role.CSM, "Ben")
    leader = f.user(session, Role.LEADER, "Lee")
    a1 = f.customer(session, owner=ava, industry="Retail", segment=Segment.SMB, arr=100, health=20)
    a2 = f.customer(
        session, owner=ava, industry="Fintech", segment=Segment.ENTERPRISE, arr=300, health=80
    )
    b1 = f.customer(session, owner=ben, industry="Retail", segment=Segment.SMB, arr=50, health=45)
    lone = f.customer(session, industry="Health", segment=Segment.SMB, arr=1000, health=None)
    f.goal(session, a1)
    f.goal(session, a2)
    f.goal(session, a2, status=GoalStatus.ACHIEVED)
    f.goal(session, b1)
    f.upsell(session, a1, close=date(2026, 6, 1), arr=10, plan_status=MeasurementStatus.ACTIVE)
    f.upsell(session, a2, close=date(2026, 5, 3), arr=20)
    f.upsell(session, a2, close=date(2025, 1, 3), arr=40, plan_status=MeasurementStatus.COMPLETED)
    f.upsell(session, b1, close=date(2026, 6, 2), arr=30)
    f.draft(session, a1, ava)
    f.draft(session, a2, ava, status=DraftStatus.APPROVED)
    f.draft(session, b1, ben)
    f.draft(session, lone, None)
    return {"ava": ava, "ben": ben, "leader": leader, "a1": a1, "a2": a2, "b1": b1}


def test_csm_sees_only_their_book(session, world):
    figures = home_figures(session=session, user_id=world["ava"].id, today=TODAY)
    assert figures.scope == "book"
    assert figures.customers == 2
    assert figures.arr == Decimal(400)
    assert figures.avg_health == Decimal(50)
    assert figures.active_goals == 2
    assert figures.open_plans == 1
    assert figures.upsells_without_plan == 1
    assert figures.pending_approvals == 1
    assert [a.name for a in figures.attention] == [world["a1"].name, world["a2"].name]
    assert figures.attention[0].health_band == "at_risk"


@pytest.mark.parametrize("role", [Role.LEADER, Role.ADMIN, Role.MARKETING, Role.SALES])
def test_other_roles_see_the_whole_company(session, world, role):
    person = f.user(session, role)
    figures = home_figures(session=session, user_id=person.id, today=TODAY)
    assert figures.scope == "company"
    assert figures.customers == 4
    assert figures.arr == Decimal(1450)
    assert figures.active_goals == 3
    assert figures.open_plans == 1
    assert figures.upsells_without_plan == 2
    assert figures.pending_approvals == 3
    names = [a.name for a in figures.attention]
    if role in (Role.MARKETING, Role.SALES):  # b1 is internal only: described, never named
        assert world["b1"].name not in names and "An SMB retail company" in names
    else:
        assert world["b1"].name in names


def test_breakdowns_by_segment_industry_and_health(session, world):
    figures = home_figures(session=session, user_id=world["leader"].id, today=TODAY)
    segments = {s.label: s.value for s in figures.arr_by_segment}
    assert segments == {"smb": 1150, "mid_market": 0, "enterprise": 300}
    industries = [(s.label, s.value) for s in figures.customers_by_industry]
    assert industries == [("Retail", 2), ("Fintech", 1), ("Health", 1)]
    bands = {s.label: s.value for s in figures.health_bands}
    assert bands == {"healthy": 1, "watch": 1, "at_risk": 1, "unknown": 1}


def test_upsells_per_month_cover_the_last_twelve_months(session, world):
    figures = home_figures(session=session, user_id=world["leader"].id, today=TODAY)
    months = figures.upsells_by_month
    assert [m.month for m in (months[0], months[-1])] == [date(2025, 7, 1), date(2026, 6, 1)]
    assert len(months) == 12
    by_month = {m.month: (m.count, m.arr) for m in months if m.count}
    assert by_month == {date(2026, 5, 1): (1, Decimal(20)), date(2026, 6, 1): (2, Decimal(40))}


def test_attention_lists_lowest_health_first_and_skips_unscored(session, world):
    figures = home_figures(session=session, user_id=world["leader"].id, today=TODAY)
    assert [a.health_score for a in figures.attention] == [20, 45, 80]
    assert figures.attention[0].csm_name == "Ava"
    assert figures.attention[0].reason == "Health 20"


def test_empty_book_gives_zeros(session):
    csm = f.user(session, Role.CSM)
    figures = home_figures(session=session, user_id=csm.id, today=TODAY)
    assert (figures.customers, figures.arr, figures.avg_health) == (0, 0, None)
    assert figures.attention == []
    assert all(m.count == 0 for m in figures.upsells_by_month)
    assert all(s.value == 0 for s in figures.health_bands)


def test_query_count_does_not_grow_with_customers(session, world):
    for _ in range(20):
        f.goal(session, f.customer(session, owner=world["ava"]))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.connection(), "before_cursor_execute", listener)
    try:
        home_figures(session=session, user_id=world["ava"].id, today=TODAY)
    finally:
        event.remove(session.connection(), "before_cursor_execute", listener)
    assert len(statements) <= 5


def test_unknown_user_is_not_found(session):
    with pytest.raises(NotFound):
        home_figures(session=session, user_id=uuid.uuid4())
