"""Document each new win: record, repository entry, score, timeline, announcement, email draft.

Runs in the job cycle right after detection, which has committed by then: documenting never holds
detection back. Wins are documented a chunk at a time with a few set-based statements
(`core.documentation.bulk`), yet each on its own terms: a win is never half-recorded (its success
record, repository entry, timeline line, Slack announcement, Google Doc and email draft commit
together or not at all) and one win that cannot be documented (say its email subject breaks a
rule) is recorded as failed with its reason (`core.audit.failures`, shown on the System page)
while the others are documented. It stays verified without a record, so the next run tries it
again; the failure is cleared once it is documented.
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.service import person
from core.audit.failures import Batch, batch, chunks, fatal, reason_for
from core.base import Role
from core.documentation import bulk
from core.goals.models import Achievement, AchievementStatus
from core.goals.service import confirm_achievement
from core.records.models import SuccessRecord

log = logging.getLogger("jobs.documentation")

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
    """Document every verified achievement without a success record, a chunk at a time."""
    now = now or datetime.now(UTC)
    ids = list(session.scalars(PENDING_DOCUMENTATION))
    customers: set[uuid.UUID] = set()
    with batch(session, ITEM) as wins:
        if ids:
            shared = _shared(session, ids, wins)
            for part in chunks(ids):
                customers |= _document_chunk(session, shared, part, now, wins)
    if customers:
        session.execute(GOAL_ATTAINMENT, {"customers": list(customers)})
    return {"documented": len(ids) - len(wins.failed)}


def _shared(session: Session, ids: list[uuid.UUID], wins: Batch) -> bulk.Shared | None:
    """Read what the pass's wins share; None (each win on its own) if that read fails."""
    try:
        with session.begin_nested():
            return bulk.read_shared(session=session, achievement_ids=ids)
    except Exception as exc:
        if fatal(exc):
            raise
        log.warning("documenting wins one by one: %s", reason_for(exc))
        return None


def _document_chunk(
    session: Session,
    shared: bulk.Shared | None,
    ids: Sequence[uuid.UUID],
    now: datetime,
    wins: Batch,
) -> set[uuid.UUID]:
    """Document a chunk of wins together; a win that fails is recorded and the others go on.

    A win that cannot be prepared (say its email subject breaks a rule) fails on its own. When
    writing the chunk fails, each of its wins is written again in its own savepoint, and when
    reading it fails, each is read and written on its own: only the win at fault fails.
    """
    reads = None
    if shared is not None:
        try:
            with session.begin_nested():
                reads = bulk.read(session=session, shared=shared, achievement_ids=ids, now=now)
        except Exception as exc:
            if fatal(exc):
                raise
            log.warning("documenting a chunk of wins one by one: %s", reason_for(exc))
    if reads is None:
        customers = set()
        for achievement_id in ids:
            with wins.item(achievement_id):
                customers.add(document(session=session, achievement_id=achievement_id, now=now))
        return customers
    ready, failing = [], []
    for achievement_id in ids:
        with wins.item(achievement_id, savepoint=False):
            win = bulk.prepare(reads, achievement_id, now)
            (failing if win.error else ready).append(win)
    for win in failing:  # on its own, so it fails with the reason documenting it alone gives
        with wins.item(win.achievement_id):
            bulk.write(session=session, wins=[win], now=now)
    wins.chunked(
        ready,
        lambda part: bulk.write(session=session, wins=part, now=now),
        key=lambda win: win.achievement_id,
    )
    return {win.customer_id for win in ready if wins.ok(win.achievement_id)}


def document(*, session: Session, achievement_id: uuid.UUID, now: datetime) -> uuid.UUID:
    """Write the record, entry, score, timeline line and outbox rows of one achievement."""
    ids = [achievement_id]
    shared = bulk.read_shared(session=session, achievement_ids=ids)
    reads = bulk.read(session=session, shared=shared, achievement_ids=ids, now=now)
    win = bulk.prepare(reads, achievement_id, now)
    bulk.write(session=session, wins=[win], now=now)
    return win.customer_id


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
