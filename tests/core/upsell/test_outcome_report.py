"""The outcome report: stored by each tracking pass, read "as of" then; filters computed live."""

from datetime import timedelta

from sqlalchemy import event, func, select

from core.upsell import outcome_report
from core.upsell.models import OutcomeSnapshot
from jobs.upsell_tracking import upsell_tracking
from tests import factories as f
from tests.core.upsell.test_analysis import decided


def test_the_first_read_stores_the_report_and_later_reads_use_it(session):
    cust = f.customer(session)
    decided(session, cust, "success", signal="on_track", predicted=80)
    first = outcome_report.report(session=session)
    assert first.analysis.overall.decided == 1
    assert session.scalar(select(func.count()).select_from(OutcomeSnapshot)) == 1
    decided(session, cust, "failed", met=(False, False), predicted=20)
    again = outcome_report.report(session=session)
    assert again.computed_at == first.computed_at
    assert again.analysis.overall.decided == 1  # as of then: the next pass brings the new one
    assert again.analysis.computed_at == first.computed_at
    filtered = outcome_report.report(session=session, segment="mid_market")
    assert filtered.analysis.overall.decided == 2 and filtered.computed_at > first.computed_at
    only = outcome_report.analysis(session=session, segment="mid_market")
    assert only.overall.decided == 2


def test_each_tracking_pass_stores_the_report_of_every_plan(session):
    cust = f.customer(session)
    decided(session, cust, "success", signal="on_track", predicted=80)
    counts = upsell_tracking(session=session, now=f.NOW)
    assert counts["outcome_report_changed"] == 1
    stored = outcome_report.stored(session=session)
    assert stored.computed_at == f.NOW and stored.analysis.overall.plans == 1
    later = f.NOW + timedelta(minutes=10)
    assert upsell_tracking(session=session, now=later)["outcome_report_changed"] == 0
    assert outcome_report.stored(session=session).computed_at == later
    decided(session, cust, "partial", met=(True, False), predicted=50)
    assert upsell_tracking(session=session, now=later)["outcome_report_changed"] == 1
    assert outcome_report.report(session=session).analysis.overall.plans == 2


def test_the_active_plans_listed_are_the_least_likely_to_succeed(session, monkeypatch):
    monkeypatch.setattr(outcome_report, "CHANCES", 2)
    cust = f.customer(session)
    for chance in (90, 10, 50):
        plan = f.plan(session, cust, started_on=f.NOW.date())
        plan.predicted_success = chance
    session.flush()
    found = outcome_report.report(session=session)
    assert [float(p.predicted_success) for p in found.predictions] == [10, 50]
    assert found.active_plans == 3


def test_a_report_with_filters_reads_the_plans_once(session, connection):
    cust = f.customer(session)
    decided(session, cust, "success", signal="on_track", predicted=80)
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        outcome_report.analysis(session=session, product="ANALYTICS")
    finally:
        event.remove(connection, "before_cursor_execute", count)
    plan_reads = [s for s in sent if "FROM upsell_measurements m" in s and "plans AS" in s]
    assert len(plan_reads) == 1, sent
