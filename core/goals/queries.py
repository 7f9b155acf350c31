"""Read achievements and a customer's goals for the API, and find the people acting on them."""

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core.customers.models import Customer
from core.errors import NotFound
from core.goals.models import Achievement, Goal, Milestone
from core.goals.schemas import GoalOut, MilestoneOut
from core.schemas import as_uuid


def goal_id_for(*, session: Session, ref: str) -> uuid.UUID:
    """Return the id of the goal `ref` names: our UUID first, else the source system's id."""
    parsed = as_uuid(ref)
    by_ext = Goal.external_id == ref
    found = session.scalars(
        select(Goal.id).where(or_(Goal.id == parsed, by_ext) if parsed else by_ext)
    )
    ids = list(found)
    if parsed in ids:
        return parsed
    if ids:
        return ids[0]
    raise NotFound(f"No goal '{ref}'.")


def goal_milestones(*, session: Session, goal_id: uuid.UUID) -> list:
    """Return the goal's milestones in order (name, position, dueDate, status, completedAt)."""
    return session.execute(
        select(
            Milestone.name,
            Milestone.position,
            Milestone.due_date,
            Milestone.status,
            Milestone.completed_at,
        )
        .where(Milestone.goal_id == goal_id)
        .order_by(Milestone.position, Milestone.name)
    ).all()


def goal_out(*, session: Session, goal_id: uuid.UUID) -> GoalOut:
    """Return a goal as the ingest API shows it, with its milestones."""
    row = session.execute(
        select(
            Goal.__table__,
            Goal.metric_key.label("metric"),
            Customer.external_id.label("customer_external_id"),
        )
        .join(Customer, Customer.id == Goal.customer_id)
        .where(Goal.id == goal_id)
    ).one()
    steps = goal_milestones(session=session, goal_id=goal_id)
    milestones = [MilestoneOut.model_validate(s._mapping) for s in steps]
    return GoalOut.model_validate({**row._mapping, "milestones": milestones})


def achievements_with_goal(*columns) -> Select:
    """Select `columns` from achievements joined to their goal and customer (the win's frame)."""
    return (
        select(*columns)
        .select_from(Achievement)
        .join(Goal, Goal.id == Achievement.goal_id)
        .join(Customer, Customer.id == Achievement.customer_id)
    )
