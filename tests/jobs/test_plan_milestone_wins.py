"""The goal_detection job turns a plan set up in the app into a documented win once its last
milestone is ticked off."""

from sqlalchemy import func, select

from core.goals.models import Achievement, AchievementStatus
from core.goals.page_queries import goals_and_plans
from core.goals.page_schemas import MilestoneEntry, PlanEntry
from core.goals.plans import create_plan, set_milestone_done
from core.records.models import SuccessRecord
from jobs.goals import goal_detection
from tests import factories as f


def test_ticking_the_last_milestone_makes_the_next_run_document_a_win(session):
    owner = f.csm(session)
    actor, cust = f.actor(owner), f.customer(session, owner=owner, name="Acme Health")
    entry = PlanEntry(
        name="Analytics rollout",
        milestones=[MilestoneEntry(name="Kickoff"), MilestoneEntry(name="Dashboards live")],
    )
    create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    [plan] = goals_and_plans(session=session, customer_id=cust.id).plans
    first, last = plan.milestones

    set_milestone_done(session=session, milestone_id=first.id, done=True, actor=actor)
    assert goal_detection(session=session)["detected"] == 0

    set_milestone_done(session=session, milestone_id=last.id, done=True, actor=actor)
    assert goal_detection(session=session) == {"detected": 1, "held": 0, "documented": 1}
    win = session.scalar(select(Achievement).where(Achievement.goal_id == plan.goal_id))
    assert win.status == AchievementStatus.VERIFIED
    records = select(func.count()).where(SuccessRecord.achievement_id == win.id)
    assert session.scalar(records) == 1
    assert goal_detection(session=session)["detected"] == 0  # once
