"""Reads of plans: the page's list and detail, the API's UpsellSuccessMeasurement, one loader."""

import uuid
from datetime import timedelta

import pytest

from core.base import Role
from core.errors import NotFound
from core.upsell.progress import update_progress
from core.upsell.queries import list_plans, load_plan, plan_detail, success_measurement, upsell_for
from core.upsell.reviews import record_review
from tests.factories import NOW, auto, csm, customer, manual, observe_days, plan

START = NOW.date() - timedelta(days=40)


def _plan(session, owner, **kwargs):
    cust = customer(session, owner=owner)
    metrics = [auto("Active users", "active_users", 10, 50), manual("Hours saved", 0, 20)]
    row = plan(session, cust, started_on=START, metrics=metrics, **kwargs)
    return cust, row


def test_csm_sees_only_their_customers_plans_leader_sees_all(session):
    mine, theirs = csm(session), csm(session, name="Other Person")
    _, a = _plan(session, mine)
    _, b = _plan(session, theirs)
    ids = {r.id for r in list_plans(session=session, viewer_id=mine.id, viewer_role=Role.CSM)}
    assert a.id in ids and b.id not in ids
    everyone = list_plans(session=session, viewer_id=mine.id, viewer_role=Role.LEADER)
    assert {a.id, b.id} <= {r.id for r in everyone}
    row = next(r for r in everyone if r.id == a.id)
    assert row.products == ["Analytics Pro"] and row.next_day == 30 and row.overdue == 0
    assert row.days_since_close >= 40


def test_status_filter(session):
    owner = csm(session)
    _, row = _plan(session, owner)
    update_progress(session=session, now=NOW, measurement_ids=[row.id])
    status = session.get(type(row), row.id).progress_status
    found = list_plans(session=session, viewer_id=owner.id, viewer_role=Role.CSM, status="active")
    assert [r.id for r in found] == [row.id]
    if status is not None:
        again = list_plans(
            session=session, viewer_id=owner.id, viewer_role=Role.CSM, status=status.value
        )
        assert [r.id for r in again] == [row.id]


def test_detail_has_series_curve_checkpoints_and_reviews(session):
    owner = csm(session)
    cust, row = _plan(session, owner)
    observe_days(session, cust, "active_users", START - timedelta(days=45), NOW.date(), lambda i: i)
    update_progress(session=session, now=NOW, measurement_ids=[row.id])
    record_review(
        session=session,
        measurement_id=row.id,
        assessment="on_track",
        findings="Good <b>start",
        actor=owner,
        checkpoint_day=30,
    )
    detail = plan_detail(session=session, measurement_id=row.id)
    users, hours = detail.metrics
    assert users.series[0].day == START - timedelta(days=30)  # 30 days before close, not 45
    assert users.series[-1].day == NOW.date() and hours.series == []
    assert users.expected_curve[0].value == 10 and users.expected_curve[-1].value == 50
    assert users.expected_curve[-1].day == START + timedelta(days=90)
    assert [c.day for c in detail.checkpoints] == [30, 60, 90]
    assert detail.checkpoints[0].status == "reviewed"
    assert detail.reviews[0].findings == "Good <b>start" and detail.reviews[0].checkpoint_day == 30
    assert detail.version == row.version and detail.outcome is None


def test_expected_curve_follows_the_plans_horizon(session):
    _, row = _plan(session, csm(session), days=(14, 45))
    users = plan_detail(session=session, measurement_id=row.id).metrics[0]
    assert users.expected_curve[-1].day == START + timedelta(days=45)
    halfway = next(p for p in users.expected_curve if p.day == START + timedelta(days=22))
    assert halfway.value == pytest.approx(10 + 40 * 22 / 45, abs=0.01)


def test_unknown_plan_is_not_found(session):
    for read in (plan_detail, success_measurement, load_plan):
        with pytest.raises(NotFound):
            read(session=session, measurement_id=uuid.uuid4())


def test_api_and_page_shapes_come_from_the_same_plan(session):
    owner = csm(session)
    cust, row = _plan(session, owner)
    update_progress(session=session, now=NOW, measurement_ids=[row.id])
    for day, findings in ((30, "First"), (None, "Second")):
        record_review(
            session=session,
            measurement_id=row.id,
            assessment="on_track",
            findings=findings,
            actor=owner,
            checkpoint_day=day,
        )
    api = success_measurement(session=session, measurement_id=row.id)
    page = plan_detail(session=session, measurement_id=row.id)
    assert api.id == page.id and api.customer_id == page.customer_id == cust.id
    assert [m.name for m in api.success_criteria.metrics] == [m.name for m in page.metrics]
    assert api.success_criteria.checkpoint_days == [c.day for c in page.checkpoints]
    assert api.progress.current_status == page.progress_status
    # The API lists reviews oldest first with the reviewer's email, the page newest first by name.
    assert [r.findings for r in api.reviews] == [r.findings for r in reversed(page.reviews)]
    assert {r.reviewed_by for r in api.reviews} == {owner.email}
    assert {r.reviewer_name for r in page.reviews} == {owner.name}
    assert api.upsell_details.products == ["ANALYTICS"]


def test_upsell_is_found_by_uuid_or_opportunity_id(session):
    _, row = _plan(session, csm(session))
    upsell = load_plan(session=session, measurement_id=row.id).upsell
    assert upsell_for(session=session, ref=str(upsell.id)) is upsell
    assert upsell_for(session=session, ref=upsell.opportunity_id) is upsell
    with pytest.raises(NotFound):
        upsell_for(session=session, ref="006NOPE")
