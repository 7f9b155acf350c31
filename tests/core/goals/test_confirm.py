"""A person confirming a win: the value must be one the goal can have reached."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.base import Direction
from core.documentation.service import confirm_win
from core.errors import Conflict, Invalid
from core.goals.detection import detect
from core.goals.models import Achievement, AchievementStatus, GoalStatus, GoalType
from core.goals.service import confirm_achievement
from core.records.models import SuccessRecord
from tests import factories as f

NOTE = "Confirmed with the customer on the QBR call"
NOISY = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51]


def _confirm(session, goal, csm, value=None):
    return confirm_achievement(
        session=session, goal_id=goal.id, actor=csm, note=NOTE, achieved_value=value
    )


def test_negative_custom_value_is_refused(session):
    csm = f.csm(session)
    cust = f.customer(session, owner=csm)
    plain = f.goal(session, cust, type=GoalType.CUSTOM, name="Exec sign-off")
    with pytest.raises(Invalid, match=r"^achievedValue: this goal has no target"):
        _confirm(session, plain, csm, Decimal(-5))
    counted = f.goal(
        session, cust, type=GoalType.CUSTOM, name="Trained users", target=40, unit="users"
    )
    with pytest.raises(Invalid, match=r"^achievedValue: -5 cannot be negative for users\.$"):
        _confirm(session, counted, csm, Decimal(-5))
    assert session.scalar(select(Achievement)) is None


def test_a_custom_goal_without_a_number_is_a_confirmed_milestone(session):
    csm = f.csm(session)
    goal = f.goal(session, f.customer(session, owner=csm), type=GoalType.CUSTOM, name="SSO live")
    win = confirm_win(session=session, goal_id=goal.id, actor=csm, note=NOTE)
    assert win.status == AchievementStatus.VERIFIED and win.achieved_value is None
    assert win.rule == "milestone confirmed by a CSM"
    record = session.scalar(select(SuccessRecord).where(SuccessRecord.achievement_id == win.id))
    assert "| Achieved | Milestone confirmed |" in record.markdown


def test_a_metric_goal_needs_a_value_on_the_achieved_side(session):
    csm = f.csm(session)
    cust = f.customer(session, owner=csm)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55, baseline=40)
    with pytest.raises(Invalid, match=r"^achievedValue: give the value the customer reached"):
        _confirm(session, goal, csm)
    with pytest.raises(
        Invalid,
        match=r"^achievedValue: 50 users does not reach the target; a higher-is-better goal "
        r"needs at least 55 users\.$",
    ):
        _confirm(session, goal, csm, Decimal(50))
    win = _confirm(session, goal, csm, Decimal(60))
    assert win.achieved_value == 60 and win.baseline_value == 40
    assert win.improvement == Decimal("0.5")


def test_lower_is_better_values_mirror(session):
    csm = f.csm(session)
    cust = f.customer(session, owner=csm)
    f.metric(session, "resolution_hours", Direction.LOWER, "hours")
    goal = f.goal(
        session,
        cust,
        metric_key="resolution_hours",
        target=4,
        baseline=8,
        direction=Direction.LOWER,
    )
    with pytest.raises(Invalid, match="a lower-is-better goal needs at most 4 hours"):
        _confirm(session, goal, csm, Decimal(5))
    with pytest.raises(Invalid, match="cannot be negative for hours"):
        _confirm(session, goal, csm, Decimal(-1))  # "meets" the target, but is impossible
    win = _confirm(session, goal, csm, Decimal(2))
    assert win.improvement == Decimal("0.75")


def test_signed_scores_may_be_negative(session):
    csm = f.csm(session)
    f.metric(session, "nps", Direction.HIGHER, "score")
    goal = f.goal(
        session, f.customer(session, owner=csm), metric_key="nps", target=-20, baseline=-40
    )
    win = _confirm(session, goal, csm, Decimal(-15))
    assert win.achieved_value == -15 and win.improvement == Decimal("0.625")


def test_a_goal_met_at_start_cannot_be_confirmed_as_a_win(session):
    csm = f.csm(session)
    cust = f.customer(session, owner=csm)
    f.metric(session, "csat", Direction.HIGHER, "score")
    goal = f.goal(session, cust, metric_key="csat", target=4.8, start=date(2026, 11, 10))
    f.observe(session, cust, "csat", [4.91, 4.9, 4.92, 4.95, 4.9])
    detect(session=session, now=f.NOW)
    session.refresh(goal)
    assert goal.status == GoalStatus.MET_AT_START
    with pytest.raises(Conflict, match="already met its target when it started"):
        _confirm(session, goal, csm, Decimal("4.95"))
    custom = f.goal(
        session, cust, type=GoalType.CUSTOM, name="Adoption", target=80, baseline=85, unit="%"
    )
    with pytest.raises(Conflict, match="already met its target when it started"):
        _confirm(session, custom, csm, Decimal(90))


def test_confirming_a_held_win_keeps_its_value_unless_a_better_one_is_given(session):
    csm = f.csm(session)
    cust = f.customer(session, owner=csm)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(session, cust, metric_key="weekly_active_users", target=55)
    f.observe(session, cust, "weekly_active_users", [*NOISY, 50, 400, 50])
    detect(session=session, now=f.NOW)
    held = session.scalar(select(Achievement).where(Achievement.goal_id == goal.id))
    assert held.status == AchievementStatus.HELD
    with pytest.raises(Invalid, match="does not reach the target"):
        _confirm(session, goal, csm, Decimal(40))
    win = _confirm(session, goal, csm)
    assert win.id == held.id and win.status == AchievementStatus.VERIFIED
    assert win.achieved_value == 400 and win.baseline_value == 48  # the first value observed
