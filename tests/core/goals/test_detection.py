from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, func, select, text, update

from core.audit.watermarks import read_watermark
from core.base import Direction
from core.customers.models import Observation
from core.goals.detection import INGEST_GRACE, WATERMARK, detect
from core.goals.models import (
    Achievement,
    AchievementStatus,
    Goal,
    GoalStatus,
    GoalType,
    Milestone,
    MilestoneStatus,
    SuccessPlan,
)
from tests import factories as f

NOISY = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51]


def _achievement(session, goal):
    return session.scalar(select(Achievement).where(Achievement.goal_id == goal.id))


def test_kpi_goal_sustained_is_achieved_once(session):
    cust = f.customer(session, owner=f.csm(session))
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55, baseline=45)
    f.observe(session, cust, "weekly_active_users", [*NOISY, 56, 57, 58])

    created = detect(session=session, now=f.NOW)
    assert len(created) == 1
    achievement = _achievement(session, goal)
    assert achievement.status == AchievementStatus.VERIFIED
    assert achievement.achieved_value == 58 and achievement.target_value == 55
    assert achievement.baseline_value == 45
    assert len(achievement.evidence["observations"]) == 14
    session.refresh(goal)
    assert goal.status == GoalStatus.ACHIEVED

    assert detect(session=session, now=f.NOW + timedelta(minutes=10)) == []
    count = session.scalar(select(func.count()).select_from(Achievement))
    assert count == 1


def test_lower_is_better_kpi(session):
    cust = f.customer(session)
    f.metric(session, "resolution_hours", Direction.LOWER, "hours")
    goal = f.goal(session, cust, metric_key="resolution_hours", target=4, direction=Direction.LOWER)
    f.observe(
        session, cust, "resolution_hours", [6.0, 5.8, 6.1, 5.9, 6.0, 5.2, 4.8, 4.1, 3.9, 3.8, 3.7]
    )
    assert len(detect(session=session, now=f.NOW)) == 1
    assert _achievement(session, goal).achieved_value == Decimal("3.7")


def test_stale_and_unsustained_goals_wait(session):
    cust = f.customer(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    stale = f.goal(session, cust, metric_key="weekly_active_users", target=55, name="stale")
    f.observe(
        session, cust, "weekly_active_users", [*NOISY, 60, 61, 62], end=f.NOW - timedelta(days=6)
    )
    other = f.customer(session, name="Beta Retail")
    f.goal(session, other, metric_key="weekly_active_users", target=55)
    f.observe(session, other, "weekly_active_users", [*NOISY, 56, 50, 57])
    assert detect(session=session, now=f.NOW) == []
    session.refresh(stale)
    assert stale.status == GoalStatus.ACTIVE and stale.evaluated_at is not None


def test_spike_is_held_and_goal_awaits_confirmation(session):
    cust = f.customer(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55)
    f.observe(session, cust, "weekly_active_users", [*NOISY, 50, 900, 50])
    detect(session=session, now=f.NOW)
    assert _achievement(session, goal).status == AchievementStatus.HELD
    session.refresh(goal)
    assert goal.status == GoalStatus.PENDING_CONFIRMATION


def test_roi_goal_compares_value_over_cost(session):
    cust = f.customer(session)
    f.metric(session, "cost_savings_usd", Direction.HIGHER, "USD")
    goal = f.goal(
        session,
        cust,
        type=GoalType.ROI,
        metric_key="cost_savings_usd",
        target=2,
        cost=50000,
        unit="×",
    )
    savings = [60000 + 2000 * i for i in range(20)]  # 1.2x → 1.96x cost ...
    f.observe(session, cust, "cost_savings_usd", [*savings, 101000, 102000, 104000])
    assert len(detect(session=session, now=f.NOW)) == 1
    achievement = _achievement(session, goal)
    assert achievement.achieved_value == Decimal("2.08")
    assert achievement.evidence["measure"] == "value ÷ cost"


def test_milestone_goals(session):
    cust = f.customer(session)
    done = f.goal(session, cust, type=GoalType.SUCCESS_PLAN, name="Go live")
    f.success_plan(session, cust, done, ["done", "done", "skipped"])
    open_goal = f.goal(session, cust, type=GoalType.ONBOARDING, name="Onboard")
    f.success_plan(session, cust, open_goal, ["done", "open"])
    assert len(detect(session=session, now=f.NOW)) == 1
    achievement = _achievement(session, done)
    assert achievement.rule == "all 3 milestones complete"
    assert _achievement(session, open_goal) is None


def test_only_goals_with_new_data_are_read_again(session):
    cust = f.customer(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55)
    real_now = datetime.now(UTC)
    f.observe(session, cust, "weekly_active_users", NOISY, end=real_now - timedelta(hours=6))
    detect(session=session, now=real_now + timedelta(hours=1))
    session.refresh(goal)
    first = goal.evaluated_at
    detect(session=session, now=real_now + timedelta(hours=2))
    session.refresh(goal)
    assert goal.evaluated_at == first  # nothing new: not read again


def _aged(session, goal, **old):
    """Give the goal and its series times from before the passes (not new to them)."""
    session.execute(
        update(Goal).where(Goal.id == goal.id).values(updated_at=f.NOW - timedelta(days=30), **old)
    )
    session.execute(
        update(Observation)
        .where(Observation.customer_id == goal.customer_id)
        .values(ingested_at=f.NOW - timedelta(days=30))
    )


def test_reading_a_goal_is_no_change_to_it(session):
    """Stamping evaluated_at leaves updated_at alone, else every pass would read it again."""
    cust = f.customer(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55)
    f.observe(session, cust, "weekly_active_users", NOISY)
    _aged(session, goal)
    detect(session=session, now=f.NOW)
    stamped = session.execute(select(Goal.evaluated_at, Goal.updated_at)).one()
    assert stamped == (f.NOW - INGEST_GRACE, f.NOW - timedelta(days=30))

    detect(session=session, now=f.NOW + timedelta(minutes=10))
    assert session.scalar(select(Goal.evaluated_at)) == f.NOW - INGEST_GRACE  # not read


def test_what_arrived_or_changed_since_the_last_pass_is_read(session):
    cust = f.customer(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55, baseline=45)
    f.observe(session, cust, "weekly_active_users", [*NOISY, 56, 57])
    _aged(session, goal)
    detect(session=session, now=f.NOW)
    assert session.scalar(select(func.count()).select_from(Achievement)) == 0

    later = f.NOW + timedelta(hours=1)
    f.observe(session, cust, "weekly_active_users", [58], end=later, ingested_at=later)
    assert len(detect(session=session, now=later + timedelta(hours=1))) == 1  # the new point

    other = f.goal(session, cust, metric_key="weekly_active_users", target=55, name="Again")
    _aged(session, other, status=GoalStatus.CANCELLED, evaluated_at=f.NOW - INGEST_GRACE)
    detect(session=session, now=later + timedelta(hours=2))
    session.execute(update(Goal).where(Goal.id == other.id).values(status=GoalStatus.ACTIVE))
    # back in play without new data: changed since the last pass, so read again
    assert len(detect(session=session, now=later + timedelta(hours=3))) == 1


def test_a_step_ticked_after_a_pass_is_picked_up(session):
    cust = f.customer(session)
    goal = f.goal(session, cust, type=GoalType.SUCCESS_PLAN, name="Go live")
    plan = f.success_plan(session, cust, goal, ["done", "open"])
    old = f.NOW - timedelta(days=30)
    for table in (Goal, SuccessPlan, Milestone):
        session.execute(update(table).values(updated_at=old))
    assert detect(session=session, now=f.NOW) == []
    assert detect(session=session, now=f.NOW + timedelta(minutes=5)) == []  # nothing new

    ticked = f.NOW + timedelta(hours=1)  # a CSM ticks the last step, in a later transaction
    session.execute(
        update(Milestone)
        .where(Milestone.plan_id == plan.id, Milestone.status == MilestoneStatus.OPEN)
        .values(status=MilestoneStatus.DONE, completed_at=ticked, updated_at=ticked)
    )
    assert len(detect(session=session, now=ticked + timedelta(minutes=10))) == 1
    assert _achievement(session, goal).achieved_at == ticked


def test_a_pass_with_nothing_new_is_one_statement(session):
    """The watermark, what changed since and what failed are one round trip when idle."""
    cust = f.customer(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55)
    f.observe(session, cust, "weekly_active_users", NOISY)
    _aged(session, goal)
    detect(session=session, now=f.NOW)
    sent = []
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", lambda *args: sent.append(args[2]))

    detect(session=session, now=f.NOW + timedelta(minutes=10))

    assert len(sent) == 1
    assert session.scalar(select(Goal.evaluated_at)) == f.NOW - INGEST_GRACE  # not read


def test_the_watermark_waits_for_a_transaction_still_open_and_follows_the_database_clock(
    session, engine
):
    with engine.connect() as other:  # an ingest that began earlier and has not committed yet
        other.execute(text("SELECT 1"))
        began = other.scalar(text("SELECT now()"))
        detect(session=session, now=datetime.now(UTC) + timedelta(hours=1))  # a clock ahead
        other.rollback()

    stored = read_watermark(session, WATERMARK)
    own = session.scalar(text("SELECT now()"))
    assert stored == min(own, began - INGEST_GRACE)
