"""The Wins dashboard: breakdowns, time to achieve, PRD success metrics, filters, confirmations."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.accounts.models import User
from core.base import Direction, Role
from core.customers.models import Contact
from core.documentation.service import confirm_pending, document_pending
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.errors import Forbidden, Invalid
from core.goals.detection import detect
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    Confidence,
    GoalStatus,
    GoalType,
)
from core.marketing.models import CandidateType, FlagStatus, MarketingFlag
from core.records.models import SuccessRecord
from core.reporting.wins import pending_confirmations, wins_overview
from tests.core.goals import factories as f

RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]
NOV = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}


def _person(session, email, name, role=Role.CSM):
    user = User(email=email, name=name, role=role)
    session.add(user)
    session.flush()
    return user


def _detected_wins(session):
    """Two metric wins and one milestone win, produced by detection and documentation."""
    casey = _person(session, "casey@outcomes.example", "Casey Rivera")
    dana = _person(session, "dana@outcomes.example", "Dana Lee")
    acme = f.customer(session, owner=casey, name="Acme Health")
    beta = f.customer(session, owner=dana, name="Beta Bank", industry="banking")
    session.add(Contact(customer_id=acme.id, name="Pat Doe", email="pat@acme.example"))
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    f.goal(
        session,
        acme,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name="Grow weekly active users",
        start=date(2026, 9, 1),
    )
    f.observe(session, acme, "weekly_active_users", RISING)
    f.goal(
        session,
        beta,
        metric_key="weekly_active_users",
        target=55,
        baseline=40,
        name="Grow Beta users",
        start=date(2026, 6, 1),
    )
    f.observe(session, beta, "weekly_active_users", RISING)
    plan_goal = f.goal(
        session, beta, type=GoalType.SUCCESS_PLAN, name="Go live", start=date(2026, 10, 1)
    )
    f.plan_with_milestones(session, beta, plan_goal, ["done", "done"])
    assert len(detect(session=session, now=f.NOW)) == 3
    assert document_pending(session=session, now=f.NOW) == {"documented": 3}
    return casey, dana


def test_detected_wins_fill_breakdowns_feed_and_recognition(session):
    casey, dana = _detected_wins(session)
    o = wins_overview(session=session, **NOV)
    assert o.wins == 3 and o.bucket == "week"
    assert {(s.label, s.wins) for s in o.by_type} == {("kpi", 2), ("success_plan", 1)}
    assert [(s.label, s.wins) for s in o.by_industry] == [("banking", 2), ("healthcare", 1)]
    assert [(c.label, c.wins) for c in o.by_csm] == [("Dana Lee", 2), ("Casey Rivera", 1)]
    assert [c.csm_id for c in o.recognition] == [dana.id, casey.id]
    assert sum(p.wins for p in o.over_time) == 3
    assert o.over_time[0].start == date(2026, 10, 26)  # the Monday before Sunday, Nov 1
    assert len(o.recent) == 3 and all(w.documented for w in o.recent)
    assert [w.achieved_at for w in o.recent] == sorted(
        (w.achieved_at for w in o.recent), reverse=True
    )
    assert {w.slack_status for w in o.recent} == {"pending"}
    results = {w.goal_name: w.result for w in o.recent}
    assert results["Go live"] == "all 2 milestones complete"
    assert (
        "raised weekly active users from 45 users to 58 users"
        in results["Grow weekly active users"]
    )
    capture = {m.key: m for m in o.metrics}["capture"]
    assert (capture.numerator, capture.denominator, capture.met) == (3, 3, True)


def _hand_win(session, cust, *, start, achieved, hours_to_write=None, value=None, **goal):
    row = f.goal(session, cust, start=start, status=GoalStatus.ACHIEVED, **goal)
    win = Achievement(
        goal_id=row.id,
        customer_id=cust.id,
        status=AchievementStatus.VERIFIED,
        method=AchievementMethod.AUTOMATIC,
        achieved_at=achieved,
        detected_at=achieved,
        achieved_value=value,
        confidence=Confidence.HIGH,
        rule="hand-made",
    )
    session.add(win)
    session.flush()
    if hours_to_write is not None:
        session.add(
            SuccessRecord(
                achievement_id=win.id,
                title="t",
                summary="s",
                markdown="m",
                written_at=achieved + timedelta(hours=hours_to_write),
            )
        )
    return win


def _email(session, win, status):
    session.add(
        Draft(
            kind=DraftKind.CUSTOMER_EMAIL,
            status=status,
            customer_id=win.customer_id,
            related_type="achievement",
            related_id=win.id,
            to_addresses=["a@b.example"],
            subject="Congrats",
            body="Well done",
            original_subject="Congrats",
            original_body="x",
        )
    )


def test_success_metrics_from_hand_set_rows(session):
    cust = f.customer(session, owner=f.csm(session))
    at = f.NOW - timedelta(days=3)
    # 5 wins: 4 documented (one 30 h late), 4 emails sent, 2 used in marketing.
    wins = [
        _hand_win(
            session, cust, start=date(2026, 10, 1), achieved=at, hours_to_write=h, name=f"Win {i}"
        )
        for i, h in enumerate([0.5, 1, 2, 30, None])
    ]
    for win, status in zip(wins, ["sent", "sent", "sent", "sent", "pending"], strict=True):
        _email(session, win, DraftStatus(status))
    for win, status in [
        (wins[0], FlagStatus.USED),
        (wins[1], FlagStatus.USED),
        (wins[2], FlagStatus.CONTACTED),
    ]:
        session.add(
            MarketingFlag(
                achievement_id=win.id,
                customer_id=cust.id,
                status=status,
                candidate_type=CandidateType.CASE_STUDY,
            )
        )
    twice = MarketingFlag(
        achievement_id=wins[0].id,
        customer_id=cust.id,
        status=FlagStatus.USED,
        candidate_type=CandidateType.TESTIMONIAL,
    )
    session.add(twice)
    session.flush()
    o = wins_overview(session=session, **NOV)
    got = {m.key: (m.numerator, m.denominator, m.met) for m in o.metrics}
    assert got == {
        "capture": (4, 5, False),  # 80% is not above 90%
        "communication": (4, 5, True),  # 80% > 70%
        "utilization": (2, 5, True),  # a win used twice still counts once: 40% > 20%
        "documented_24h": (3, 4, False),  # 75% of records within 24 h
    }
    assert o.median_doc_hours == pytest.approx(1.5)
    assert {m.key: m.rate for m in o.metrics}["capture"] == pytest.approx(0.8)


def test_no_wins_means_no_rates_and_empty_breakdowns(session):
    o = wins_overview(session=session)
    assert o.wins == 0 and o.recent == [] and o.over_time == [] and o.days_bins == []
    assert all(m.rate is None and m.met is None for m in o.metrics)


def test_time_to_achieve_and_money_value(session):
    cust = f.customer(session, owner=f.csm(session))
    f.metric(session, "savings_usd", Direction.HIGHER, "USD").is_money = True
    f.metric(session, "resolution_hours")
    at = f.NOW - timedelta(days=1)
    _hand_win(
        session,
        cust,
        start=(at - timedelta(days=10)).date(),
        achieved=at,
        metric_key="savings_usd",
        target=1000,
        value=Decimal(1500),
        name="Save",
    )
    _hand_win(
        session,
        cust,
        start=(at - timedelta(days=45)).date(),
        achieved=at,
        type=GoalType.ROI,
        metric_key="savings_usd",
        target=2,
        cost=Decimal(10000),
        unit="×",
        value=Decimal("2.5"),
        name="ROI",
    )
    _hand_win(
        session,
        cust,
        start=(at - timedelta(days=400)).date(),
        achieved=at,
        metric_key="resolution_hours",
        target=4,
        value=Decimal(3),
        name="Hours",
    )
    o = wins_overview(session=session, **NOV)
    assert (o.money_wins, o.value) == (2, Decimal(26500))  # ROI: 2.5 × cost of 10,000
    assert o.median_days == 45
    assert [(b.label, b.wins) for b in o.days_bins if b.wins] == [
        ("0–29", 1),
        ("30–59", 1),
        ("360+", 1),
    ]
    assert len(o.days_bins) == 13


def test_filters_and_csm_scope(session):
    casey, dana = _detected_wins(session)
    assert wins_overview(session=session, industry="BANKING", **NOV).wins == 2
    assert wins_overview(session=session, goal_type=GoalType.SUCCESS_PLAN, **NOV).wins == 1
    assert wins_overview(session=session, goal_type="kpi", industry="banking", **NOV).wins == 1
    mine = wins_overview(session=session, csm_id=casey.id, **NOV)
    assert mine.wins == 1 and [w.customer_name for w in mine.recent] == ["Acme Health"]
    assert wins_overview(session=session, date_from=date(2026, 12, 1)).wins == 0
    year = wins_overview(session=session, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    assert year.bucket == "month" and len(year.over_time) == 12 and year.wins == 3


def test_pending_lists_held_wins_first_then_custom_goals(session):
    casey, dana = _person(session, "casey@x.example", "Casey"), _person(session, "d@x.example", "D")
    acme = f.customer(session, owner=casey)
    beta = f.customer(session, owner=dana, name="Beta Bank")
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    held = f.goal(session, acme, metric_key="weekly_active_users", target=55, name="Spiky")
    f.observe(session, acme, "weekly_active_users", [*RISING[:-3], 50, 900])
    detect(session=session, now=f.NOW)
    later = f.goal(
        session, acme, type=GoalType.CUSTOM, name="Exec sponsor", due_date=date(2026, 12, 20)
    )
    sooner = f.goal(
        session, beta, type=GoalType.CUSTOM, name="Playbook", due_date=date(2026, 12, 1)
    )
    f.goal(session, beta, type=GoalType.CUSTOM, name="Dropped", status=GoalStatus.CANCELLED)
    items = pending_confirmations(session=session)
    assert [i.goal_id for i in items] == [held.id, sooner.id, later.id]
    assert items[0].kind == "held" and "standard deviations" in items[0].reason
    assert items[0].suggested_value == 900 and items[1].kind == "custom"
    assert [i.goal_id for i in pending_confirmations(session=session, csm_id=casey.id)] == [
        held.id,
        later.id,
    ]


def test_confirming_a_custom_goal_documents_it(session):
    casey = f.csm(session)
    goal = f.goal(session, f.customer(session, owner=casey), type=GoalType.CUSTOM, name="SSO")
    with pytest.raises(Invalid, match="needs a note"):
        confirm_pending(session=session, goal_id=goal.id, actor_email=casey.email, note="  ")
    achievement_id = confirm_pending(
        session=session,
        goal_id=goal.id,
        actor_email=casey.email,
        note="Saw it live",
        achieved_value=Decimal(12),
    )
    win = session.get(Achievement, achievement_id)
    assert win.status == AchievementStatus.VERIFIED and win.achieved_value == 12
    record = session.scalar(select(SuccessRecord).where(SuccessRecord.achievement_id == win.id))
    assert record is not None
    assert pending_confirmations(session=session) == []


def test_only_confirmers_may_confirm(session):
    goal = f.goal(session, f.customer(session), type=GoalType.CUSTOM)
    _person(session, "mo@x.example", "Mo", Role.MARKETING)
    with pytest.raises(Forbidden, match="marketing user and may not confirm wins"):
        confirm_pending(session=session, goal_id=goal.id, actor_email="mo@x.example", note="ok")
