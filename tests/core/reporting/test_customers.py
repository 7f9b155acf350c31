"""Customer list filters, the detail view and metric history."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.base import Role, Segment
from core.customers.models import TimelineEvent
from core.customers.schemas import HealthBand
from core.errors import NotFound
from core.goals.models import GoalStatus
from core.reporting.customers import customer_detail, filter_options, list_customers, metric_series
from tests import factories as f


@pytest.fixture
def book(session):
    ava, ben = f.user(session, Role.CSM, "Ava"), f.user(session, Role.CSM, "Ben")
    rows = {
        "acme": f.customer(
            session,
            owner=ava,
            name="Acme Retail",
            industry="Retail",
            segment=Segment.SMB,
            health=85,
            arr=500,
        ),
        "beta": f.customer(
            session,
            owner=ben,
            name="Beta 100% Labs",
            industry="Fintech",
            health=55,
            segment=Segment.ENTERPRISE,
        ),
        "gamma": f.customer(
            session, owner=ava, name="Gamma", industry="Retail", segment=Segment.SMB, health=12
        ),
        "delta": f.customer(
            session, name="delta_co", industry="Health", segment=Segment.SMB, health=None
        ),
    }
    f.goal(session, rows["acme"])
    f.goal(session, rows["acme"])
    f.goal(session, rows["acme"], status=GoalStatus.ACHIEVED)
    return {"ava": ava, "ben": ben, **rows}


def names(page):
    return [r.name for r in page.rows]


def test_lists_everyone_by_name_with_counts(session, book):
    page = list_customers(session=session)
    assert page.total == 4
    assert names(page) == ["Acme Retail", "Beta 100% Labs", "delta_co", "Gamma"]
    acme = page.rows[0]
    assert (acme.csm_name, acme.active_goals, acme.health_band) == ("Ava", 2, HealthBand.HEALTHY)
    assert page.rows[2].csm_name is None


def test_search_is_case_insensitive_and_literal(session, book):
    assert names(list_customers(session=session, search="ACME")) == ["Acme Retail"]
    assert names(list_customers(session=session, search="100%")) == ["Beta 100% Labs"]
    assert names(list_customers(session=session, search="_")) == ["delta_co"]
    assert list_customers(session=session, search="%").total == 1


def test_filters_combine(session, book):
    assert names(list_customers(session=session, industry="Retail")) == ["Acme Retail", "Gamma"]
    assert names(list_customers(session=session, segment=Segment.ENTERPRISE)) == ["Beta 100% Labs"]
    mine = list_customers(session=session, owner_id=book["ava"].id, industry="Retail")
    assert names(mine) == ["Acme Retail", "Gamma"]
    assert list_customers(session=session, owner_id=book["ben"].id, industry="Retail").total == 0


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        (HealthBand.HEALTHY, ["Acme Retail"]),
        (HealthBand.WATCH, ["Beta 100% Labs"]),
        (HealthBand.AT_RISK, ["Gamma"]),
        (HealthBand.UNKNOWN, ["delta_co"]),
    ],
)
def test_health_band_filter(session, book, band, expected):
    page = list_customers(session=session, health_band=band)
    assert names(page) == expected
    assert all(r.health_band == band for r in page.rows)


def test_paging_keeps_the_total(session, book):
    page = list_customers(session=session, limit=2, offset=2)
    assert names(page) == ["delta_co", "Gamma"]
    assert page.total == 4
    assert len(list_customers(session=session, limit=None).rows) == 4


def test_filter_options(session, book):
    options = filter_options(session=session)
    assert options.industries == ["Fintech", "Health", "Retail"]
    assert [o.name for o in options.owners] == ["Ava", "Ben"]
    assert options.segments == list(Segment)


def test_detail_has_goals_feedback_timeline_and_metrics(session, book):
    acme = book["acme"]
    now = datetime.now(UTC)
    for days in range(12):
        f.feedback(session, acme, when=now - timedelta(days=days), score=days % 11)
    session.add(TimelineEvent(customer_id=acme.id, kind="note", title="Kickoff"))
    f.metric(session)
    f.observe_at(session, acme, "active_users", {now - timedelta(days=1): 10})
    detail = customer_detail(session=session, customer_id=acme.id)
    assert detail.customer.name == "Acme Retail"
    assert detail.csm_email == book["ava"].email
    assert len(detail.goals) == 3
    assert len(detail.feedback) == 10
    assert detail.feedback[0].responded_at > detail.feedback[-1].responded_at
    assert [t.title for t in detail.timeline] == ["Kickoff"]
    assert [(m.key, m.observations) for m in detail.metrics] == [("active_users", 1)]


def test_detail_of_unknown_customer_is_not_found(session):
    with pytest.raises(NotFound):
        customer_detail(session=session, customer_id=uuid.uuid4())


def test_metric_series_is_daily_and_last_twelve_months(session, book):
    acme = book["acme"]
    f.metric(session)
    day = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    f.observe_at(session, acme, "active_users", {day: 10})
    f.observe_at(session, acme, "active_users", {day + timedelta(hours=1): 20})
    f.observe_at(session, acme, "active_users", {day - timedelta(days=3): 5})
    f.observe_at(session, acme, "active_users", {day - timedelta(days=400): 99})
    series = metric_series(session=session, customer_id=acme.id, metric_key="active_users")
    assert series.name == "Active users"
    assert [p.value for p in series.points] == [Decimal(5), Decimal(15)]
    assert series.points[-1].day == day.date()


def test_metric_series_unknowns_are_not_found(session, book):
    with pytest.raises(NotFound):
        metric_series(session=session, customer_id=uuid.uuid4(), metric_key="active_users")
    with pytest.raises(NotFound):
        metric_series(session=session, customer_id=book["acme"].id, metric_key="nope")
