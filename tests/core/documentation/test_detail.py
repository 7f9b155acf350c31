"""One win's detail: the stored record, evidence, the before/after series and the follow-up."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.base import Consent, Direction
from core.documentation.announce import notify_held
from core.documentation.detail import LEAD_DAYS, achievement_detail, stored_facts
from core.documentation.service import document_pending
from core.errors import NotFound
from core.goals.detection import detect
from core.goals.models import Achievement, GoalType
from core.records import render
from core.records.facts import gather
from core.records.models import SuccessRecord
from tests import factories as f

RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]
START = date(2026, 11, 1)


def _win(session, values=RISING, name="Acme <Health> & Co"):
    cust = f.customer(
        session,
        owner=f.csm(session),
        name=name,
        industry="healthcare",
        consent=Consent.FULL_PUBLIC,
        health=72,
        use_case="Support automation",
        customer_since=date(2023, 2, 1),
    )
    f.contact(session, cust, "Pat Doe", email="pat@acme.example")
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name="Grow weekly active users",
        start=START,
    )
    f.observe(session, cust, "weekly_active_users", [40] * 60 + values)
    created = detect(session=session, now=f.NOW)
    document_pending(session=session, now=f.NOW)
    return created[0], goal


def test_documented_win_shows_its_record_evidence_series_and_follow_up(session):
    achievement_id, goal = _win(session)
    d = achievement_detail(session=session, achievement_id=achievement_id)
    stored = session.scalar(
        select(SuccessRecord).where(SuccessRecord.achievement_id == achievement_id)
    )
    assert d.record.documented and d.record.markdown == stored.markdown
    assert d.record.title == "Acme <Health> & Co: Grow weekly active users"
    assert "&lt;Health&gt; &amp; Co" in d.record.html and "<Health>" not in d.record.html
    assert ("Target", "55 users") in d.record.result_rows
    assert [h for h, _ in d.record.sections][:2] == [
        "Contributing factors",
        "In the customer's words",
    ]
    assert (d.baseline, d.target, d.achieved) == (Decimal(45), Decimal(55), Decimal(58))
    assert d.start_date == START and d.unit == "users" and d.measure == "value"
    assert d.series[0].day >= START - timedelta(days=LEAD_DAYS)
    assert d.series[-1].value == 58 and len(d.series) == 77
    assert len(d.observations) == 14
    assert [o.qualifying for o in d.observations[:4]] == [True, True, True, False]
    channels = {x.channel: x.status for x in d.deliveries}
    assert channels == {"slack_message": "pending", "google_doc": "pending"}
    assert d.draft is not None and d.draft.status == "pending"
    assert d.draft.to_addresses == ["pat@acme.example"]
    assert d.marketing_score is not None and d.marketing_reasons
    assert d.flags == []


def test_stored_facts_render_the_record_as_it_was_written(session):
    achievement_id, _ = _win(session)
    stored = session.scalar(
        select(SuccessRecord).where(SuccessRecord.achievement_id == achievement_id)
    )
    facts = stored_facts(stored.sections)
    assert render.markdown(facts) == stored.markdown
    assert facts == gather(session=session, achievement_id=achievement_id)


def test_held_win_reads_as_it_will_be_written(session):
    achievement_id, _ = _win(session, values=[*RISING[:-3], 50, 900, 50])
    notify_held(session=session, achievement_ids=[achievement_id])
    d = achievement_detail(session=session, achievement_id=achievement_id)
    assert d.status == "held_for_confirmation" and not d.record.documented
    assert d.record.markdown.startswith(r"# Acme \<Health\> & Co\: Grow weekly active users")
    assert [x.channel for x in d.deliveries] == ["slack_dm"]
    assert d.draft is None and d.marketing_score is None


def test_roi_series_is_measured_like_the_target(session):
    cust = f.customer(session)
    f.metric(session, "cost_savings_usd", Direction.HIGHER, "USD").is_money = True
    f.goal(
        session,
        cust,
        type=GoalType.ROI,
        metric_key="cost_savings_usd",
        target=2,
        cost=Decimal(50000),
        start=START,
        unit="×",
    )
    f.observe(session, cust, "cost_savings_usd", [90000, 101000, 102000, 104000])
    [achievement_id] = detect(session=session, now=f.NOW)
    d = achievement_detail(session=session, achievement_id=achievement_id)
    assert d.measure == "value ÷ cost" and d.unit == "× cost"
    assert [round(p.value, 2) for p in d.series] == [
        Decimal("1.80"),
        Decimal("2.02"),
        Decimal("2.04"),
        Decimal("2.08"),
    ]


def test_milestone_win_has_no_series(session):
    cust = f.customer(session)
    goal = f.goal(session, cust, type=GoalType.SUCCESS_PLAN, name="Go live")
    f.success_plan(session, cust, goal, ["done", "done"])
    [achievement_id] = detect(session=session, now=f.NOW)
    d = achievement_detail(session=session, achievement_id=achievement_id)
    assert d.series == [] and d.observations == [] and d.evidence["milestones"] == 2


def test_unknown_achievement_is_not_found(session):
    with pytest.raises(NotFound):
        achievement_detail(session=session, achievement_id=uuid.uuid4())
    assert session.scalar(select(Achievement)) is None
