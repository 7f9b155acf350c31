"""Drafted targets: relative to each customer's baseline at close, capped, learned, explained."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.base import Direction, Segment
from core.customers.models import Metric, MetricKind
from core.upsell.models import (
    IndustryBenchmark,
    Measurement,
    MeasurementMetric,
    MeasurementStatus,
    OutcomeStatus,
    Product,
    SuccessTemplate,
    UpsellProduct,
)
from core.upsell.plans import create_plans, replan
from core.upsell.queries import plan_detail, success_measurement
from core.upsell.sources import request_replan
from tests import factories as f
from tests.core.upsell import scenarios

INSIGHTS = [
    scenarios.criterion("Weekly active users", "weekly_active_users", "usage", "users", None)
    | {"uplift": {"smb": 0.3, "mid_market": 0.2, "enterprise": 0.1}},
    scenarios.criterion(
        "Resolution time", "ticket_resolution_hours", "outcome", "hours", None, scenarios.LOWER
    )
    | {"uplift": 0.25},
    scenarios.criterion("Csat", "csat", "satisfaction", "score", 4.5) | {"uplift": 0.1},
    scenarios.criterion("Rollout signed off", None, "outcome", "met", 1, manual=True),
]


@pytest.fixture
def catalog(session):
    scenarios.catalog(session)
    f.add(
        session,
        Metric(
            key="csat",
            name="CSAT",
            unit="score",
            kind=MetricKind.SATISFACTION,
            direction=Direction.HIGHER,
        ),
    )
    f.add(session, Product(code="insights", name="Insights", family="analytics"))
    f.add(session, SuccessTemplate(product_code="insights", metrics=INSIGHTS))
    f.add(
        session,
        IndustryBenchmark(
            industry="Logistics",
            segment=Segment.MID_MARKET,
            metric_key="csat",
            median=Decimal("4.2"),
            top_quartile=Decimal("4.58"),
        ),
    )


def _before_close(session, cust, key, value, close=f.CLOSE):
    f.observe_at(session, cust, key, {d: value for d in scenarios.days_before(close, 1, 5, 10)})


def _metrics(session, upsell) -> dict[str, MeasurementMetric]:
    session.expire_all()
    plan = session.scalar(select(Measurement).where(Measurement.upsell_id == upsell.id))
    rows = session.scalars(
        select(MeasurementMetric).where(MeasurementMetric.measurement_id == plan.id)
    )
    return {m.name: m for m in rows}


def _plan(session, upsell) -> Measurement:
    return session.scalar(select(Measurement).where(Measurement.upsell_id == upsell.id))


def _notes(plan, kind) -> list[str]:
    return [n["text"] for n in plan.plan_notes if n["kind"] == kind]


def test_targets_follow_each_customers_baseline_and_segment(session, catalog):
    small = f.customer(session, segment=Segment.SMB)
    large = f.customer(session, segment=Segment.ENTERPRISE)
    _before_close(session, small, "weekly_active_users", "28.9")
    _before_close(session, large, "weekly_active_users", "217.7")
    _before_close(session, large, "ticket_resolution_hours", "9.2")
    sold_small = f.upsell(session, small, ["insights"])
    sold_large = f.upsell(session, large, ["insights"])
    create_plans(session=session)
    smb, ent = _metrics(session, sold_small), _metrics(session, sold_large)
    assert smb["Weekly active users"].target == Decimal("37.6")  # 28.9 × 1.3, three digits
    assert ent["Weekly active users"].target == 240  # 217.7 × 1.1 = 239.47, rounded up
    assert ent["Resolution time"].target == Decimal("6.9")  # 9.2 × 0.75: lower is better
    wau = ent["Weekly active users"]
    assert (wau.origin, wau.target_source) == ("template", "template_uplift")
    assert wau.target_explanation == (
        "218 users at close raised by 10%: the template's uplift for enterprise customers."
    )
    signed = ent["Rollout signed off"]
    assert (signed.target, signed.target_source, signed.baseline) == (1, "template_level", None)
    for row in [*smb.values(), *ent.values()]:
        if row.baseline is not None:
            up = row.direction == Direction.HIGHER
            assert row.target > row.baseline if up else row.target < row.baseline


def test_a_fixed_template_target_already_met_at_close_is_not_used(session, catalog):
    cust = f.customer(session)
    _before_close(session, cust, "weekly_active_users", "217.7")
    sold = f.upsell(session, cust, ["analytics"])  # its template says 150 weekly active users
    create_plans(session=session)
    metrics = _metrics(session, sold)
    wau = metrics["Weekly active users"]
    assert (wau.baseline, wau.target, wau.target_source) == (
        Decimal("217.7"),
        Decimal(262),
        "template_uplift",
    )
    assert "the default uplift for mid-market customers (the template sets none)" in (
        wau.target_explanation
    )
    adoption = metrics["Core feature adoption"]  # no data before close: the template's level
    assert (adoption.target, adoption.target_source) == (60, "template_level")
    assert adoption.target_explanation == "No baseline at close; the template's level."


def test_the_benchmark_caps_the_target_or_leaves_an_unreachable_one_out(session, catalog):
    near = f.customer(session)
    top = f.customer(session)
    _before_close(session, near, "csat", "4.1")
    _before_close(session, top, "csat", "4.91")
    sold_near = f.upsell(session, near, ["insights"])
    sold_top = f.upsell(session, top, ["insights"])
    create_plans(session=session)
    csat = _metrics(session, sold_near)["Csat"]
    assert (csat.target, csat.target_source) == (Decimal("4.51"), "template_uplift")
    assert "Csat" not in _metrics(session, sold_top)
    [why] = [n for n in _notes(_plan(session, sold_top), "target_missing") if "Csat" in n]
    assert why.startswith("Csat: 4.91 at close is already at or beyond the top quartile")


def test_the_benchmark_cap_is_the_source_when_it_binds(session, catalog):
    cust = f.customer(session)
    _before_close(session, cust, "csat", "4.3")  # 4.3 × 1.1 = 4.73 > 4.58
    sold = f.upsell(session, cust, ["insights"])
    create_plans(session=session)
    csat = _metrics(session, sold)["Csat"]
    assert (csat.target, csat.target_source) == (Decimal("4.58"), "benchmark")
    assert csat.target_explanation.endswith(
        "Capped at 4.58, the top quartile of mid-market Logistics customers."
    )


def _past(session, *, segment=Segment.MID_MARKET, reached, confirmed=True):
    """A plan of an insights upsell that started at 100 weekly active users and reached more."""
    peer = f.customer(session, segment=segment)
    started = f.CLOSE - timedelta(days=200)
    plan = f.plan(
        session,
        peer,
        sold=f.upsell(session, peer, ["insights"], close=started),
        started_on=started,
        status=MeasurementStatus.COMPLETED,
        days=(),
        planned_products=["insights"],
        metrics=[
            f.auto("Weekly active users", "weekly_active_users", 100, 120) | {"unit": "users"}
        ],
    )
    day90 = started + timedelta(days=90)
    f.observe_at(
        session, peer, "weekly_active_users", {day90: reached, day90 - timedelta(2): reached}
    )
    f.outcome(session, plan, OutcomeStatus.SUCCESS, confirmed=confirmed)


def test_similar_confirmed_upsells_count_once_there_are_five(session, catalog):
    for reached in (140, 150, 150, 160):
        _past(session, reached=reached)
    _past(session, reached=400, confirmed=False)  # proposed, never confirmed: not evidence
    for _ in range(5):
        _past(session, reached=400, segment=Segment.ENTERPRISE)  # another segment
    cust = f.customer(session)
    _before_close(session, cust, "weekly_active_users", 100)
    few = f.upsell(session, cust, ["insights"])
    create_plans(session=session)
    wau = _metrics(session, few)["Weekly active users"]
    assert (wau.target, wau.target_source) == (120, "template_uplift")
    assert _notes(_plan(session, few), "history") == [
        "Similar upsells not used for insights: 4 confirmed with mid-market customers "
        "(fewer than 5)."
    ]

    _past(session, reached=150)
    enough = f.upsell(session, cust, ["insights"])
    create_plans(session=session)
    wau = _metrics(session, enough)["Weekly active users"]
    # Median +50% over 5 plans, blended 5 to 5 with the template's +20%: +35%.
    assert (wau.target, wau.target_source) == (135, "history")
    assert "5 similar upsells with mid-market customers reached a median 50%" in (
        wau.target_explanation
    )
    assert _notes(_plan(session, enough), "history") == []


def test_replan_derives_new_targets_from_the_baseline_at_the_new_close(session, catalog):
    cust = f.customer(session)
    sold = f.upsell(session, cust, ["support"])
    create_plans(session=session)
    moved = f.CLOSE + timedelta(days=20)
    _before_close(session, cust, "weekly_active_users", 300, close=moved)
    session.add(UpsellProduct(upsell_id=sold.id, product_code="insights", arr=Decimal(1)))
    sold.close_date = moved
    session.flush()
    request_replan(session=session, upsell_ids=[sold.id], now=f.NOW)
    replan(session=session, now=f.NOW)
    wau = _metrics(session, sold)["Weekly active users"]
    assert (wau.baseline, wau.target, wau.target_source) == (300, 360, "template_uplift")


def test_the_source_reaches_the_api_shape_and_the_page_detail(session, catalog):
    cust = f.customer(session)
    _before_close(session, cust, "weekly_active_users", 100)
    sold = f.upsell(session, cust, ["insights"])
    [plan_id] = create_plans(session=session)
    api = success_measurement(session=session, measurement_id=plan_id)
    wau = next(m for m in api.success_criteria.metrics if m.name == "Weekly active users")
    dumped = wau.model_dump(by_alias=True, mode="json")
    assert dumped["targetSource"] == "template_uplift"
    assert dumped["targetExplanation"].startswith("100 users at close raised by 20%")
    page = plan_detail(session=session, measurement_id=plan_id)
    shown = next(m for m in page.metrics if m.name == "Weekly active users")
    assert (shown.target_source, shown.target) == ("template_uplift", 120)
    assert sold.id == api.upsell_id
