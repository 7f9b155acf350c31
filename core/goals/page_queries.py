"""Read a customer's goals and success plans for the customer page's "Goals & plans" section.

CS staff work here, so names are shown as stored (sales and marketing never get this view).
"""

import uuid
from collections import defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from core.accounts.models import User
from core.base import Role
from core.customers.models import Customer, Metric
from core.errors import NotFound
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
from core.goals.page_schemas import (
    GoalLine,
    GoalsAndPlans,
    MetricChoice,
    MilestoneView,
    PersonChoice,
    PlanView,
)

STAFF = (Role.CSM, Role.LEADER, Role.ADMIN)
# Goals still in play list first.
OPEN = (GoalStatus.ACTIVE, GoalStatus.PENDING_CONFIRMATION, GoalStatus.MET_AT_START)


def plan_goals(*, session: Session, plan_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Return each plan's milestone goal: the one goal its steps belong to, else its own
    success-plan goal (the earliest); plans with neither are left out."""
    if not plan_ids:
        return {}
    linked = session.execute(
        select(Milestone.plan_id, Milestone.goal_id)
        .where(Milestone.plan_id.in_(plan_ids), Milestone.goal_id.is_not(None))
        .distinct()
    ).all()
    own = session.execute(
        select(Goal.plan_id, Goal.id)
        .where(
            Goal.plan_id.in_(plan_ids),
            Goal.type == GoalType.SUCCESS_PLAN,
            Goal.metric_key.is_(None),
        )
        .order_by(Goal.created_at, Goal.id)
    ).all()
    shared: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for plan_id, goal_id in linked:
        shared[plan_id].add(goal_id)
    found: dict[uuid.UUID, uuid.UUID] = {}
    for plan_id, goal_id in own:
        found.setdefault(plan_id, goal_id)
    for plan_id, goals in shared.items():
        if len(goals) == 1:
            found[plan_id] = next(iter(goals))
    return found


def goals_and_plans(*, session: Session, customer_id: uuid.UUID) -> GoalsAndPlans:
    """Return the customer's goals and plans (with their steps) and the forms' choices."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.")
    plans = _plans(session, customer_id)
    return GoalsAndPlans(
        customer_id=customer.id,
        customer_name=customer.name,
        owner_id=customer.owner_csm_id,
        goals=_goals(session, customer_id),
        plans=plans,
        metrics=[
            MetricChoice.model_validate(m, from_attributes=True)
            for m in session.scalars(select(Metric).order_by(Metric.name, Metric.key))
        ],
        owners=[
            PersonChoice(id=u.id, name=u.name)
            for u in session.execute(
                select(User.id, User.name)
                .where(User.active.is_(True), User.role.in_(STAFF))
                .order_by(User.name, User.email)
            )
        ],
    )


def _goals(session: Session, customer_id: uuid.UUID) -> list[GoalLine]:
    steps = (
        select(
            Milestone.goal_id,
            func.count().label("total"),
            func.count().filter(Milestone.status == MilestoneStatus.DONE).label("done"),
        )
        .group_by(Milestone.goal_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Goal.id,
            Goal.name,
            Goal.description,
            Goal.type,
            Goal.status,
            Goal.metric_key,
            Metric.name.label("metric_name"),
            func.coalesce(Metric.unit, Goal.unit).label("unit"),
            Goal.baseline,
            Goal.target,
            Goal.direction,
            Goal.start_date,
            Goal.due_date,
            Goal.version,
            Achievement.status.label("win"),
            func.coalesce(steps.c.done, 0).label("milestones_done"),
            func.coalesce(steps.c.total, 0).label("milestones_total"),
        )
        .outerjoin(Metric, Metric.key == Goal.metric_key)
        .outerjoin(Achievement, Achievement.goal_id == Goal.id)
        .outerjoin(steps, steps.c.goal_id == Goal.id)
        .where(Goal.customer_id == customer_id)
        .order_by(
            case((Goal.status.in_(OPEN), 0), else_=1),
            Goal.due_date.asc().nulls_last(),
            Goal.name,
            Goal.id,
        )
    )
    return [GoalLine.model_validate(r._asdict()) for r in rows]


def _plans(session: Session, customer_id: uuid.UUID) -> list[PlanView]:
    owner, ticker = aliased(User), aliased(User)
    plans = session.execute(
        select(SuccessPlan, owner.name.label("owner_name"))
        .outerjoin(owner, owner.id == SuccessPlan.owner_id)
        .where(SuccessPlan.customer_id == customer_id)
        .order_by(SuccessPlan.start_date.desc(), SuccessPlan.name, SuccessPlan.id)
    ).all()
    ids = [p.id for p, _ in plans]
    steps: dict[uuid.UUID, list[MilestoneView]] = defaultdict(list)
    for m, by in session.execute(
        select(Milestone, ticker.name)
        .outerjoin(ticker, ticker.id == Milestone.completed_by_id)
        .where(Milestone.plan_id.in_(ids))
        .order_by(Milestone.position, Milestone.name, Milestone.id)
    ):
        steps[m.plan_id].append(
            MilestoneView(
                id=m.id,
                name=m.name,
                position=m.position,
                due_date=m.due_date,
                status=m.status,
                completed_at=m.completed_at,
                completed_by=by,
            )
        )
    goals = plan_goals(session=session, plan_ids=ids)
    won = set(
        session.scalars(
            select(Achievement.goal_id).where(
                Achievement.goal_id.in_(list(goals.values())),
                Achievement.status == AchievementStatus.VERIFIED,
            )
        )
    )
    return [
        PlanView(
            id=p.id,
            name=p.name,
            status=p.status,
            owner_id=p.owner_id,
            owner_name=owner_name,
            start_date=p.start_date,
            external_id=p.external_id,
            updated_at=p.updated_at,
            goal_id=goals.get(p.id),
            won=goals.get(p.id) in won,
            milestones=steps[p.id],
        )
        for p, owner_name in plans
    ]
