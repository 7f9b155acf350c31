"""Read models of the Upsell progress page: scoping, detail contents, expected curves."""

from datetime import timedelta

import pytest

from core.base import Role
from core.errors import NotFound
from core.upsell.progress import update_progress
from core.upsell.reviews import record_review
from core.upsell.views import criteria_changes, list_plans, plan_detail
from tests.core.upsell.factories_tracking import NOW, auto, csm, customer, manual, observe, plan

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
    observe(session, cust, "active_users", START - timedelta(days=45), NOW.date(), lambda i: i)
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
    import uuid

    with pytest.raises(NotFound):
        plan_detail(session=session, measurement_id=uuid.uuid4())


def test_criteria_changes_from_an_edited_table(session):
    _, row = _plan(session, csm(session))
    metrics = plan_detail(session=session, measurement_id=row.id).metrics
    rows = [
        {"name": "Active users", "direction": "higher_is_better", "target": 60.0, "baseline": 10},
        {
            "name": "NPS",
            "metric_key": None,
            "unit": "points",
            "direction": "higher_is_better",
            "target": 40,
            "baseline": None,
        },
    ]
    changes = criteria_changes(metrics, rows)
    assert {c["action"]: c["name"] for c in changes} == {
        "remove": "Hours saved",
        "update": "Active users",
        "add": "NPS",
    }
    added = next(c for c in changes if c["action"] == "add")
    assert added["measurement"] == "manual" and added["unit"] == "points"
    unchanged = [
        {"name": m.name, "direction": m.direction.value, "target": m.target, "baseline": m.baseline}
        for m in metrics
    ]
    assert criteria_changes(metrics, unchanged) == []
