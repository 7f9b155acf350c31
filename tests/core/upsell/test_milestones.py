"""Adoption milestones: laid out once from templates (or the defaults), evaluated set-based."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from core.base import Direction
from core.customers.models import MetricKind
from core.upsell import milestones
from core.upsell.models import (
    Measurement,
    MeasurementStatus,
    MilestoneStatus,
    PlanMilestone,
    SuccessTemplate,
)
from core.upsell.queries import plan_detail, success_measurement
from tests import factories as f

NOW = f.NOW
TODAY = NOW.date()
S = MilestoneStatus


@pytest.fixture
def owner(session):
    return f.csm(session)


def unit(spec: dict, value: str) -> dict:
    return {**spec, "unit": value}


def of(session, plan) -> dict[str, PlanMilestone]:
    stmt = select(PlanMilestone).where(PlanMilestone.measurement_id == plan.id)
    return {m.name: m for m in session.scalars(stmt.execution_options(populate_existing=True))}


def template(session, code: str, specs: list[dict]) -> None:
    f.add(session, SuccessTemplate(product_code=code, metrics=[], milestones=specs))


def users_plan(session, cust, *, days_ago: int, key: str, product=("ANALYTICS", "Analytics")):
    return f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=days_ago),
        metrics=[unit(f.auto("Active users", key, 100, 200), "users")],
        product=product,
    )


def test_the_default_set_follows_the_plans_usage_and_adoption_criteria(session, owner):
    cust = f.customer(session, owner=owner)
    start = TODAY - timedelta(days=10)
    plan = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[
            unit(
                f.auto(
                    "Handle time",
                    "ms_d_hours",
                    8,
                    4,
                    direction=Direction.LOWER,
                    kind=MetricKind.OUTCOME,
                ),
                "hours",
            ),
            unit(f.auto("Active users", "ms_d_users", 100, 200), "users"),
            unit(f.auto("Adoption", "ms_d_adoption", 20, 60, kind=MetricKind.ADOPTION), "%"),
            unit(f.auto("Logins", "ms_d_logins", 5, 50), "logins"),  # a third: left out
            f.manual("Dashboards", 0, 3),
        ],
    )
    short = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[unit(f.auto("Active users", "ms_d_users", 100, 200), "users")],
        days=(15, 45),
        name="Short plan",
    )
    manual_only = f.plan(
        session, cust, started_on=start, metrics=[f.manual("Dashboards", 0, 3)], name="Manual"
    )
    assert milestones.lay_out(session=session, now=NOW) == {"milestones_planned": 5}

    found = of(session, plan)
    assert {n: (m.threshold, m.due_day, m.due_on) for n, m in found.items()} == {
        "Active users reaches 125 users": (Decimal(125), 30, start + timedelta(days=30)),
        "Active users reaches 150 users": (Decimal(150), 60, start + timedelta(days=60)),
        "Adoption reaches 30%": (Decimal(30), 30, start + timedelta(days=30)),
        "Adoption reaches 40%": (Decimal(40), 60, start + timedelta(days=60)),
    }
    assert {(m.status, m.origin) for m in found.values()} == {(S.UPCOMING, "default")}
    assert list(of(session, short)) == ["Active users reaches 125 users"]  # day 60 > horizon 45
    assert of(session, manual_only) == {}
    # Laid out once per plan, also when a plan got none.
    assert milestones.lay_out(session=session, now=NOW) == {"milestones_planned": 0}
    assert session.get(Measurement, manual_only.id).milestones_planned_at is not None


def test_thresholds_round_to_what_people_read_never_towards_the_baseline(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=5),
        metrics=[
            unit(f.auto("Active users", "ms_r_users", 21.7, 62.86), "users"),
            unit(f.auto("Adoption", "ms_r_adoption", 4.113, 9.04, kind=MetricKind.ADOPTION), "%"),
        ],
    )
    milestones.lay_out(session=session, now=NOW)
    assert {n: m.threshold for n, m in of(session, plan).items()} == {
        "Active users reaches 32 users": Decimal("32.0"),  # 31.99 up to one decimal
        "Active users reaches 42.3 users": Decimal("42.3"),  # 42.28 up
        "Adoption reaches 5.35%": Decimal("5.35"),  # 5.3448 up to two decimals
        "Adoption reaches 6.58%": Decimal("6.58"),  # 6.5765 up
    }


def test_template_milestones_replace_the_defaults(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=5),
        metrics=[
            unit(f.auto("Active users", "ms_t_users", 100, 200), "users"),
            unit(f.auto("Handle time", "ms_t_hours", 8, 4, direction=Direction.LOWER), "hours"),
            unit(f.auto("Wait", "ms_t_wait", None, 2, direction=Direction.LOWER), "minutes"),
        ],
        product=("MS-TEMPLATE", "Module"),
    )
    template(
        session,
        "MS-TEMPLATE",
        [
            {
                "name": "10 more people on the module",
                "metricKey": "ms_t_users",
                "threshold": 110,
                "dueDay": 30,
            },
            {"criterion": "Handle time", "share": 0.5, "dueDay": 60},
            {"metricKey": "ms_t_users", "threshold": 90, "dueDay": 30},  # met at the baseline
            {"metricKey": "ms_t_unknown", "threshold": 1, "dueDay": 30},  # no such criterion
            {"metricKey": "ms_t_users", "threshold": 150, "dueDay": 120},  # after the horizon
            {"criterion": "Wait", "threshold": 5, "dueDay": 30},  # a level: no baseline needed
            {"criterion": "Wait", "share": 0.5, "dueDay": 60},  # no baseline to start from
        ],
    )
    milestones.lay_out(session=session, now=NOW)
    found = of(session, plan)
    assert {n: (m.threshold, m.due_day, m.origin) for n, m in found.items()} == {
        "10 more people on the module": (Decimal(110), 30, "template"),
        "Handle time is down to 6 hours": (Decimal(6), 60, "template"),
        "Wait is down to 5 minutes": (Decimal(5), 30, "template"),
    }


def _statements(session, action) -> int:
    count = 0

    def seen(*_):
        nonlocal count
        count += 1

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    return count


def test_completed_overdue_and_upcoming_in_one_set_based_pass(session, owner):
    cust = f.customer(session, owner=owner)
    # Crosses 125 on a 7-day average on day 14; never reaches 150.
    climbing = users_plan(session, cust, days_ago=45, key="ms_e_climb")
    start = TODAY - timedelta(days=45)
    f.observe_days(session, cust, "ms_e_climb", start, TODAY, lambda i: 100 if i < 10 else 140)
    # Flat: the day-30 milestone is overdue, the day-60 one upcoming.
    flat = users_plan(session, cust, days_ago=40, key="ms_e_flat")
    f.observe_days(session, cust, "ms_e_flat", TODAY - timedelta(days=40), TODAY, 100)
    # 200 from day 35: 125 reached on day 36, after its due day 30 (completed, late), 150 on 38.
    late = users_plan(session, cust, days_ago=45, key="ms_e_late")
    f.observe_days(session, cust, "ms_e_late", start, TODAY, lambda i: 100 if i < 35 else 200)
    # Lower is better, from the template: 8 → 5 from day 20, the 7-day average ≤ 6 on day 24;
    # and a manual criterion reaching its threshold with a value entered yesterday.
    lower = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[
            f.auto("Handle time", "ms_e_hours", 8, 4, direction=Direction.LOWER),
            f.manual("Dashboards", 0, 4, 3),
        ],
        product=("MS-LOWER", "Support"),
    )
    template(
        session,
        "MS-LOWER",
        [
            {"criterion": "Handle time", "share": 0.5, "dueDay": 30},
            {"name": "Three dashboards", "criterion": "Dashboards", "threshold": 3, "dueDay": 60},
        ],
    )
    f.observe_days(session, cust, "ms_e_hours", start, TODAY, lambda i: 8 if i < 20 else 5)
    milestones.lay_out(session=session, now=NOW)

    counts = milestones.evaluate(session=session, now=NOW)
    assert counts["milestones_reached"] == 5
    day = lambda n: start + timedelta(days=n)  # noqa: E731
    assert {n: (m.status, m.reached_on) for n, m in of(session, climbing).items()} == {
        "Active users reaches 125 users": (S.COMPLETED, day(14)),
        "Active users reaches 150 users": (S.UPCOMING, None),
    }
    assert {n: m.status for n, m in of(session, flat).items()} == {
        "Active users reaches 125 users": S.OVERDUE,
        "Active users reaches 150 users": S.UPCOMING,
    }
    reached = of(session, late)
    assert {n: (m.status, m.reached_on) for n, m in reached.items()} == {
        "Active users reaches 125 users": (S.COMPLETED, day(36)),  # due day 30: late
        "Active users reaches 150 users": (S.COMPLETED, day(38)),
    }
    assert reached["Active users reaches 125 users"].due_on == day(30)
    assert {n: (m.status, m.reached_on) for n, m in of(session, lower).items()} == {
        "Handle time is down to 6 units": (S.COMPLETED, day(24)),
        "Three dashboards": (S.COMPLETED, TODAY - timedelta(days=1)),
    }
    # Nothing changes the second time, and the pass costs the same statements for any number
    # of plans.
    assert milestones.evaluate(session=session, now=NOW) == {
        "milestones_reached": 0,
        "milestones_restated": 0,
    }
    assert _statements(session, lambda: milestones.evaluate(session=session, now=NOW)) == 2


def test_plans_reading_one_series_each_get_their_own_first_day(session, owner):
    cust = f.customer(session, owner=owner)
    start = TODAY - timedelta(days=40)
    day = lambda n: start + timedelta(days=n)  # noqa: E731
    # Two plans started the same day read one series (its 7-day average passes 125 on day 11,
    # 150 on day 13, 200 on day 16); a plan started on day 8 averages only what it observed
    # since its start, so it passes 125 on day 10 and 150 on day 11.
    first = users_plan(session, cust, days_ago=40, key="ms_sh_users")
    wider = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[unit(f.auto("Active users", "ms_sh_users", 100, 300), "users")],
        name="Wider plan",
    )
    later = users_plan(session, cust, days_ago=32, key="ms_sh_users")
    f.observe_days(session, cust, "ms_sh_users", start, TODAY, lambda i: 100 if i < 10 else 200)
    milestones.track(session=session, now=NOW)

    reached = {
        plan.id: {n: m.reached_on for n, m in of(session, plan).items()}
        for plan in (first, wider, later)
    }
    assert reached == {
        first.id: {
            "Active users reaches 125 users": day(11),
            "Active users reaches 150 users": day(13),
        },
        wider.id: {
            "Active users reaches 150 users": day(13),
            "Active users reaches 200 users": day(16),
        },
        later.id: {
            "Active users reaches 125 users": day(10),
            "Active users reaches 150 users": day(11),
        },
    }


def test_a_completed_milestone_stays_completed_and_shows_in_the_reads(session, owner):
    cust = f.customer(session, owner=owner)
    plan = users_plan(session, cust, days_ago=20, key="ms_s_users")
    start = TODAY - timedelta(days=20)
    f.observe_days(session, cust, "ms_s_users", start, TODAY - timedelta(days=10), 130)
    f.observe_days(session, cust, "ms_s_users", TODAY - timedelta(days=9), TODAY, 90)  # fell back
    milestones.track(session=session, now=NOW)
    assert of(session, plan)["Active users reaches 125 users"].reached_on == start

    later = milestones.track(session=session, now=NOW + timedelta(days=50))
    assert later["milestones_reached"] == 0
    found = of(session, plan)
    assert found["Active users reaches 125 users"].status == S.COMPLETED
    assert found["Active users reaches 150 users"].status == S.OVERDUE

    [done, missed] = success_measurement(
        session=session, measurement_id=plan.id
    ).progress.milestones
    assert (done.criterion, done.status, done.reached_on) == ("Active users", S.COMPLETED, start)
    assert (missed.threshold, missed.unit, missed.status) == (Decimal(150), "users", S.OVERDUE)
    assert [
        m.name for m in plan_detail(session=session, measurement_id=plan.id, now=NOW).milestones
    ] == [
        done.name,
        missed.name,
    ]


def test_milestones_of_closed_plans_are_left_alone(session, owner):
    cust = f.customer(session, owner=owner)
    plan = users_plan(session, cust, days_ago=40, key="ms_c_users")
    milestones.track(session=session, now=NOW)
    row = session.get(Measurement, plan.id)
    row.status = MeasurementStatus.COMPLETED
    session.flush()
    assert milestones.track(session=session, now=NOW + timedelta(days=40)) == {
        "milestones_planned": 0,
        "milestones_reached": 0,
        "milestones_restated": 0,
    }
    assert of(session, plan)["Active users reaches 150 users"].status == S.UPCOMING
