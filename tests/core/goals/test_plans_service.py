"""Success plans set up in the app: steps in order, ticked off with who and when, and a win once
every step is done."""

from datetime import date

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Role
from core.errors import Conflict, Forbidden, Invalid
from core.goals.detection import detect
from core.goals.models import (
    Achievement,
    AchievementStatus,
    Goal,
    GoalStatus,
    GoalType,
    Milestone,
    MilestoneStatus,
    PlanStatus,
)
from core.goals.page_queries import goals_and_plans
from core.goals.page_schemas import MilestoneEntry, PlanEntry
from core.goals.plans import create_plan, set_milestone_done, update_plan
from tests import factories as f


def steps(*names: str) -> list[MilestoneEntry]:
    return [MilestoneEntry(name=name) for name in names]


@pytest.fixture
def setup(session):
    owner = f.csm(session)
    return f.actor(owner), f.customer(session, owner=owner)


def plan_view(session, customer_id):
    [plan] = goals_and_plans(session=session, customer_id=customer_id).plans
    return plan


def win(session, goal_id):
    return session.scalar(select(Achievement).where(Achievement.goal_id == goal_id))


def actions(session) -> list[str]:
    """The audited actions, sorted (one transaction: they share a time)."""
    return sorted(session.scalars(select(AuditEntry.action)))


def test_a_new_plan_has_its_steps_in_order_and_a_milestone_goal(session, setup):
    actor, cust = setup
    entry = PlanEntry(
        name="Q1 rollout",
        owner_id=actor.id,
        milestones=[
            MilestoneEntry(name="Kickoff", due_date=date(2027, 1, 10)),
            MilestoneEntry(name="Go live"),
        ],
    )
    plan = create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    assert (plan.name, plan.status, plan.owner_id) == ("Q1 rollout", PlanStatus.ACTIVE, actor.id)
    goal = session.scalar(select(Goal).where(Goal.plan_id == plan.id))
    assert (goal.type, goal.name, goal.status) == (
        GoalType.SUCCESS_PLAN,
        "Complete Q1 rollout",
        GoalStatus.ACTIVE,
    )
    view = plan_view(session, cust.id)
    assert [(m.name, m.position, m.due_date) for m in view.milestones] == [
        ("Kickoff", 0, date(2027, 1, 10)),
        ("Go live", 1, None),
    ]
    assert view.goal_id == goal.id and view.owner_name == "Casey Rivera" and not view.won
    assert actions(session) == ["success_plan.created"]


def test_a_plan_needs_a_step_and_an_active_cs_owner(session, setup):
    actor, cust = setup
    with pytest.raises(ValueError, match="milestones"):
        PlanEntry(name="Empty", milestones=[])
    seller = f.user(session, Role.SALES)
    entry = PlanEntry(name="Plan", owner_id=seller.id, milestones=steps("One"))
    with pytest.raises(Invalid, match="^ownerId: "):
        create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    with pytest.raises(Forbidden):
        create_plan(
            session=session,
            customer_id=cust.id,
            entry=PlanEntry(name="Plan", milestones=steps("One")),
            actor=f.actor(seller),
        )


def test_ticking_records_who_and_when_and_undo_clears_it(session, setup):
    actor, cust = setup
    entry = PlanEntry(name="Launch", milestones=steps("Kickoff", "Training"))
    create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    kickoff = plan_view(session, cust.id).milestones[0]

    set_milestone_done(session=session, milestone_id=kickoff.id, done=True, actor=actor)
    ticked = plan_view(session, cust.id).milestones[0]
    assert ticked.status == MilestoneStatus.DONE and ticked.completed_by == "Casey Rivera"
    assert ticked.completed_at is not None
    set_milestone_done(session=session, milestone_id=kickoff.id, done=True, actor=actor)
    assert plan_view(session, cust.id).milestones[0].completed_at == ticked.completed_at

    set_milestone_done(session=session, milestone_id=kickoff.id, done=False, actor=actor)
    undone = session.get(Milestone, kickoff.id)
    assert (undone.status, undone.completed_at, undone.completed_by_id) == (
        MilestoneStatus.OPEN,
        None,
        None,
    )
    assert actions(session) == ["milestone.done", "milestone.reopened", "success_plan.created"]


def test_detection_records_a_win_once_the_last_step_is_ticked(session, setup):
    actor, cust = setup
    entry = PlanEntry(name="Launch", milestones=steps("Kickoff", "Training"))
    plan = create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    view = plan_view(session, cust.id)
    first, last = view.milestones

    set_milestone_done(session=session, milestone_id=first.id, done=True, actor=actor)
    assert detect(session=session) == []
    assert win(session, view.goal_id) is None

    set_milestone_done(session=session, milestone_id=last.id, done=True, actor=actor)
    assert len(detect(session=session)) == 1
    achieved = win(session, view.goal_id)
    assert achieved.status == AchievementStatus.VERIFIED
    assert achieved.evidence["rule"] == "all 2 milestones complete"
    assert achieved.achieved_at == session.get(Milestone, last.id).completed_at
    assert session.get(Goal, view.goal_id).status == GoalStatus.ACHIEVED
    assert plan_view(session, cust.id).won and plan.id == view.id

    with pytest.raises(Conflict, match="counted towards the win"):
        set_milestone_done(session=session, milestone_id=last.id, done=False, actor=actor)
    assert session.get(Milestone, last.id).status == MilestoneStatus.DONE


def test_an_edit_renames_reorders_adds_and_removes_steps(session, setup):
    actor, cust = setup
    entry = PlanEntry(name="Launch", milestones=steps("Kickoff", "Training", "Dropped"))
    create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    view = plan_view(session, cust.id)
    kickoff, training, _ = view.milestones
    set_milestone_done(session=session, milestone_id=kickoff.id, done=True, actor=actor)

    edit = PlanEntry(
        name="Launch 2.0",
        owner_id=actor.id,
        status=PlanStatus.ACTIVE,
        milestones=[
            MilestoneEntry(id=training.id, name="Admin training", due_date=date(2027, 2, 1)),
            MilestoneEntry(id=kickoff.id, name="Kickoff"),
            MilestoneEntry(name="Go live"),
        ],
    )
    update_plan(
        session=session,
        plan_id=view.id,
        entry=edit,
        expected_updated_at=view.updated_at,
        actor=actor,
    )
    after = plan_view(session, cust.id)
    assert after.name == "Launch 2.0" and after.owner_id == actor.id
    assert [(m.name, m.status) for m in after.milestones] == [
        ("Admin training", MilestoneStatus.OPEN),
        ("Kickoff", MilestoneStatus.DONE),  # kept its tick
        ("Go live", MilestoneStatus.OPEN),
    ]
    goal = session.get(Goal, view.goal_id)
    assert goal.name == "Complete Launch 2.0"
    linked = session.scalars(select(Milestone.goal_id).where(Milestone.plan_id == view.id))
    assert set(linked) == {goal.id}  # the new step counts towards the plan's win
    [audited] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "success_plan.updated")
    )
    assert audited.changes["milestonesAdded"] == ["Go live"]
    assert audited.changes["milestonesRemoved"] == ["Dropped"]

    with pytest.raises(Conflict, match="Someone else changed the plan"):
        update_plan(
            session=session,
            plan_id=view.id,
            entry=edit.model_copy(update={"name": "Stale"}),
            expected_updated_at=view.updated_at,
            actor=actor,
        )
    assert plan_view(session, cust.id).name == "Launch 2.0"


def test_an_archived_plan_brings_no_win(session, setup):
    actor, cust = setup
    entry = PlanEntry(name="Pilot", milestones=steps("Only step"))
    create_plan(session=session, customer_id=cust.id, entry=entry, actor=actor)
    view = plan_view(session, cust.id)
    archived = entry.model_copy(
        update={
            "status": PlanStatus.ARCHIVED,
            "milestones": [MilestoneEntry(id=view.milestones[0].id, name="Only step")],
        }
    )
    update_plan(
        session=session,
        plan_id=view.id,
        entry=archived,
        expected_updated_at=view.updated_at,
        actor=actor,
    )
    assert session.get(Goal, view.goal_id).status == GoalStatus.CANCELLED
    step = view.milestones[0].id
    set_milestone_done(session=session, milestone_id=step, done=True, actor=actor)
    assert detect(session=session) == []

    again = plan_view(session, cust.id)
    update_plan(
        session=session,
        plan_id=view.id,
        entry=archived.model_copy(update={"status": PlanStatus.ACTIVE}),
        expected_updated_at=again.updated_at,
        actor=actor,
    )
    assert session.get(Goal, view.goal_id).status == GoalStatus.ACTIVE
    assert len(detect(session=session)) == 1
