"""Marketing's decisions on wins: flag a documented win, move a flag through its steps."""

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.accounts.models import User
from core.accounts.service import acting_user
from core.audit.service import record_audit
from core.errors import Conflict, Invalid, NotFound
from core.goals.models import Achievement, AchievementStatus
from core.marketing import score as marketing
from core.marketing.models import CandidateType, FlagStatus, MarketingFlag
from core.marketing.schemas import FlagInfo
from core.records.facts import RecordFacts

# Which status may follow which in the marketing workflow.
FLAG_STEPS = {
    FlagStatus.FLAGGED: {FlagStatus.CONTACTED, FlagStatus.DECLINED},
    FlagStatus.CONTACTED: {FlagStatus.IN_PROGRESS, FlagStatus.DECLINED},
    FlagStatus.IN_PROGRESS: {FlagStatus.USED, FlagStatus.DECLINED},
    FlagStatus.USED: set(),
    FlagStatus.DECLINED: {FlagStatus.FLAGGED},
}


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


def flag_candidate(
    *,
    session: Session,
    achievement_id: uuid.UUID,
    candidate_type,
    actor_id: uuid.UUID,
    notes: str | None = None,
) -> FlagInfo:
    """Flag a win as a candidate type on behalf of the signed-in person."""
    flag = flag_for_marketing(
        session=session,
        achievement_id=achievement_id,
        candidate_type=candidate_type,
        actor=acting_user(session=session, user_id=actor_id),
        notes=(notes or "").strip() or None,
    )
    session.refresh(flag)
    return FlagInfo.model_validate(flag)


def move_candidate_flag(
    *, session: Session, flag_id: uuid.UUID, status, expected_version: int, actor_id: uuid.UUID
) -> FlagInfo:
    """Move a flag one allowed step on behalf of the signed-in person."""
    actor = acting_user(session=session, user_id=actor_id)
    flag = move_flag(
        session=session,
        flag_id=flag_id,
        status=status,
        expected_version=expected_version,
        actor=actor,
    )
    return FlagInfo.model_validate(flag)


# What the score reads about each customer; similar wins are counted apart (`similar_wins`),
# since every win documented before this one in a pass counts too.
SCORE_SIGNALS = text(
    """
    SELECT c.id, c.health_score, c.customer_since,
      (SELECT (array_agg(f.score ORDER BY f.responded_at DESC) FILTER (WHERE f.kind = 'nps'))[1]
         FROM customer_feedback f WHERE f.customer_id = c.id) AS nps,
      (SELECT (array_agg(f.score ORDER BY f.responded_at DESC) FILTER (WHERE f.kind = 'csat'))[1]
         FROM customer_feedback f WHERE f.customer_id = c.id) AS csat,
      EXISTS (SELECT 1 FROM customer_feedback f
              WHERE f.customer_id = c.id AND f.comment IS NOT NULL) AS any_comment,
      (SELECT count(*) FROM marketing_flags m
        WHERE m.customer_id = c.id AND m.contacted_at >= :since) AS asks
    FROM customers c
    WHERE c.id = ANY(CAST(:customers AS uuid[]))
    """
)
SIMILAR_WINS = text(
    """
    SELECT industry, use_case, count(*) AS wins FROM value_repository_entries
     WHERE industry = ANY(CAST(:industries AS text[]))
     GROUP BY industry, use_case
    """
)


def score_signals(
    *, session: Session, customer_ids: Iterable[uuid.UUID], now: datetime
) -> dict[uuid.UUID, Row]:
    """Read what the score needs about each customer: health, tenure, sentiment, recent asks."""
    params = {"customers": list(customer_ids), "since": now - timedelta(days=90)}
    return {row.id: row for row in session.execute(SCORE_SIGNALS, params)}


def similar_wins(*, session: Session, facts: Iterable[RecordFacts]) -> Counter:
    """Count the repository's wins per (industry, use case) of these wins."""
    industries = sorted({f.industry for f in facts})
    rows = session.execute(SIMILAR_WINS, {"industries": industries})
    return Counter({(row.industry, row.use_case): row.wins for row in rows})


def score_win(*, facts: RecordFacts, signals: Row, similar: int, now: datetime) -> marketing.Score:
    """Score a documented win's marketing potential: the score, its reasons and candidates."""
    money = float(facts.achieved) if facts.is_money and facts.achieved is not None else None
    inputs = marketing.ScoreInputs(
        improvement=facts.improvement,
        beyond_target=facts.beyond_target,
        money_value=money,
        goal_type=facts.goal_type,
        nps=signals.nps,
        csat=signals.csat,
        health=float(signals.health_score) if signals.health_score is not None else None,
        customer_since=signals.customer_since,
        as_of=now.date(),
        quote_ready=bool(facts.quotes),
        any_comment=signals.any_comment,
        similar_wins=similar,
        consent=facts.consent_level,
        asks_last_90_days=signals.asks,
    )
    return marketing.score(inputs)
