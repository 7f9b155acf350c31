"""Outcomes report: plans within 48 h of the close, and tracking active by the first review."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.upsell.analysis import outcomes_analysis
from core.upsell.models import MeasurementStatus, Upsell
from core.upsell.progress import record_manual_values
from tests import factories as f

WAU = "weekly_active_users"


@pytest.fixture
def cust(session):
    return f.customer(session)


def _kpi(session, key, **kwargs):
    return next(k for k in outcomes_analysis(session=session, **kwargs).kpis if k.key == key)


def _unplanned(session, cust, close: date) -> Upsell:
    return f.upsell(
        session, cust, close=close, arr=5000, name="Seats expansion", opportunity_id=f"OPP-U{close}"
    )


def _planned_after(session, cust, close: date, hours: float):
    plan = f.plan(session, cust, started_on=close, metrics=[f.manual("m", 0, 10)])
    plan.created_at = datetime.combine(close, time(), UTC) + timedelta(hours=hours)
    session.flush()
    return plan


def test_plans_within_48h_count_from_the_close_with_their_distribution(session, cust):
    close = date(2026, 9, 1)
    _planned_after(session, cust, close, 30)  # the next morning: within 48 h
    middle = _planned_after(session, cust, close, 100)
    slowest = _planned_after(session, cust, close, 1000)
    forgotten = _unplanned(session, cust, close)  # closed months ago and still no plan
    _unplanned(session, cust, datetime.now(UTC).date())  # closed today: it still has time
    kpi = _kpi(session, "within48h")
    assert (kpi.numerator, kpi.denominator, kpi.value, kpi.met) == (1, 4, 0.25, False)
    assert kpi.detail == (
        "1 of 4 upsells planned within 48 hours of the close; 1 still without a plan"
    )
    assert [(b.label, b.count) for b in kpi.bins] == [
        ("≤ 48 h", 1),
        ("2–7 days", 1),
        ("1–4 weeks", 0),
        ("over 4 weeks", 1),
        ("not planned yet", 1),
    ]
    assert kpi.p50_hours == pytest.approx(100)
    assert [r.kind for r in kpi.rows] == ["unplanned", "late", "late"]
    assert (kpi.rows[0].upsell_id, kpi.rows[0].since, kpi.rows_total) == (forgotten.id, close, 3)
    assert [r.measurement_id for r in kpi.rows[1:]] == [slowest.id, middle.id]
    assert [r.hours for r in kpi.rows[1:]] == pytest.approx([1000, 100])


def test_plans_within_48h_when_every_plan_came_in_time(session, cust):
    _planned_after(session, cust, date(2026, 9, 1), 47)
    kpi = _kpi(session, "within48h")
    assert (kpi.value, kpi.met, kpi.rows) == (1.0, True, [])


def _observe(session, cust, start: date, end: date, key=WAU):
    f.metric(session, key)
    f.observe_days(session, cust, key, start, end, 50)


def test_tracking_active_by_first_review(session, cust):
    csm = f.csm(session)
    start = date(2026, 10, 1)  # first checkpoint on day 30: Oct 31
    active = f.plan(session, cust, started_on=start, metrics=[f.auto("Users", WAU, 40, 60)])
    _observe(session, cust, date(2026, 10, 5), date(2026, 10, 20))
    other = f.customer(session)
    late = f.plan(
        session,
        other,
        started_on=start,
        metrics=[f.auto("Users", WAU, 40, 60), f.auto("Seats", "seats", 10, 20)],
    )
    _observe(session, other, date(2026, 10, 2), date(2026, 10, 3))
    _observe(session, other, date(2026, 11, 10), date(2026, 11, 15), key="seats")
    # A manual metric: a value recorded on day 4, then another after the first review.
    manual = f.plan(
        session,
        cust,
        started_on=date(2026, 11, 1),
        metrics=[f.manual("Hours saved", 0, 100)],
        days=(7, 30, 60),
    )
    for day in (5, 20):
        record_manual_values(
            session=session,
            measurement_id=manual.id,
            values={"Hours saved": 40},
            actor=csm,
            observed_at=datetime(2026, 11, day, 9, tzinfo=UTC),
        )
    f.plan(session, cust, started_on=date(2026, 11, 10), metrics=[])  # day 30 not reached yet
    gone = f.plan(session, cust, started_on=start, metrics=[], status=MeasurementStatus.CANCELLED)
    kpi = _kpi(session, "trackingActive", today=date(2026, 11, 25))
    assert (kpi.numerator, kpi.denominator, kpi.met) == (2, 3, False)
    assert kpi.value == pytest.approx(0.6667)
    assert kpi.detail == (
        "2 of 3 plans past their first checkpoint had data for every metric by that day"
    )
    [row] = kpi.rows
    assert (row.kind, row.measurement_id, row.metrics) == ("untracked", late.id, ["Seats"])
    assert row.since == date(2026, 10, 31) and kpi.rows_total == 1
    assert {active.id, manual.id, gone.id}.isdisjoint({r.measurement_id for r in kpi.rows})
    # On its checkpoint day the verdict is not in yet; the day after, it is.
    early = _kpi(session, "trackingActive", today=date(2026, 10, 31))
    assert early.denominator == 0 and early.value is None and early.met is None
    assert _kpi(session, "trackingActive", today=date(2026, 11, 1)).denominator == 2


def test_a_plan_without_metrics_is_not_tracking(session, cust):
    f.plan(session, cust, started_on=date(2026, 9, 1), metrics=[])
    kpi = _kpi(session, "trackingActive", today=date(2026, 11, 25))
    assert (kpi.numerator, kpi.denominator, kpi.rows[0].metrics) == (0, 1, [])


def test_tracking_follows_the_report_filters(session, cust):
    f.plan(session, cust, started_on=date(2026, 9, 1), metrics=[], product=("SUPPORT", "Support"))
    assert _kpi(session, "trackingActive", today=date(2026, 11, 25)).denominator == 1
    only = _kpi(session, "trackingActive", today=date(2026, 11, 25), product="ANALYTICS")
    assert only.denominator == 0
