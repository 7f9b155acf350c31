"""ROI realized: money realized since the close against the ARR the upsell added."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.base import Direction
from core.customers.models import MetricKind
from core.upsell import roi
from core.upsell.models import Upsell
from core.upsell.queries import plan_detail, success_measurement
from tests import factories as f

NOW = f.NOW
TODAY = NOW.date()


@pytest.fixture
def owner(session):
    return f.csm(session)


def money_metric(session, key: str, unit: str = "USD") -> None:
    f.metric(session, key, Direction.HIGHER, unit, kind=MetricKind.ROI, money=True)


def savings_plan(session, owner, *, key: str, baseline, arr=30_000, days_ago=89, unit="USD"):
    money_metric(session, key, unit)
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=days_ago),
        metrics=[
            {
                **f.auto("Annualized cost savings", key, baseline, 150_000, kind=MetricKind.ROI),
                "unit": unit,
            },
            f.auto("Seats", f"{key}_seats", 10, 50),
        ],
    )
    session.get(Upsell, plan.upsell_id).arr_increase = Decimal(arr)
    session.flush()
    return cust, plan


def of(session, plan) -> roi.Realized:
    return roi.realized(session=session, measurement_ids=[plan.id], now=NOW)[plan.id]


def test_the_multiple_is_value_beyond_the_baseline_to_date_over_the_arr_added(session, owner):
    cust, plan = savings_plan(session, owner, key="roi_savings", baseline=10_000)
    start = plan.started_on
    # Run rate $10K a year before the close, $100K then $200K a year since: 45 days at each.
    f.observe_days(
        session, cust, "roi_savings", start - timedelta(days=30), start - timedelta(1), 10_000
    )
    f.observe_days(
        session, cust, "roi_savings", start, TODAY, lambda i: 100_000 if i < 45 else 200_000
    )
    found = of(session, plan)
    # mean 150,000 − baseline 10,000 = 140,000 a year, over 90 days: 140,000 × 90 ÷ 365.
    assert found.realized == Decimal("34520.55") and found.window_days == 90
    assert found.multiple == Decimal("1.15") and found.multiple_text == "1.2×"
    assert found.text == "$34.5K saved in 90 days vs $30K added ARR: 1.2×"
    assert found.basis == [
        "Annualized cost savings: on average $150K a year against $10K a year before the close, "
        "over 90 days: $34.5K."
    ]
    api = success_measurement(
        session=session, measurement_id=plan.id, now=NOW
    ).progress.roi_realized
    assert api.multiple == Decimal("1.15") and api.text == found.text
    assert plan_detail(session=session, measurement_id=plan.id, now=NOW).roi.window_days == 90
    # What is observed after `now` does not count yet.
    f.observe_days(
        session, cust, "roi_savings", TODAY + timedelta(days=1), TODAY + timedelta(3), 9e6
    )
    assert of(session, plan).text == found.text


def test_the_window_ends_with_the_newest_money_data(session, owner):
    cust, plan = savings_plan(session, owner, key="roi_window", baseline=0, arr=10_000)
    f.observe_days(session, cust, "roi_window", plan.started_on, TODAY - timedelta(days=59), 36_500)
    found = of(session, plan)
    assert found.window_days == 31 and found.realized == Decimal("3100.00")
    assert found.text == "$3.1K saved in 31 days vs $10K added ARR: 0.3×"


def test_a_monthly_unit_is_a_monthly_run_rate(session, owner):
    cust, plan = savings_plan(
        session, owner, key="roi_monthly", baseline=1_000, days_ago=29, unit="USD/month"
    )
    f.observe_days(session, cust, "roi_monthly", plan.started_on, TODAY, 4_000)
    # 3,000 a month beyond the baseline = 36,000 a year, over 30 days.
    assert of(session, plan).realized == Decimal("2958.90")


def test_no_number_without_a_money_metric(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=60),
        metrics=[f.auto("Seats", "roi_none_seats", 10, 50)],
    )
    f.observe_days(session, cust, "roi_none_seats", plan.started_on, TODAY, 40)
    found = of(session, plan)
    assert (found.realized, found.multiple, found.window_days) == (None, None, None)
    assert found.text == "No savings or revenue criterion in this plan, so no ROI multiple."
    api = success_measurement(
        session=session, measurement_id=plan.id, now=NOW
    ).progress.roi_realized
    assert api.multiple is None and "no ROI multiple" in api.text


def test_a_hand_entered_money_value_and_missing_data_give_no_number(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=60),
        metrics=[{**f.manual("Revenue from the module", 0, 50_000, 20_000), "unit": "USD"}],
    )
    found = of(session, plan)
    assert found.realized is None and found.multiple is None
    assert found.text == (
        "The money criteria are entered by hand, with no history to sum, so no ROI multiple."
    )
    assert found.basis == [
        "Revenue from the module: entered by hand, so there is no history to sum."
    ]
    _, fresh = savings_plan(session, owner, key="roi_fresh", baseline=0)
    assert of(session, fresh).basis == ["Annualized cost savings: no data since the close yet."]
    assert of(session, fresh).text == "No money data since the close yet, so no ROI multiple."


def test_no_multiple_when_the_upsell_added_no_arr(session, owner):
    cust, plan = savings_plan(session, owner, key="roi_free", baseline=0, arr=0)
    f.observe_days(session, cust, "roi_free", plan.started_on, TODAY, 73_000)
    found = of(session, plan)
    assert found.realized == Decimal("18000.00") and found.multiple is None
    assert found.text == "$18K saved in 90 days; the upsell added no ARR, so there is no multiple."


def test_savings_below_the_baseline_are_said_so(session, owner):
    cust, plan = savings_plan(session, owner, key="roi_down", baseline=50_000)
    f.observe_days(session, cust, "roi_down", plan.started_on, TODAY, 13_500)
    found = of(session, plan)
    assert found.realized == Decimal("-9000.00") and found.multiple == Decimal("-0.30")
    assert found.text == "$9K below the baseline in 90 days vs $30K added ARR: -0.3×"
    assert found.basis[0].endswith("over 90 days: $9K below the baseline.")


def test_a_small_multiple_keeps_two_decimals(session, owner):
    cust, plan = savings_plan(session, owner, key="roi_small", baseline=0, arr=100_000)
    f.observe_days(session, cust, "roi_small", plan.started_on, TODAY, 12_166.67)
    found = of(session, plan)
    assert found.realized == Decimal("3000.00") and found.multiple_text == "0.03×"
    assert found.text.endswith("vs $100K added ARR: 0.03×")
