"""Documented wins as the API shows them: achievements with their record, score and flags.

Each answer names customers as the calling key's role may see them (`core.repository.consent`):
for a sales or marketing key, a customer without naming consent is described instead of named,
its names are scrubbed from goal names and notes, and its external ids (often derived from the
name) are left out.
"""

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from core import paging
from core.accounts.models import User
from core.base import Role
from core.customers.models import Customer, Metric, Observation
from core.customers.queries import customer_id_for
from core.documentation.schemas import (
    AchievementFilters,
    AchievementOut,
    AchievementPage,
    CustomerGoals,
    CustomerRef,
)
from core.errors import NotFound
from core.goals.models import Achievement, Goal, Milestone, MilestoneStatus
from core.goals.queries import achievements_with_goal
from core.goals.schemas import GoalProgress, progress_pct
from core.records.models import SuccessRecord
from core.repository.consent import CustomerView, audience, customer_views
from core.schemas import as_uuid

NEWEST_WINS = "achievements.newest"
NEWEST_WINS_ORDER = ((Achievement.achieved_at, True), (Achievement.id, True))


def _achievements_select() -> Select:
    verifier = aliased(User)
    columns = (
        Achievement.id,
        Achievement.goal_id,
        Goal.external_id.label("goal_external_id"),
        Goal.name.label("goal_name"),
        Goal.type.label("goal_type"),
        Goal.metric_key.label("metric"),
        Achievement.customer_id,
        Customer.external_id.label("customer_external_id"),
        Customer.name.label("customer_name"),
        Customer.industry,
        Achievement.status,
        Achievement.method,
        Achievement.achieved_at,
        Achievement.baseline_value,
        Achievement.achieved_value,
        Achievement.target_value,
        Achievement.confidence,
        verifier.email.label("verified_by"),
        Achievement.verification_note.label("note"),
        Achievement.marketing_score,
        Achievement.marketing_candidates,
        SuccessRecord.id.label("success_record_id"),
    )
    return (
        achievements_with_goal(*columns)
        .outerjoin(verifier, verifier.id == Achievement.verified_by_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
    )


def achievement_conditions(filters: AchievementFilters) -> list[ColumnElement[bool]]:
    found = []
    if filters.customer_id:
        parsed = as_uuid(filters.customer_id)
        by_ext = Customer.external_id == filters.customer_id
        found.append(or_(Customer.id == parsed, by_ext) if parsed else by_ext)
    if filters.industry:
        found.append(func.lower(Customer.industry) == filters.industry.lower())
    if filters.goal_type:
        found.append(Goal.type == filters.goal_type)
    if filters.status:
        found.append(Achievement.status == filters.status)
    if filters.method:
        found.append(Achievement.method == filters.method)
    if filters.achieved_from:
        found.append(
            Achievement.achieved_at >= datetime.combine(filters.achieved_from, time(), UTC)
        )
    if filters.achieved_to:
        end = datetime.combine(filters.achieved_to + timedelta(days=1), time(), UTC)
        found.append(Achievement.achieved_at < end)
    if filters.min_score is not None:
        found.append(Achievement.marketing_score >= filters.min_score)
    if filters.csm:
        owner = select(User.id).where(func.lower(User.email) == filters.csm.strip().lower())
        found.append(Customer.owner_csm_id.in_(owner))
    return found


def _views(session: Session, viewer: Role | None, customer_ids) -> dict[uuid.UUID, CustomerView]:
    return customer_views(session=session, seen_by=audience(viewer), customer_ids=customer_ids)


def _achievement(row, views: dict[uuid.UUID, CustomerView]) -> AchievementOut:
    """One achievement as its customer's view allows."""
    item = AchievementOut.model_validate(row._mapping)
    view = views[item.customer_id]
    hidden = not view.shows.name
    return item.model_copy(
        update={
            "customer_name": view.label,
            "customer_external_id": None if hidden else item.customer_external_id,
            "goal_external_id": None if hidden else item.goal_external_id,
            "goal_name": view.text(item.goal_name),
            "note": view.text(item.note) or None,
        }
    )


def list_achievements(
    *,
    session: Session,
    filters: AchievementFilters,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
    viewer: Role | None = None,
) -> AchievementPage:
    """Return one page of matching achievements, newest first, and how many match in total."""
    paging.start(cursor=cursor, offset=offset)
    where = and_(true(), *achievement_conditions(filters))
    total = session.scalar(achievements_with_goal(func.count()).where(where))
    if cursor:
        key = paging.decode(cursor, NEWEST_WINS, (datetime.fromisoformat, uuid.UUID))
        where = and_(where, paging.after(NEWEST_WINS_ORDER, key))
    rows = session.execute(
        _achievements_select()
        .where(where)
        .order_by(Achievement.achieved_at.desc(), Achievement.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    more, rows = len(rows) > limit, rows[:limit]
    views = _views(session, viewer, {r.customer_id for r in rows})
    last = rows[-1] if more else None
    return AchievementPage(
        total=total,
        items=[_achievement(r, views) for r in rows],
        next_cursor=last and paging.encode(NEWEST_WINS, (last.achieved_at, last.id)),
    )


def get_achievement(
    *, session: Session, achievement_id: uuid.UUID, viewer: Role | None = None
) -> AchievementOut:
    """Return one achievement as the API shows it."""
    row = session.execute(_achievements_select().where(Achievement.id == achievement_id)).first()
    if row is None:
        raise NotFound(f"No achievement {achievement_id}.")
    return _achievement(row, _views(session, viewer, [row.customer_id]))


def achievement_for_goal(*, session: Session, goal_id: uuid.UUID) -> uuid.UUID:
    """Return the id of the goal's achievement, or NotFound when it has none yet."""
    found = session.scalar(select(Achievement.id).where(Achievement.goal_id == goal_id))
    if found is None:
        raise NotFound(f"Goal {goal_id} has no achievement yet; confirm it first.")
    return found


def customer_goals(
    *, session: Session, customer_ref: str, viewer: Role | None = None
) -> CustomerGoals:
    """Return a customer's goals with latest values and progress, and its achievements."""
    customer_id = customer_id_for(session=session, ref=customer_ref)
    customer = session.execute(
        select(Customer.id, Customer.external_id, Customer.name).where(Customer.id == customer_id)
    ).one()
    latest = (
        select(Observation.value, Observation.observed_at)
        .where(
            Observation.customer_id == Goal.customer_id, Observation.metric_key == Goal.metric_key
        )
        .order_by(Observation.observed_at.desc())
        .limit(1)
        .lateral("latest")
    )
    steps = (
        select(
            func.count().label("total"),
            func.count().filter(Milestone.status == MilestoneStatus.DONE).label("done"),
            func.count().filter(Milestone.status != MilestoneStatus.OPEN).label("closed"),
        )
        .where(Milestone.goal_id == Goal.id)
        .lateral("steps")
    )
    columns = (
        Goal.id,
        Goal.external_id,
        Goal.type,
        Goal.name,
        Goal.metric_key.label("metric"),
        Metric.name.label("metric_name"),
        func.coalesce(Goal.unit, Metric.unit).label("unit"),
        Goal.baseline,
        Goal.target,
        Goal.direction,
        Goal.cost,
        Goal.start_date,
        Goal.due_date,
        Goal.status,
        latest.c.value.label("latest_value"),
        latest.c.observed_at,
        steps.c.done.label("milestones_done"),
        steps.c.total.label("milestones_total"),
        steps.c.closed.label("milestones_closed"),
    )
    rows = session.execute(
        select(*columns)
        .outerjoin(Metric, Metric.key == Goal.metric_key)
        .outerjoin(latest, true())
        .join(steps, true())
        .where(Goal.customer_id == customer_id)
        .order_by(Goal.start_date, Goal.name, Goal.id)
    ).all()
    views = _views(session, viewer, [customer_id])
    view = views[customer_id]
    hidden = not view.shows.name
    goals = [
        GoalProgress(
            **dict(
                r._mapping, name=view.text(r.name), external_id=None if hidden else r.external_id
            ),
            progress_pct=progress_pct(r),
        )
        for r in rows
    ]
    achievements = session.execute(
        _achievements_select()
        .where(Achievement.customer_id == customer_id)
        .order_by(Achievement.achieved_at.desc(), Achievement.id.desc())
    )
    shown = CustomerRef.model_validate(customer._mapping)
    return CustomerGoals(
        customer=shown.model_copy(
            update={"name": view.label, "external_id": None if hidden else shown.external_id}
        ),
        goals=goals,
        achievements=[_achievement(r, views) for r in achievements],
    )
