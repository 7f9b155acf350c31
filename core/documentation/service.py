"""Document each new win: record, repository entry, score, timeline, announcement, email draft.

Runs in the job cycle right after detection, which has committed by then: documenting never holds
detection back. Each win is documented in its own savepoint, so a win is never half-recorded (its
success record, repository entry, timeline line, Slack announcement, Google Doc and email draft
commit together or not at all) and one win that cannot be documented (say its email subject
breaks a rule) is recorded as failed with its reason (`core.audit.failures`, shown on the System
page) while the others are documented. It stays verified without a record, so the next run tries
it again; the failure is cleared once it is documented.
"""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.service import person
from core.audit.failures import batch
from core.base import Role
from core.customers.models import TimelineEvent
from core.documentation.announce import announce
from core.documentation.email import draft_congratulations
from core.goals.models import Achievement, AchievementStatus, Goal
from core.goals.service import confirm_achievement
from core.marketing.service import score_win
from core.records import render
from core.records.facts import gather
from core.records.models import SuccessRecord
from core.repository.consent import templated
from core.repository.models import RepositoryEntry

PENDING_DOCUMENTATION = (
    select(Achievement.id)
    .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
    .where(Achievement.status == AchievementStatus.VERIFIED, SuccessRecord.id.is_(None))
    .order_by(Achievement.achieved_at)
)
ITEM = "win"  # a verified win to document (job_item_failures.item_type)

# Goals met when they started are neither wins nor misses: they stay out of both counts.
GOAL_ATTAINMENT = text(
    """
    INSERT INTO health_factors (id, customer_id, factor, score, weight, details, source, updated_at)
    SELECT gen_random_uuid(), g.customer_id, 'goal_attainment',
           round(100.0 * count(*) FILTER (WHERE g.status = 'achieved')
                 / nullif(count(*) FILTER (WHERE g.tracked), 0), 2),
           1,
           jsonb_build_object('achieved', count(*) FILTER (WHERE g.status = 'achieved'),
                              'tracked', count(*) FILTER (WHERE g.tracked)),
           'goal_detection', now()
    FROM (SELECT customer_id, status, status NOT IN ('cancelled', 'met_at_start') AS tracked
          FROM goals WHERE customer_id = ANY(:customers)) g
    GROUP BY g.customer_id
    HAVING count(*) FILTER (WHERE g.tracked) > 0
    ON CONFLICT (customer_id, factor) DO UPDATE
      SET score = EXCLUDED.score, details = EXCLUDED.details, updated_at = now()
    """
)


def document_pending(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Document every verified achievement without a success record, each on its own."""
    now = now or datetime.now(UTC)
    ids = list(session.scalars(PENDING_DOCUMENTATION))
    customers = set()
    with batch(session, ITEM) as wins:
        for achievement_id in ids:
            with wins.item(achievement_id):
                customers.add(document(session=session, achievement_id=achievement_id, now=now))
    if customers:
        session.execute(GOAL_ATTAINMENT, {"customers": list(customers)})
    return {"documented": len(ids) - len(wins.failed)}


def document(*, session: Session, achievement_id: uuid.UUID, now: datetime) -> uuid.UUID:
    """Write the record, entry, score, timeline line and outbox rows of one achievement."""
    facts = gather(session=session, achievement_id=achievement_id)
    achievement = session.get(Achievement, achievement_id)
    record = SuccessRecord(
        achievement_id=achievement_id,
        title=render.title(facts),
        summary=render.summary(facts),
        sections=facts.as_dict(),
        markdown=render.markdown(facts),
        written_at=now,
    )
    session.add(record)
    goal = session.get(Goal, achievement.goal_id)
    score_win(session=session, facts=facts, achievement=achievement, now=now)
    session.add(
        RepositoryEntry(
            achievement_id=achievement_id,
            customer_id=achievement.customer_id,
            # Name-free: the name is filled in when read, so renames and consent apply at once.
            title=templated(render.title(facts), facts.customer_name),
            snippet=templated(render.summary(facts), facts.customer_name),
            industry=facts.industry,
            use_case=facts.use_case,
            products=facts.products,
            goal_type=goal.type,
            value_amount=facts.achieved,
            value_unit=facts.unit,
            achieved_on=facts.achieved_at.date(),
            consent_level=facts.consent_level,
        )
    )
    session.add(
        TimelineEvent(
            customer_id=achievement.customer_id,
            occurred_at=facts.achieved_at,
            kind="goal_achieved",
            title=f"Goal achieved: {facts.goal_name}",
            body=render.summary(facts),
            related_type="achievement",
            related_id=achievement_id,
        )
    )
    session.flush()
    announce(session=session, facts=facts, record=record)
    draft_congratulations(session=session, facts=facts, achievement=achievement, goal=goal)
    return achievement.customer_id


def confirm_win(
    *,
    session: Session,
    goal_id: uuid.UUID,
    actor: User,
    note: str,
    achieved_value: Decimal | None = None,
    achieved_at: datetime | None = None,
    evidence: dict | None = None,
) -> Achievement:
    """Record a person's confirmation of a win, then document it in the same transaction."""
    achievement = confirm_achievement(
        session=session,
        goal_id=goal_id,
        actor=actor,
        note=note,
        achieved_value=achieved_value,
        achieved_at=achieved_at,
        evidence=evidence,
    )
    document(session=session, achievement_id=achievement.id, now=datetime.now(UTC))
    return achievement


CONFIRMERS = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})


def confirm_pending(
    *,
    session: Session,
    goal_id: uuid.UUID,
    actor_email: str,
    note: str,
    achieved_value: Decimal | None = None,
) -> uuid.UUID:
    """Confirm a held win or a custom goal as the signed-in person; return the achievement id."""
    actor = person(
        session=session,
        email=actor_email,
        roles=CONFIRMERS,
        field="Confirmer",
        action="confirm wins",
    )
    achievement = confirm_win(
        session=session, goal_id=goal_id, actor=actor, note=note, achieved_value=achieved_value
    )
    return achievement.id
