"""Writes on goals: upserts from other systems, and a person confirming an achievement."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.audit.service import record_audit
from core.base import Direction
from core.customers.models import Customer, Metric
from core.errors import Conflict, Invalid, NotFound
from core.formatting import number, plain
from core.goals.definition import settle
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    Confidence,
    Goal,
    GoalStatus,
    Milestone,
    PlanStatus,
    SuccessPlan,
)
from core.goals.queries import goal_milestones, goal_out
from core.goals.results import impossible_for_unit, improvement_pct, is_ratio_goal
from core.goals.schemas import GoalIn, GoalOut, milestone_rows
from core.goals.verify import meets
from core.upsert import forget_loaded, upsert_by_key


def confirm_achievement(
    *,
    session: Session,
    goal_id: uuid.UUID,
    actor: User,
    note: str,
    achieved_value: Decimal | None = None,
    achieved_at: datetime | None = None,
    evidence: dict | None = None,
) -> Achievement:
    """Record a CSM's confirmation of a new manual win or a held one; the caller documents it.

    A goal with a target needs the value reached, on the achieved side of the target and possible
    for its unit; a goal without one (custom, milestones) is confirmed as a milestone, without a
    number. A goal already met when it started is not a win.
    """
    note = (note or "").strip()
    if not note:
        raise Invalid("A confirmation needs a note saying how you verified the achievement.")
    goal = session.get(Goal, goal_id, with_for_update=True)
    if goal is None:
        raise NotFound(f"No goal {goal_id}.")
    if goal.status in (GoalStatus.CANCELLED,):
        raise Invalid("This goal was cancelled; reopen it before confirming.")
    now = datetime.now(UTC)
    achievement = session.scalar(select(Achievement).where(Achievement.goal_id == goal.id))
    if achievement is not None and achievement.status == AchievementStatus.VERIFIED:
        raise Conflict("This goal's achievement is already confirmed.")
    if achievement is None and _met_at_start(goal):
        raise Conflict(
            "This goal already met its target when it started, so reaching it is not a win; "
            "it counts once the metric falls short and crosses the target again."
        )
    value = achieved_value
    if value is None and achievement is not None:
        value = achievement.achieved_value
    _check_value(session, goal, value)
    if achievement is None:
        baseline = None if is_ratio_goal(goal.type, goal.cost, goal.unit) else goal.baseline
        achievement = Achievement(
            goal_id=goal.id,
            customer_id=goal.customer_id,
            method=AchievementMethod.MANUAL,
            achieved_at=achieved_at or now,
            detected_at=now,
            baseline_value=baseline,
            target_value=goal.target,
            achieved_value=value,
            confidence=Confidence.MEDIUM,
            rule="confirmed by a CSM"
            if goal.target is not None
            else "milestone confirmed by a CSM",
            evidence=evidence or {},
        )
        session.add(achievement)
    else:
        achievement.achieved_value = value
        achievement.evidence = {**(achievement.evidence or {}), **(evidence or {})}
        achievement.rule = f"{achievement.rule}; confirmed by a CSM"
    change = improvement_pct(achievement.baseline_value, value, goal.direction)
    achievement.improvement = None if change is None else Decimal(str(change))
    achievement.status = AchievementStatus.VERIFIED
    achievement.verified_by_id = actor.id
    achievement.verification_note = note
    goal.status = GoalStatus.ACHIEVED
    session.flush()
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="goal.confirm",
        entity_type="goal",
        entity_id=goal.id,
        changes={"note": note},
    )
    return achievement


def _met_at_start(goal: Goal) -> bool:
    """Met at start: marked so by detection, or (no metric to judge it) its baseline meets it."""
    if goal.status == GoalStatus.MET_AT_START:
        return True
    if goal.metric_key is not None or goal.baseline is None or goal.target is None:
        return False
    return meets(goal.baseline, goal.target, goal.direction)


def _check_value(session: Session, goal: Goal, value: Decimal | None) -> None:
    """Refuse a confirmed value the goal cannot have reached, naming the field."""
    if goal.target is None:
        if value is not None:
            raise Invalid(
                "achievedValue: this goal has no target to measure a number against; "
                "leave it out to confirm the milestone."
            )
        return
    ratio = is_ratio_goal(goal.type, goal.cost, goal.unit)
    unit = (
        "× cost"
        if ratio
        else goal.unit or session.scalar(select(Metric.unit).where(Metric.key == goal.metric_key))
    )
    if value is None:
        raise Invalid(
            f"achievedValue: give the value the customer reached; this goal's target is "
            f"{number(goal.target, unit)}."
        )
    problem = impossible_for_unit(value, None if ratio else unit)
    if problem:
        raise Invalid(f"achievedValue: {plain(value)} {problem}.")
    if not meets(value, goal.target, goal.direction):
        side = "at least" if goal.direction == Direction.HIGHER else "at most"
        kind = "higher" if goal.direction == Direction.HIGHER else "lower"
        raise Invalid(
            f"achievedValue: {number(value, unit)} does not reach the target; a "
            f"{kind}-is-better goal needs {side} {number(goal.target, unit)}."
        )


# Changing these on an achieved goal would rewrite what was achieved.
DEFINING = {"type": "type", "metric_key": "metric", "target": "target", "direction": "direction"}


GOAL_FIELDS = (
    "type",
    "name",
    "description",
    "use_case",
    "metric_key",
    "baseline",
    "target",
    "direction",
    "unit",
    "start_date",
    "due_date",
    "cost",
)


def upsert_goal(
    *, session: Session, external_id: str, body: GoalIn, actor: str
) -> tuple[GoalOut, bool]:
    """Create or update the goal the source system calls `external_id`; True when created."""
    customer_id = session.scalar(
        select(Customer.id).where(Customer.external_id == body.customer_external_id)
    )
    if customer_id is None:
        raise Invalid(
            f"customerExternalId: no customer with external id '{body.customer_external_id}'."
        )
    goals = Goal.__table__
    current = (
        session.execute(select(goals).where(goals.c.external_id == external_id).with_for_update())
        .mappings()
        .first()
    )
    if current is not None and current["customer_id"] != customer_id:
        raise Conflict(
            f"customerExternalId: goal '{external_id}' belongs to another customer; "
            "goals cannot move between customers."
        )
    given = body.model_dump(exclude_unset=True, exclude={"milestones", "plan_external_id"})
    if "metric" in given:
        given["metric_key"] = given.pop("metric")
    values = {name: current[name] if current else None for name in GOAL_FIELDS}
    values.update({k: v for k, v in given.items() if k in GOAL_FIELDS})
    if "metric_key" in given and values["metric_key"] is None:
        values["unit"] = None
    steps = goal_milestones(session=session, goal_id=current["id"]) if current else []
    count = len(body.milestones) if body.milestones is not None else len(steps)
    settle(session=session, values=values, milestones=count, before=current)
    changed = [k for k in DEFINING if current is not None and values[k] != current[k]]
    if changed and _achieved(session, current["id"]):
        names = ", ".join(DEFINING[k] for k in changed)
        raise Conflict(f"{names}: goal '{external_id}' is already achieved; it cannot change.")
    plan_id = current["plan_id"] if current else None
    if body.plan_external_id or body.milestones:
        plan_id = _plan_id(session, customer_id, body, values["start_date"])
    row = {"id": uuid.uuid4(), "external_id": external_id, "customer_id": customer_id}
    row.update(values, plan_id=plan_id)
    reread = current is None or changed or values["cost"] != current["cost"]
    extra = {"evaluated_at": None} if reread else {}
    update = [name for name in row if name not in ("id", "external_id", "customer_id")]
    goal_id, outcome = upsert_by_key(session, goals, row, update, "external_id", extra)
    forget_loaded(session, Goal, goal_id)
    if body.milestones is not None:
        rows = milestone_rows(body.milestones, goal_id=goal_id, plan_id=plan_id, before=steps)
        if _replace_milestones(session, goal_id, rows, steps) and outcome == "unchanged":
            outcome = "updated"
    if current is not None and plan_id != current["plan_id"]:
        session.execute(
            Milestone.__table__.update().where(Milestone.goal_id == goal_id).values(plan_id=plan_id)
        )
    if outcome != "unchanged":
        record_audit(
            session=session,
            actor=actor,
            action=f"goal.{outcome}",
            entity_type="goal",
            entity_id=goal_id,
            changes={"fields": sorted(given)},
        )
    return goal_out(session=session, goal_id=goal_id), outcome == "created"


def _achieved(session: Session, goal_id: uuid.UUID) -> bool:
    return session.scalar(select(Achievement.id).where(Achievement.goal_id == goal_id)) is not None


def _plan_id(session: Session, customer_id: uuid.UUID, body: GoalIn, start) -> uuid.UUID:
    """Find or create the plan the goal's milestones belong to (one statement, race-safe)."""
    plan_key = body.plan_external_id or f"imported:{body.customer_external_id}"
    plan = dict(external_id=plan_key, customer_id=customer_id, name="Imported plan")
    session.execute(
        insert(SuccessPlan.__table__)
        .values(id=uuid.uuid4(), status=PlanStatus.ACTIVE, start_date=start, **plan)
        .on_conflict_do_nothing(index_elements=["external_id"])
    )
    plan = session.execute(
        select(SuccessPlan.id, SuccessPlan.customer_id).where(SuccessPlan.external_id == plan_key)
    ).one()
    if plan.customer_id != customer_id:
        raise Invalid(f"planExternalId: plan '{plan_key}' belongs to another customer.")
    return plan.id


def _replace_milestones(session: Session, goal_id, rows: list[dict], steps: list) -> bool:
    """Make the goal's milestones exactly `rows`; False when they already were."""
    fields = ("name", "position", "due_date", "status", "completed_at")
    if [tuple(r[f] for f in fields) for r in rows] == [tuple(s) for s in steps]:
        return False
    session.execute(delete(Milestone).where(Milestone.goal_id == goal_id))
    if rows:
        session.execute(insert(Milestone.__table__).values(rows))
    return True
