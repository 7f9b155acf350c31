"""Decisions people make about goals: confirm an achievement, flag a win for marketing."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.accounts.models import User
from core.audit.service import record_audit
from core.errors import Conflict, Invalid, NotFound
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    CandidateType,
    Confidence,
    FlagStatus,
    Goal,
    GoalStatus,
    MarketingFlag,
)
from core.goals.pipeline import document

# Which status may follow which in the marketing workflow.
FLAG_STEPS = {
    FlagStatus.FLAGGED: {FlagStatus.CONTACTED, FlagStatus.DECLINED},
    FlagStatus.CONTACTED: {FlagStatus.IN_PROGRESS, FlagStatus.DECLINED},
    FlagStatus.IN_PROGRESS: {FlagStatus.USED, FlagStatus.DECLINED},
    FlagStatus.USED: set(),
    FlagStatus.DECLINED: {FlagStatus.FLAGGED},
}


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
    """Record a CSM's confirmation (a new manual win, or a held one), then document it."""
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
    if achievement is None:
        achievement = Achievement(
            goal_id=goal.id,
            customer_id=goal.customer_id,
            method=AchievementMethod.MANUAL,
            achieved_at=achieved_at or now,
            detected_at=now,
            baseline_value=goal.baseline,
            target_value=goal.target,
            achieved_value=achieved_value,
            confidence=Confidence.MEDIUM,
            rule="confirmed by a CSM",
            evidence=evidence or {},
        )
        session.add(achievement)
    else:
        if achieved_value is not None:
            achievement.achieved_value = achieved_value
        achievement.evidence = {**(achievement.evidence or {}), **(evidence or {})}
        achievement.rule = f"{achievement.rule}; confirmed by a CSM"
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
    document(session=session, achievement_id=achievement.id, now=now)
    return achievement


def flag_for_marketing(
    *,
    session: Session,
    achievement_id: uuid.UUID,
    candidate_type: CandidateType | str,
    actor: User,
    notes: str | None = None,
) -> MarketingFlag:
    """Flag a documented win as a marketing candidate (one flag per win and type)."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None:
        raise NotFound(f"No achievement {achievement_id}.")
    if achievement.status != AchievementStatus.VERIFIED:
        raise Invalid("Only confirmed wins can be flagged for marketing.")
    kind = CandidateType(candidate_type)
    exists = session.scalar(
        select(MarketingFlag).where(
            MarketingFlag.achievement_id == achievement_id, MarketingFlag.candidate_type == kind
        )
    )
    if exists is not None:
        raise Conflict(f"This win is already flagged as a {kind.value.replace('_', ' ')}.")
    flag = MarketingFlag(
        achievement_id=achievement_id,
        customer_id=achievement.customer_id,
        candidate_type=kind,
        score=achievement.marketing_score,
        notes=notes,
        flagged_by_id=actor.id,
    )
    session.add(flag)
    session.flush()
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="marketing.flag",
        entity_type="marketing_flag",
        entity_id=flag.id,
        changes={"type": kind.value},
    )
    return flag


def move_flag(
    *,
    session: Session,
    flag_id: uuid.UUID,
    status: FlagStatus | str,
    expected_version: int,
    actor: User,
    notes: str | None = None,
) -> MarketingFlag:
    """Move a flag one step through flagged → contacted → in progress → used / declined."""
    flag = session.get(MarketingFlag, flag_id)
    if flag is None:
        raise NotFound(f"No marketing flag {flag_id}.")
    target = FlagStatus(status)
    if flag.version != expected_version:
        raise Conflict("Someone else moved this flag since you loaded it; reload and try again.")
    if target not in FLAG_STEPS[flag.status]:
        allowed = ", ".join(sorted(s.value for s in FLAG_STEPS[flag.status])) or "nothing"
        raise Invalid(f"A {flag.status.value} flag can move to {allowed}, not {target.value}.")
    before = flag.status
    flag.status = target
    flag.status_changed_at = datetime.now(UTC)
    if target == FlagStatus.CONTACTED:
        flag.contacted_at = flag.status_changed_at  # feeds the fatigue ledger
    if notes:
        flag.notes = notes
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("Someone else moved this flag at the same time; reload.") from exc
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="marketing.move",
        entity_type="marketing_flag",
        entity_id=flag.id,
        changes={"status": [before.value, target.value]},
    )
    return flag
