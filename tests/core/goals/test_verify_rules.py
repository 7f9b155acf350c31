"""The verification rules end to end: data arrives day by day, detection runs after each day."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from components.format import label
from core.base import Direction
from core.documentation.announce import notify_held
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import Achievement, AchievementStatus, Confidence, GoalStatus
from core.outbox.models import Delivery
from core.records.models import SuccessRecord
from core.repository.models import RepositoryEntry
from tests import factories as f

FIRST = datetime(2026, 10, 20, 6, tzinfo=UTC)  # the first day of the data that arrives daily
DAY = timedelta(days=1)
LOW_LEVEL = [150, 148, 153, 151, 147, 152, 149, 150, 154, 146, 151, 150, 148, 152]
HIGH_LEVEL = [300 + (-1) ** i * (i % 7) for i in range(30)]
NOISY = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51]


def _achievement(session, goal):
    return session.scalar(select(Achievement).where(Achievement.goal_id == goal.id))


def _history(session, cust, key, values):
    """Values that arrived before FIRST (one per day up to the day before)."""
    before = FIRST - timedelta(days=1)
    f.observe(session, cust, key, values, end=before, ingested_at=before)


def _daily(session, cust, key, values, *, first=FIRST):
    """Let one value arrive per day, running detection an hour later; the ids created per day."""
    created = []
    for i, value in enumerate(values):
        at = first + timedelta(days=i)
        f.observe(session, cust, key, [value], end=at, ingested_at=at)
        created.append(detect(session=session, now=at + timedelta(hours=1)))
    return created


def _wau_goal(session, target, **extra):
    cust = f.customer(session, owner=f.csm(session))
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=target,
        name="Reach the weekly active users target",
        **extra,
    )
    return cust, goal


def test_level_shift_is_celebrated(session):
    cust, goal = _wau_goal(session, 200)
    _history(session, cust, "weekly_active_users", LOW_LEVEL)
    created = _daily(session, cust, "weekly_active_users", HIGH_LEVEL)
    # never held on the day of the jump: it waits, then holds for three days and is verified
    assert [len(c) for c in created] == [0, 0, 1] + [0] * 27
    win = _achievement(session, goal)
    assert win.status == AchievementStatus.VERIFIED
    assert win.achieved_at == FIRST  # the day it moved, not the day it was noticed
    assert win.evidence["pattern"] == "level_shift"
    assert win.baseline_value == 150 and win.achieved_value == 302  # first value after start
    assert win.improvement == Decimal("1.0133")
    session.refresh(goal)
    assert goal.status == GoalStatus.ACHIEVED

    assert document_pending(session=session, now=FIRST + timedelta(days=3)) == {"documented": 1}
    record = session.scalar(select(SuccessRecord).where(SuccessRecord.achievement_id == win.id))
    assert "from 150 users to 302 users (target 200 users)" in record.summary
    assert "a 101% improvement in weekly active users" in record.summary
    assert "| Improvement | 101% better than the baseline |" in record.markdown
    slack = session.scalars(select(Delivery.channel).where(Delivery.related_id == win.id)).all()
    assert "slack_message" in slack


def test_level_shift_read_at_once_is_celebrated_with_high_confidence(session):
    cust, goal = _wau_goal(session, 200)
    f.observe(session, cust, "weekly_active_users", [*LOW_LEVEL, *HIGH_LEVEL])
    assert len(detect(session=session, now=f.NOW)) == 1
    win = _achievement(session, goal)
    assert win.status == AchievementStatus.VERIFIED and win.confidence == Confidence.HIGH
    assert "usual variation" not in win.rule


def test_lower_is_better_level_shift_is_celebrated(session):
    cust = f.customer(session)
    f.metric(session, "ticket_resolution_hours", Direction.LOWER, "hours")
    goal = f.goal(
        session,
        cust,
        metric_key="ticket_resolution_hours",
        target=4,
        baseline=9,
        direction=Direction.LOWER,
    )
    falling = [9.1, 8.8, 9.2, 9.0, 8.9, 9.3, 9.0, 8.7, 9.1, 9.0, 8.8, 9.2, 9.1, 9.0]
    low = [2.0 + (i % 3) / 10 for i in range(30)]
    f.observe(session, cust, "ticket_resolution_hours", [*falling, *low])
    assert len(detect(session=session, now=f.NOW)) == 1
    win = _achievement(session, goal)
    assert win.status == AchievementStatus.VERIFIED and win.confidence == Confidence.HIGH
    assert win.baseline_value == 9 and win.achieved_value == Decimal("2.2")
    assert win.improvement == Decimal("0.7556")  # 9 h → 2.2 h is 76% better
    document_pending(session=session, now=f.NOW)
    record = session.scalar(select(SuccessRecord).where(SuccessRecord.achievement_id == win.id))
    assert "cut ticket resolution hours from 9 hours to 2.2 hours (target 4 hours)" in (
        record.summary
    )


def test_lone_spike_is_held_and_a_later_level_shift_verifies_it(session):
    cust, goal = _wau_goal(session, 200)
    _history(session, cust, "weekly_active_users", LOW_LEVEL)
    created = _daily(session, cust, "weekly_active_users", [151, 310, 149, 150])
    assert [len(c) for c in created] == [0, 0, 1, 0]  # judged once it fell back
    held = _achievement(session, goal)
    assert held.status == AchievementStatus.HELD and held.achieved_value == 310
    assert "lone spike" in held.rule
    session.refresh(goal)
    assert goal.status == GoalStatus.PENDING_CONFIRMATION
    assert notify_held(session=session, achievement_ids=created[2]) == 1
    assert document_pending(session=session, now=FIRST + timedelta(days=3)) == {"documented": 0}

    later = _daily(session, cust, "weekly_active_users", [290, 295, 300], first=FIRST + 4 * DAY)
    assert later[-1] == [held.id]  # the same achievement, now proven by the data
    session.refresh(held)
    assert held.status == AchievementStatus.VERIFIED
    assert held.achieved_at == FIRST + 4 * DAY and held.achieved_value == 300
    assert "lone spike" in held.evidence["heldEarlier"]
    session.refresh(goal)
    assert goal.status == GoalStatus.ACHIEVED
    assert session.scalar(select(func.count()).select_from(Achievement)) == 1


def test_flapping_is_counted_once(session):
    cust, goal = _wau_goal(session, 55)
    _history(session, cust, "weekly_active_users", NOISY)
    flapping = [56, 50, 57, 58, 49, 56, 51, 56, 57, 58, 50, 60, 61, 62, 50, 57, 58, 59]
    created = _daily(session, cust, "weekly_active_users", flapping)
    assert [i for i, c in enumerate(created) if c] == [9]  # once, when a crossing held 3 days
    win = _achievement(session, goal)
    assert win.achieved_at == FIRST + 7 * DAY
    assert win.evidence["pattern"] == "flapping_then_held" and win.evidence["crossings"] == 4
    assert win.confidence != Confidence.HIGH
    assert session.scalar(select(func.count()).select_from(Achievement)) == 1


def _csat_goal(session, start=date(2026, 11, 10), **extra):
    cust = f.customer(session, owner=f.csm(session))
    f.metric(session, "csat", Direction.HIGHER, "score")
    goal = f.goal(session, cust, metric_key="csat", target=4.8, start=start, **extra)
    return cust, goal


def test_met_at_start_is_not_a_win(session):
    cust, goal = _csat_goal(session)
    # 4.91 on the day before the goal started; it stays above the target of 4.8
    values = [4.88, 4.9, 4.93, 4.9, 4.91, 4.9, 4.92, 4.95, 4.9, 4.93, 4.91, 4.94, 4.9, 4.92]
    f.observe(session, cust, "csat", values, end=datetime(2026, 11, 18, 6, tzinfo=UTC))
    assert detect(session=session, now=f.NOW) == []
    session.refresh(goal)
    assert goal.status == GoalStatus.MET_AT_START
    assert label(goal.status) == "Met at start"  # how the customer's goals table shows it
    assert _achievement(session, goal) is None
    assert document_pending(session=session, now=f.NOW) == {"documented": 0}
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert session.scalar(select(func.count()).select_from(RepositoryEntry)) == 0


def test_met_at_start_by_its_baseline_is_not_a_win(session):
    cust, goal = _csat_goal(session, baseline=4.91)
    f.observe(session, cust, "csat", [4.75, 4.9, 4.92, 4.95, 4.9])  # one low day is no dip
    assert detect(session=session, now=f.NOW) == []
    session.refresh(goal)
    assert goal.status == GoalStatus.MET_AT_START


def test_met_at_start_that_falls_back_and_crosses_again_is_a_real_win(session):
    cust, goal = _csat_goal(session, start=date(2026, 10, 15))
    start = [4.91, 4.9, 4.92, 4.95]
    f.observe(session, cust, "csat", start, end=FIRST - DAY, ingested_at=FIRST - DAY)
    assert detect(session=session, now=FIRST) == []
    session.refresh(goal)
    assert goal.status == GoalStatus.MET_AT_START

    created = _daily(session, cust, "csat", [4.7, 4.6, 4.5, 4.55, 4.85, 4.9, 4.88])
    assert [len(c) for c in created] == [0] * 6 + [1]
    win = _achievement(session, goal)
    assert win.status == AchievementStatus.VERIFIED
    assert win.baseline_value == Decimal("4.575")  # the level it fell back to, not 4.91
    assert win.evidence["baselineSource"] == "the level it fell back to"
    assert win.improvement > 0
    session.refresh(goal)
    assert goal.status == GoalStatus.ACHIEVED


def test_a_sustained_dip_makes_a_met_at_start_goal_active_again(session):
    cust, goal = _csat_goal(session, start=date(2026, 10, 15))
    f.observe(session, cust, "csat", [4.91, 4.9, 4.92], end=FIRST - DAY, ingested_at=FIRST - DAY)
    detect(session=session, now=FIRST)
    _daily(session, cust, "csat", [4.7, 4.6])
    session.refresh(goal)
    assert goal.status == GoalStatus.MET_AT_START  # two short days are not yet a fall back
    _daily(session, cust, "csat", [4.5], first=FIRST + 2 * DAY)
    session.refresh(goal)
    assert goal.status == GoalStatus.ACTIVE


def test_a_new_target_decides_met_at_start_again(session):
    cust, goal = _csat_goal(session)
    f.observe(session, cust, "csat", [4.91, 4.9, 4.92, 4.95, 4.9])
    detect(session=session, now=f.NOW)
    session.refresh(goal)
    assert goal.status == GoalStatus.MET_AT_START
    goal.target, goal.evaluated_at = Decimal("4.97"), None  # what an upsert of the target does
    session.flush()
    detect(session=session, now=f.NOW)
    session.refresh(goal)
    assert goal.status == GoalStatus.ACTIVE and _achievement(session, goal) is None
