"""A person creating or editing a goal in the app, through the rules the API's upserts use.

Every goal meets `core.goals.definition.settle` (catalogue metric, type rules, the target beyond
the baseline in the goal's direction). An edit names the version it started from: when someone
else saved the goal in between (or detection recorded a win), it is refused with a Conflict and
nothing changes. A goal with an achievement (a verified win, or one held for a person's
confirmation) keeps what was achieved: only its name, description and due date may change, so
the success record, the repository entry and the numbers already announced stay true.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.audit.service import record_audit
from core.base import Role
from core.customers.models import Customer
from core.errors import Conflict, Forbidden, NotFound
from core.goals.definition import settle
from core.goals.models import Achievement, AchievementStatus, Goal, GoalStatus, Milestone
from core.goals.page_schemas import GoalEntry

STAFF = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})

# The entry's fields as goal columns.
COLUMNS = {
    "type": "type",
    "name": "name",
    "description": "description",
    "metric": "metric_key",
    "baseline": "baseline",
    "target": "target",
    "direction": "direction",
    "start_date": "start_date",
    "due_date": "due_date",
}
# What a goal with an achievement may still change.
AFTER_A_WIN = ("name", "description", "due_date")
# Changes that make detection read the goal's data again.
REREAD = ("type", "metric_key", "baseline", "target", "direction", "start_date")
# Field names as the API spells them, for messages.
API_NAMES = {"metric_key": "metric", "start_date": "startDate", "due_date": "dueDate"}


def require_staff(actor: User | UserSummary, action: str) -> None:
    """Refuse anyone but CSMs, CS leaders and admins."""
    if actor.role not in STAFF:
        raise Forbidden(f"Only CSMs, CS leaders and admins can {action}.")


def create_goal(
    *,
    session: Session,
    customer_id: uuid.UUID,
    entry: GoalEntry,
    actor: User | UserSummary,
) -> Goal:
    """Create the customer's goal `entry` describes; audited."""
    require_staff(actor, "set up goals")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.")
    values = {**_values(entry), "unit": None, "cost": None}
    settle(session=session, values=values, milestones=0)
    goal = Goal(
        customer_id=customer.id,
        owner_id=customer.owner_csm_id,
        status=GoalStatus.ACTIVE,
        **values,
    )
    session.add(goal)
    session.flush()
    given = sorted(API_NAMES.get(k, k) for k, v in values.items() if v is not None)
    _audit(session, actor, "goal.created", goal.id, given)
    return goal


def update_goal(
    *,
    session: Session,
    goal_id: uuid.UUID,
    entry: GoalEntry,
    expected_version: int,
    actor: User | UserSummary,
) -> Goal:
    """Save a person's edit of a goal; Conflict when it changed since they opened it."""
    require_staff(actor, "edit goals")
    goal = session.get(Goal, goal_id, with_for_update=True, populate_existing=True)
    if goal is None:
        raise NotFound("This goal no longer exists.")
    if goal.version != expected_version:
        raise Conflict(
            f"Someone else changed the goal “{goal.name}” since you opened it; nothing was "
            "saved. Its latest version is shown now: make your change again."
        )
    before = {column: getattr(goal, column) for column in (*COLUMNS.values(), "unit", "cost")}
    values = {**before, **_values(entry)}
    if values["metric_key"] is None and before["metric_key"] is not None:
        values["unit"] = None  # the unit was the metric's
    steps = session.scalar(select(Milestone.id).where(Milestone.goal_id == goal.id).limit(1))
    settle(session=session, values=values, milestones=int(steps is not None), before=before)
    changed = [c for c in (*COLUMNS.values(), "unit") if values[c] != before[c]]
    won = session.scalar(
        select(Achievement.id).where(
            Achievement.goal_id == goal.id,
            Achievement.status.in_((AchievementStatus.VERIFIED, AchievementStatus.HELD)),
        )
    )
    locked = [c for c in changed if c not in AFTER_A_WIN]
    if won is not None and locked:
        field = API_NAMES.get(locked[0], locked[0])
        raise Conflict(
            f"{field}: this goal already has a win, so what it measures cannot change; only "
            "its name, description and due date can."
        )
    if not changed:
        return goal
    for column in changed:
        setattr(goal, column, values[column])
    if any(c in REREAD for c in changed):
        goal.evaluated_at = None  # detection reads the goal again, as after an API change
    session.flush()
    _audit(
        session,
        actor,
        "goal.updated",
        goal.id,
        sorted(API_NAMES.get(c, c) for c in changed),
        before={c: before[c] for c in changed},
    )
    return goal


def _values(entry: GoalEntry) -> dict:
    data = entry.model_dump()
    return {column: data[field] for field, column in COLUMNS.items()}


def _audit(session, actor, action, goal_id, fields, before: dict | None = None) -> None:
    changes: dict = {"fields": fields}
    if before:
        changes["before"] = before
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action=action,
        entity_type="goal",
        entity_id=goal_id,
        changes=changes,
    )
