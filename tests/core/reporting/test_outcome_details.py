"""Outcomes by the period they were decided in, and the plans behind the outcome charts."""

from datetime import UTC, date, datetime

from core.reporting.outcome_periods import outcome_periods
from core.reporting.outcome_plans import NO_PRODUCT, outcome_plans
from core.reporting.team import windows
from core.upsell.models import MeasurementStatus, Outcome
from tests import factories as f
from tests.core.upsell.test_analysis import decided

TODAY = date(2026, 11, 30)


def _decided_on(session, plan, day: date, *, confirmed: bool = True) -> None:
    row = session.query(Outcome).filter_by(measurement_id=plan.id).one()
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    row.created_at = moment
    row.decided_at = moment if confirmed else None
    session.flush()


def test_windows_are_the_last_days_and_the_days_before():
    current, previous = windows(TODAY, 90)
    assert (current.first, current.last) == (date(2026, 9, 2), TODAY)
    assert (previous.first, previous.last) == (date(2026, 6, 4), date(2026, 9, 1))


def test_a_plan_counts_in_the_period_its_outcome_was_decided(session):
    cust = f.customer(session)
    _decided_on(session, decided(session, cust, "success"), date(2026, 11, 1))
    failed = decided(session, cust, "failed", met=(False, True), confirmed=False)
    _decided_on(session, failed, date(2026, 10, 1), confirmed=False)  # proposed then
    _decided_on(session, decided(session, cust, "success"), date(2026, 7, 1))
    _decided_on(session, decided(session, cust, "success"), date(2026, 1, 1))  # too old
    undecided = f.plan(session, cust, started_on=date(2026, 10, 1))
    assert undecided.status == MeasurementStatus.ACTIVE

    found = outcome_periods(session=session, today=TODAY)

    now, before = found.current, found.previous
    assert (now.decided, now.success, now.metrics, now.met) == (2, 1, 4, 3)
    assert now.success_rate == 0.5 and now.value_realization == 0.75
    assert (before.decided, before.success, before.value_realization) == (1, 1, 1.0)
    support = outcome_periods(session=session, today=TODAY, product="SUPPORT")
    assert support.current.decided == 0 and support.previous.decided == 0


def test_plans_behind_the_charts_name_their_products(session):
    cust = f.customer(session, name="Acme")
    decided(session, cust, "failed", met=(False, False), product=("SUPPORT", "Premium Support"))
    decided(session, cust, "success")
    f.plan(session, cust, started_on=date(2026, 10, 1), status=MeasurementStatus.CANCELLED)
    bare = f.upsell(session, cust, plan_status=MeasurementStatus.ACTIVE)  # no product line

    found = outcome_plans(session=session)

    assert found.total == 3  # cancelled plans are left out, as in the report
    names = {p.product: p.product_name for p in found.plans}
    assert names == {"SUPPORT": "Premium Support", "ANALYTICS": "Analytics Pro", "none": NO_PRODUCT}
    assert found.products["SUPPORT"] == "Premium Support"
    failed = next(p for p in found.plans if p.outcome == "failed")
    assert (failed.customer, failed.met, failed.metrics) == ("Acme", 0, 2)
    assert next(p for p in found.plans if p.product == "none").outcome is None
    only = outcome_plans(session=session, product="SUPPORT")
    assert [p.product for p in only.plans] == ["SUPPORT"] and only.total == 1
    assert bare.id
