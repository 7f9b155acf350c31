"""Measurement frequency: defaults per kind, the window a current value averages, stale data."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.customers.models import MetricKind
from core.upsell import frequency
from core.upsell.models import Measurement, MeasurementFrequency
from core.upsell.progress import update_progress
from core.upsell.queries import plan_detail, success_measurement
from tests import factories as f
from tests.core.upsell.scenarios import metrics_of

NOW = f.NOW
TODAY = NOW.date()
F = MeasurementFrequency


@pytest.fixture
def owner(session):
    return f.csm(session)


def test_defaults_follow_the_metric_kind_and_are_stored(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=20),
        metrics=[
            f.auto("Users", "fq_users", 10, 20),
            f.auto("Savings", "fq_savings", 10, 20, kind=MetricKind.ROI),
            f.auto("CSAT", "fq_csat", 3, 4, kind=MetricKind.SATISFACTION),
            f.manual("Dashboards", 0, 3, 1),
        ],
    )
    update_progress(session=session, now=NOW)
    metrics = metrics_of(session, plan)
    assert {n: m.frequency for n, m in metrics.items()} == {
        "Users": F.WEEKLY,
        "Savings": F.MONTHLY,
        "CSAT": F.MONTHLY,
        "Dashboards": F.MONTHLY,
    }
    assert frequency.assign_defaults(session=session) == {"frequencies_set": 0}  # stored once


def test_a_chosen_frequency_is_kept(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=20),
        metrics=[f.auto("Runs", "fq_runs", 10, 20)],
    )
    metrics_of(session, plan)["Runs"].frequency = F.DAILY
    session.flush()
    update_progress(session=session, now=NOW)
    assert metrics_of(session, plan)["Runs"].frequency == F.DAILY


def test_each_frequency_averages_its_own_window(session, owner):
    cust = f.customer(session, owner=owner)
    start = TODAY - timedelta(days=60)
    plan = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[
            f.auto("Daily", "fq_daily", 0, 1000),
            f.auto("Weekly", "fq_weekly", 0, 1000),
            f.auto("Monthly", "fq_monthly", 0, 1000),
        ],
    )
    metrics = metrics_of(session, plan)
    for name, freq in (("Daily", F.DAILY), ("Weekly", F.WEEKLY), ("Monthly", F.MONTHLY)):
        metrics[name].frequency = freq
    session.flush()

    # The same history for each: 100 until 30 days ago, 200 for the 23 days after, 300 last week,
    # and 700 today.
    def history(i: int) -> float:
        day = start + timedelta(days=i)
        age = (TODAY - day).days
        return 700 if age == 0 else 300 if age < 7 else 200 if age < 30 else 100

    for key in ("fq_daily", "fq_weekly", "fq_monthly"):
        f.observe_days(session, cust, key, start, TODAY, history)
    update_progress(session=session, now=NOW)
    metrics = metrics_of(session, plan)
    assert metrics["Daily"].current == Decimal(700)
    assert metrics["Weekly"].current == Decimal("357.1429")  # (6·300 + 700) ÷ 7
    assert metrics["Monthly"].current == Decimal("236.6667")  # (23·200 + 6·300 + 700) ÷ 30
    assert metrics["Monthly"].progress == Decimal("0.2367")


def test_data_older_than_the_window_is_no_recent_data(session, owner):
    cust = f.customer(session, owner=owner)
    start = TODAY - timedelta(days=45)
    plan = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[
            f.auto("Users", "fq_old_users", 100, 200),
            f.auto("Savings", "fq_old_savings", 100, 200, kind=MetricKind.ROI),
        ],
    )
    # The feed stopped ten days ago: too old for a weekly metric, fine for a monthly one.
    for key in ("fq_old_users", "fq_old_savings"):
        f.observe_days(session, cust, key, start, TODAY - timedelta(days=10), 190)
    update_progress(session=session, now=NOW)
    users, savings = (metrics_of(session, plan)[n] for n in ("Users", "Savings"))
    assert users.current is None and users.progress is None
    assert users.current_at.date() == TODAY - timedelta(days=10)  # when data last came
    assert savings.current == Decimal(190) and savings.progress == Decimal("0.9")
    # The stale metric does not count: the plan is scored on the fresh one only.
    assert session.get(Measurement, plan.id).progress_status is not None

    api = {
        m.name: m
        for m in success_measurement(
            session=session, measurement_id=plan.id, now=NOW
        ).progress.metrics
    }
    assert api["Users"].no_recent_data and api["Users"].frequency == F.WEEKLY
    assert not api["Savings"].no_recent_data and api["Savings"].frequency == F.MONTHLY
    page = {
        m.name: m for m in plan_detail(session=session, measurement_id=plan.id, now=NOW).metrics
    }
    assert page["Users"].no_recent_data and not page["Savings"].no_recent_data


def test_a_stale_manual_value_is_kept_but_not_counted(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=80),
        metrics=[f.manual("Dashboards", 0, 4, 4)],
    )
    metric = metrics_of(session, plan)["Dashboards"]
    metric.current_at = NOW - timedelta(days=31)  # monthly: a month and a day is too old
    session.flush()
    update_progress(session=session, now=NOW)
    metric = metrics_of(session, plan)["Dashboards"]
    assert metric.current == Decimal(4)  # what a person entered stays
    assert metric.progress is None
    assert session.get(Measurement, plan.id).progress_status is None  # no recent data at all

    metric.current_at = NOW - timedelta(days=29)
    session.flush()
    update_progress(session=session, now=NOW)
    assert metrics_of(session, plan)["Dashboards"].progress == Decimal(1)


@pytest.mark.parametrize(
    ("age", "freq", "stale"),
    [
        (timedelta(hours=23), F.DAILY, False),
        (timedelta(days=1), F.DAILY, True),
        (timedelta(days=6, hours=23), F.WEEKLY, False),
        (timedelta(days=7), F.WEEKLY, True),
        (timedelta(days=29), F.MONTHLY, False),
        (timedelta(days=30), F.MONTHLY, True),
    ],
)
def test_staleness_is_the_window(age, freq, stale):
    assert frequency.is_stale(current_at=NOW - age, frequency=freq, now=NOW) is stale
    assert frequency.is_stale(current_at=None, frequency=freq, now=NOW) is False
