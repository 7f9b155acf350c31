from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.upsell.models import Checkpoint, Measurement, MeasurementMetric, UpsellProduct
from core.upsell.plans import create_plans, customize_plan, replan
from core.upsell.queries import plan_latency
from core.upsell.sources import request_replan
from tests import factories as f
from tests.core.upsell.scenarios import catalog, days_before


@pytest.fixture
def cust(session):
    catalog(session)
    return f.customer(session, health=64)


def _plan(session, upsell) -> Measurement:
    return session.scalar(select(Measurement).where(Measurement.upsell_id == upsell.id))


def _metrics(session, plan) -> dict[str, MeasurementMetric]:
    session.expire_all()
    rows = session.scalars(
        select(MeasurementMetric).where(MeasurementMetric.measurement_id == plan.id)
    )
    return {m.name: m for m in rows}


def _days(session, plan) -> dict[int, Checkpoint]:
    rows = session.scalars(select(Checkpoint).where(Checkpoint.measurement_id == plan.id))
    return {c.day: c for c in rows}


def _notes(plan, kind) -> list[str]:
    return [n["text"] for n in plan.plan_notes if n["kind"] == kind]


def test_plan_from_the_product_template(session, cust):
    sold = f.upsell(session, cust, ["analytics"])
    [plan_id] = create_plans(session=session, now=f.NOW)
    plan = session.get(Measurement, plan_id)
    assert (plan.upsell_id, plan.customer_id, plan.started_on) == (sold.id, cust.id, f.CLOSE)
    assert (plan.health_before, plan.horizon_days, plan.created_at) == (Decimal(64), 90, f.NOW)
    assert plan.planned_products == ["analytics"]
    metrics = _metrics(session, plan)
    assert {n: (m.target, m.origin, m.measurement.value) for n, m in metrics.items()} == {
        "Core feature adoption": (Decimal(60), "template", "automatic"),
        "Weekly active users": (Decimal(150), "template", "automatic"),
        "Executive dashboards in use": (Decimal(3), "template", "manual"),
    }
    assert [m.name for m in sorted(metrics.values(), key=lambda m: m.position)] == [
        "Core feature adoption",
        "Weekly active users",
        "Executive dashboards in use",
    ]
    checkpoints = _days(session, plan)
    assert sorted(checkpoints) == [30, 60, 90]
    assert checkpoints[60].due_on == f.CLOSE + timedelta(days=60)
    assert checkpoints[60].kind == "day_60" and checkpoints[60].status.value == "scheduled"


def test_a_180_day_product_extends_the_horizon_and_a_benchmark_fills_a_missing_target(
    session, cust
):
    sold = f.upsell(session, cust, ["analytics", "automation"])
    create_plans(session=session)
    plan = _plan(session, sold)
    assert sorted(_days(session, plan)) == [30, 60, 90, 180] and plan.horizon_days == 180
    saved = _metrics(session, plan)["Time saved per week"]
    assert (saved.target, saved.origin, saved.target_source) == (
        Decimal(30),
        "template",
        "benchmark",
    )
    assert len(_metrics(session, plan)) == 5


def test_a_metric_without_any_target_is_skipped_with_a_note(session, cust):
    other = f.customer(session, industry="Retail")
    sold = f.upsell(session, other, ["automation"])
    create_plans(session=session)
    plan = _plan(session, sold)
    assert set(_metrics(session, plan)) == {"Automation runs"}
    assert _notes(plan, "target_missing") == [
        "Time saved per week: no baseline at close and no level in the template, the industry "
        "benchmarks or similar upsells; left out."
    ]


# Targets from history, benchmarks and uplifts: tests/core/upsell/test_targets*.py.


def test_baseline_is_the_average_of_the_14_days_before_close(session, cust):
    before = dict(zip(days_before(f.CLOSE, 1, 7, 14), (50, 40, 30), strict=True))
    outside = {f.CLOSE: 99, f.CLOSE - timedelta(days=15): 1, f.CLOSE + timedelta(days=2): 99}
    f.observe_at(session, cust, "feature_adoption", before | outside)
    sold = f.upsell(session, cust, ["analytics"])
    create_plans(session=session)
    plan = _plan(session, sold)
    metrics = _metrics(session, plan)
    assert metrics["Core feature adoption"].baseline == Decimal(40)
    assert metrics["Weekly active users"].baseline is None
    assert metrics["Executive dashboards in use"].baseline is None
    assert _notes(plan, "baseline_missing") == [
        "Weekly active users: no weekly_active_users data in the 14 days before close; "
        "baseline left empty."
    ]


def test_stated_criteria_become_metrics(session, cust):
    f.observe_at(session, cust, "ticket_resolution_hours", {f.CLOSE - timedelta(days=2): 20})
    stated = (
        "Reach 70% adoption of the added seats in the first quarter. "
        "Automate month-end reconciliation by day 60.\n"
        "Reduce resolution time by 30%; Save the team at least 40 hours a week"
    )
    sold = f.upsell(session, cust, [], criteria=stated)
    create_plans(session=session)
    metrics = _metrics(session, _plan(session, sold))
    shown = {
        n: (m.metric_key, m.target, m.unit, m.measurement.value, m.origin)
        for n, m in metrics.items()
    }
    assert shown == {
        "Reach 70% adoption of the added seats in the first quarter": (
            "feature_adoption",
            Decimal(70),
            "%",
            "automatic",
            "stated",
        ),
        "Automate month-end reconciliation by day 60": (
            None,
            Decimal(1),
            "met",
            "manual",
            "stated",
        ),
        "Reduce resolution time by 30%": (
            "ticket_resolution_hours",
            Decimal(14),
            "hours",
            "automatic",
            "stated",
        ),
        "Save the team at least 40 hours a week": (
            "time_saved_hours",
            Decimal(40),
            "hours",
            "automatic",
            "stated",
        ),
    }
    assert metrics["Reduce resolution time by 30%"].direction.value == "lower_is_better"


def test_a_relative_stated_criterion_without_a_baseline_stays_manual(session, cust):
    sold = f.upsell(session, cust, [], criteria="Cut resolution time in half")
    create_plans(session=session)
    plan = _plan(session, sold)
    [metric] = _metrics(session, plan).values()
    assert (metric.measurement.value, metric.metric_key, metric.target) == ("manual", None, 1)
    assert _notes(plan, "baseline_missing")


def test_default_checkpoints_and_a_note_for_a_product_without_template(session, cust):
    sold = f.upsell(session, cust, ["no-template"])
    create_plans(session=session)
    plan = _plan(session, sold)
    assert sorted(_days(session, plan)) == [30, 60, 90]
    assert _notes(plan, "no_template") == ["no-template has no success template."]


def test_one_plan_per_opportunity_however_often_it_runs(session, cust):
    upsells = [f.upsell(session, cust, ["analytics"]) for _ in range(3)]
    assert len(create_plans(session=session)) == 3
    assert create_plans(session=session) == []
    assert session.scalar(select(func.count()).select_from(Measurement)) == 3
    assert session.scalar(select(func.count()).select_from(Checkpoint)) == 9
    assert {_plan(session, u).upsell_id for u in upsells} == {u.id for u in upsells}


def test_latency_counts_from_the_close_and_waits_for_young_upsells(session, cust):
    close = f.NOW.date()  # the deal closed on NOW's day: 00:00 UTC counts; NOW is 12:00
    fast = f.upsell(session, cust, ["analytics"], close=close)
    future = f.upsell(
        session, cust, ["analytics"], close=close + timedelta(1)
    )  # planned before its close
    create_plans(session=session, now=f.NOW + timedelta(hours=5))
    slow = f.upsell(session, cust, ["analytics"], close=close)
    later = f.NOW + timedelta(hours=72)
    create_plans(session=session, now=later)
    waiting = f.upsell(
        session, cust, ["analytics"], close=close - timedelta(days=3)
    )  # 48 h are over, no plan
    young = f.upsell(
        session, cust, ["analytics"], close=close + timedelta(days=3)
    )  # no plan yet, has time
    report = plan_latency(session=session, now=later)
    hours = {r.upsell_id: r.hours for r in report.rows}
    assert (hours[fast.id], hours[slow.id], hours[future.id]) == (17, 84, 0)
    assert (hours[waiting.id], hours[young.id]) == (156, 12)  # waited so far
    assert (report.upsells, report.planned, report.due, report.within_48h) == (5, 3, 4, 2)
    assert (report.coverage, report.within_48h_share, report.median_hours) == (0.6, 0.5, 17)
    assert report.p90_hours == pytest.approx(17 + 0.8 * 67)


def test_replan_adds_new_products_and_keeps_what_the_csm_customized(session, cust):
    sold = f.upsell(session, cust, ["analytics"])
    [plan_id] = create_plans(session=session)
    plan = session.get(Measurement, plan_id)
    customize_plan(
        session=session,
        measurement_id=plan_id,
        expected_version=plan.version,
        actor=f.csm(session),
        metrics=[
            {"action": "remove", "name": "Weekly active users"},
            {"action": "update", "name": "Core feature adoption", "target": 75},
        ],
    )
    version = plan.version
    session.add(UpsellProduct(upsell_id=sold.id, product_code="automation", arr=Decimal(1)))
    sold.close_date = f.CLOSE + timedelta(days=7)
    session.flush()
    request_replan(session=session, upsell_ids=[sold.id], now=f.NOW)
    assert replan(session=session, now=f.NOW) == [plan_id]
    session.expire_all()
    plan = session.get(Measurement, plan_id)
    metrics = _metrics(session, plan)
    assert set(metrics) == {
        "Core feature adoption",
        "Executive dashboards in use",
        "Automation runs",
        "Time saved per week",
    }
    assert metrics["Core feature adoption"].target == Decimal(75)
    assert metrics["Automation runs"].position > metrics["Executive dashboards in use"].position
    checkpoints = _days(session, plan)
    assert sorted(checkpoints) == [30, 60, 90, 180] and plan.horizon_days == 180
    assert checkpoints[30].due_on == f.CLOSE + timedelta(days=37)
    assert plan.started_on == f.CLOSE + timedelta(days=7)
    assert plan.planned_products == ["analytics", "automation"]
    assert plan.replan_requested_at is None and plan.version == version + 1
    assert _notes(plan, "replan") == [
        "Re-planned after the opportunity changed; new products: automation"
    ]
    assert replan(session=session) == []
