"""Read achievements and a customer's goals for the API, and find the people acting on them."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, String, and_, any_, bindparam, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from core.accounts.models import User
from core.customers.ingest_schemas import GoalOut, MilestoneOut, as_uuid
from core.customers.models import Customer, Metric, Observation
from core.errors import NotFound
from core.goals.models import (
    Achievement,
    Goal,
    MarketingFlag,
    Milestone,
    MilestoneStatus,
    SuccessRecord,
)
from core.goals.schemas import (
    AchievementFilters,
    AchievementOut,
    AchievementPage,
    CustomerGoals,
    CustomerRef,
    FlagOut,
    GoalProgress,
    progress_pct,
)


def resolve_customers(*, session: Session, refs: Iterable[str]) -> dict[str, uuid.UUID]:
    """Map references to customer ids: our UUID when one matches, else the external id."""
    refs = set(refs)
    as_ids = {ref: parsed for ref in refs if (parsed := as_uuid(ref))}
    ids = bindparam("ids", list(as_ids.values()), ARRAY(Customer.id.type))
    externals = bindparam("refs", list(refs), ARRAY(String))
    rows = session.execute(
        select(Customer.id, Customer.external_id).where(
            or_(Customer.id == any_(ids), Customer.external_id == any_(externals))
        )
    ).all()
    known = {row.id for row in rows}
    found = {row.external_id: row.id for row in rows if row.external_id in refs}
    found.update({ref: parsed for ref, parsed in as_ids.items() if parsed in known})
    return found


def customer_id_for(*, session: Session, ref: str) -> uuid.UUID:
    """Return the id of the customer `ref` names (our UUID or external id), or NotFound."""
    found = resolve_customers(session=session, refs=[ref]).get(ref)
    if found is None:
        raise NotFound(f"No customer '{ref}' (neither our id nor an external id).")
    return found


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
        select(*columns)
        .join(Goal, Goal.id == Achievement.goal_id)
        .join(Customer, Customer.id == Achievement.customer_id)
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


def list_achievements(
    *, session: Session, filters: AchievementFilters, limit: int = 50, offset: int = 0
) -> AchievementPage:
    """Return one page of matching achievements, newest first, and how many match in total."""
    where = and_(true(), *achievement_conditions(filters))
    total = session.scalar(
        select(func.count())
        .select_from(Achievement)
        .join(Goal, Goal.id == Achievement.goal_id)
        .join(Customer, Customer.id == Achievement.customer_id)
        .where(where)
    )
    rows = session.execute(
        _achievements_select()
        .where(where)
        .order_by(Achievement.achieved_at.desc(), Achievement.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return AchievementPage(
        total=total, items=[AchievementOut.model_validate(r._mapping) for r in rows]
    )


def get_achievement(*, session: Session, achievement_id: uuid.UUID) -> AchievementOut:
    """Return one achievement as the API shows it."""
    row = session.execute(_achievements_select().where(Achievement.id == achievement_id)).first()
    if row is None:
        raise NotFound(f"No achievement {achievement_id}.")
    return AchievementOut.model_validate(row._mapping)


def achievement_for_goal(*, session: Session, goal_id: uuid.UUID) -> uuid.UUID:
    """Return the id of the goal's achievement, or NotFound when it has none yet."""
    found = session.scalar(select(Achievement.id).where(Achievement.goal_id == goal_id))
    if found is None:
        raise NotFound(f"Goal {goal_id} has no achievement yet; confirm it first.")
    return found


def flag_out(*, session: Session, flag: MarketingFlag, goal_id: uuid.UUID) -> FlagOut:
    """Describe a marketing flag with its goal and the email of who flagged it."""
    email = session.scalar(select(User.email).where(User.id == flag.flagged_by_id))
    return FlagOut(
        id=flag.id,
        achievement_id=flag.achievement_id,
        goal_id=goal_id,
        customer_id=flag.customer_id,
        candidate_type=flag.candidate_type,
        status=flag.status,
        score=flag.score,
        notes=flag.notes,
        flagged_by=email or "",
        created_at=flag.created_at,
    )


def customer_goals(*, session: Session, customer_ref: str) -> CustomerGoals:
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
    goals = [GoalProgress(**r._mapping, progress_pct=progress_pct(r)) for r in rows]
    achievements = session.execute(
        _achievements_select()
        .where(Achievement.customer_id == customer_id)
        .order_by(Achievement.achieved_at.desc(), Achievement.id.desc())
    )
    return CustomerGoals(
        customer=CustomerRef.model_validate(customer._mapping),
        goals=goals,
        achievements=[AchievementOut.model_validate(r._mapping) for r in achievements],
    )


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
