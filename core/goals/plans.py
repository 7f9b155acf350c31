"""A person setting up a customer's success plan in the app and ticking its milestones off.

A plan made in the app gets its **milestone goal** ("Complete <plan name>", type success plan):
every step belongs to it, so once the last step is done the `goal_detection` job records the win
(`core.goals.detection.MILESTONE_GOALS`), documented like any other. An edited plan's new steps
join the goal its steps already belong to (`page_queries.plan_goals`); a plan that has none (an
older or imported one) stays without a win. Archiving a plan cancels its milestone goal (no win
from a shelved plan); bringing the plan back makes the goal active again.

An edit names the plan's `updated_at` as it was read: when someone saved the plan in between, it
is refused with a Conflict. Ticking a step records who and when; undoing it is refused once the
goal's win was recorded with that step done. Every change is audited.
"""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.audit.service import record_audit
from core.base import Direction
from core.customers.models import Customer
from core.errors import Conflict, Invalid, NotFound
from core.goals.definition import settle
from core.goals.editing import STAFF, require_staff
from core.goals.models import (
    Achievement,
    AchievementStatus,
    Goal,
    GoalStatus,
    GoalType,
    Milestone,
    MilestoneStatus,
    PlanStatus,
    SuccessPlan,
)
from core.goals.page_queries import plan_goals
from core.goals.page_schemas import PlanEntry


def goal_name(plan_name: str) -> str:
    """Name the goal a plan's steps add up to."""
    return f"Complete {plan_name}"


def create_plan(
    *,
    session: Session,
    customer_id: uuid.UUID,
    entry: PlanEntry,
    actor: User | UserSummary,
    today: date | None = None,
) -> SuccessPlan:
    """Create the customer's plan, its milestone goal and its steps in order; audited."""
    require_staff(actor, "set up success plans")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.")
    _check_owner(session, entry.owner_id)
    start = today or datetime.now(UTC).date()
    plan = SuccessPlan(
        customer_id=customer.id,
        name=entry.name,
        status=entry.status,
        owner_id=entry.owner_id,
        start_date=start,
    )
    session.add(plan)
    session.flush()
    values = {
        "type": GoalType.SUCCESS_PLAN,
        "metric_key": None,
        "baseline": None,
        "target": None,
        "direction": Direction.HIGHER,
        "unit": None,
        "cost": None,
        "start_date": start,
        "due_date": None,
    }
    settle(session=session, values=values, milestones=len(entry.milestones))
    goal = Goal(
        customer_id=customer.id,
        plan_id=plan.id,
        name=goal_name(entry.name),
        owner_id=entry.owner_id or customer.owner_csm_id,
        status=_goal_status(entry.status),
        **values,
    )
    session.add(goal)
    session.flush()
    for position, step in enumerate(entry.milestones):
        session.add(
            Milestone(
                plan_id=plan.id,
                goal_id=goal.id,
                name=step.name,
                position=position,
                due_date=step.due_date,
                status=MilestoneStatus.OPEN,
            )
        )
    session.flush()
    _audit(
        session,
        actor,
        "success_plan.created",
        plan.id,
        {
            "name": plan.name,
            "status": plan.status,
            "milestones": [m.name for m in entry.milestones],
        },
    )
    return plan


def update_plan(
    *,
    session: Session,
    plan_id: uuid.UUID,
    entry: PlanEntry,
    expected_updated_at: datetime,
    actor: User | UserSummary,
) -> SuccessPlan:
    """Save a person's edit of a plan and its steps; Conflict when it changed since they read it.

    Steps keep their ids (and whether they are done); steps left out are removed, new ones join
    the plan's milestone goal.
    """
    require_staff(actor, "edit success plans")
    plan = session.get(SuccessPlan, plan_id, with_for_update=True, populate_existing=True)
    if plan is None:
        raise NotFound("This success plan no longer exists.")
    if plan.updated_at != expected_updated_at:
        raise Conflict(
            f"Someone else changed the plan “{plan.name}” since you opened it; nothing was "
            "saved. Its latest version is shown now: make your change again."
        )
    _check_owner(session, entry.owner_id)
    steps = {
        m.id: m for m in session.scalars(select(Milestone).where(Milestone.plan_id == plan.id))
    }
    if gone := [m for m in entry.milestones if m.id is not None and m.id not in steps]:
        raise Conflict(
            f"The milestone “{gone[0].name}” was removed from this plan meanwhile; nothing was "
            "saved. The plan's latest version is shown now: make your change again."
        )
    goal_id = plan_goals(session=session, plan_ids=[plan.id]).get(plan.id)
    changes: dict = {}
    for field in ("name", "status", "owner_id"):
        if getattr(plan, field) != getattr(entry, field):
            changes[field] = {"from": getattr(plan, field), "to": getattr(entry, field)}
    kept = {m.id for m in entry.milestones if m.id is not None}
    removed = [m for m in steps.values() if m.id not in kept]
    added, edited = [], []
    for position, step in enumerate(entry.milestones):
        if step.id is None:
            session.add(
                Milestone(
                    plan_id=plan.id,
                    goal_id=goal_id,
                    name=step.name,
                    position=position,
                    due_date=step.due_date,
                    status=MilestoneStatus.OPEN,
                )
            )
            added.append(step.name)
            continue
        row = steps[step.id]
        if (row.name, row.position, row.due_date) != (step.name, position, step.due_date):
            row.name, row.position, row.due_date = step.name, position, step.due_date
            edited.append(step.name)
    for row in removed:
        session.delete(row)
    if not (changes or added or edited or removed):
        return plan
    old_name = plan.name
    plan.name, plan.status, plan.owner_id = entry.name, entry.status, entry.owner_id
    # A token every save moves, also when only the steps changed: the next edit compares it.
    plan.updated_at = datetime.now(UTC)
    if goal_id is not None:
        _follow(session, goal_id, old_name, plan)
    session.flush()
    _audit(
        session,
        actor,
        "success_plan.updated",
        plan.id,
        {
            **changes,
            "milestonesAdded": added,
            "milestonesChanged": edited,
            "milestonesRemoved": [m.name for m in removed],
        },
    )
    return plan


def set_milestone_done(
    *,
    session: Session,
    milestone_id: uuid.UUID,
    done: bool,
    actor: User | UserSummary,
) -> Milestone:
    """Tick a step done (who and when are recorded) or undo that; audited.

    Ticking a done step, or undoing an open one, changes nothing. Undoing is refused once the
    step's goal has a verified win: the win was recorded with the step done.
    """
    require_staff(actor, "tick off milestones")
    step = session.get(Milestone, milestone_id, with_for_update=True, populate_existing=True)
    if step is None:
        raise NotFound("This milestone no longer exists; the plan's latest version is shown now.")
    if done == (step.status == MilestoneStatus.DONE):
        return step
    if not done and step.goal_id is not None:
        won = session.scalar(
            select(Achievement.achieved_at).where(
                Achievement.goal_id == step.goal_id,
                Achievement.status == AchievementStatus.VERIFIED,
            )
        )
        if won is not None:
            raise Conflict(
                f"“{step.name}” counted towards the win recorded on {won:%Y-%m-%d}, so it stays "
                "done."
            )
    before = step.status
    if done:
        step.status = MilestoneStatus.DONE
        step.completed_at = datetime.now(UTC)
        step.completed_by_id = actor.id
    else:
        step.status = MilestoneStatus.OPEN
        step.completed_at = None
        step.completed_by_id = None
    session.flush()
    _audit(
        session,
        actor,
        "milestone.done" if done else "milestone.reopened",
        step.id,
        {"plan": step.plan_id, "name": step.name, "status": {"from": before, "to": step.status}},
        entity_type="milestone",
    )
    return step


def _check_owner(session: Session, owner_id: uuid.UUID | None) -> None:
    if owner_id is None:
        return
    owner = session.get(User, owner_id)
    if owner is None or not owner.active or owner.role not in STAFF:
        raise Invalid("ownerId: choose an active CSM, CS leader or admin.")


def _goal_status(plan_status: PlanStatus) -> GoalStatus:
    return GoalStatus.CANCELLED if plan_status == PlanStatus.ARCHIVED else GoalStatus.ACTIVE


def _follow(session: Session, goal_id: uuid.UUID, old_name: str, plan: SuccessPlan) -> None:
    """Keep the plan's milestone goal in step: its derived name, cancelled while archived."""
    goal = session.get(Goal, goal_id)
    if goal is None or goal.plan_id != plan.id:
        return
    if goal.name == goal_name(old_name) and plan.name != old_name:
        goal.name = goal_name(plan.name)
    wanted = _goal_status(plan.status)
    if goal.status in (GoalStatus.ACTIVE, GoalStatus.CANCELLED) and goal.status != wanted:
        goal.status = wanted


def _audit(session, actor, action, entity_id, changes, entity_type="success_plan") -> None:
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
    )
