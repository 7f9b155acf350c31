"""Write deliveries with the change that causes them; claim, deliver, retry and dead-letter them.

Exactly once in effect. A claim counts an attempt for each row it takes and gives it a fresh
`claim_token`, a lease (`lease_until`) and, on its first claim, `first_tried_at` (from then on the
message may exist at the provider, so a retry looks before it sends). While a worker goes
through its batch it renews the lease of the rows it has not finished (`renew`), and a row whose
lease had lapsed and that another worker took over is skipped. Every write that finishes an
attempt (`mark_*`, `keep_draft`, `release`) checks the token, so a worker that lost its claim
never marks the row, and the domain's "on sent" handler runs only for the row's owner.
"""

import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.audit.service import record_audit
from core.errors import Invalid, NotFound
from core.outbox.models import Channel, Delivery, DeliveryStatus

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600
LEASE_SECONDS = 300
RETRYABLE_BY_PERSON = (DeliveryStatus.DEAD, DeliveryStatus.FAILED, DeliveryStatus.NOT_CONFIGURED)

# `fn(session, related_id, external_ref)`: records a delivery's reference on a business row.
SentHandler = Callable[[Session, uuid.UUID, str], None]
SentHandlers = Mapping[tuple[str, Channel], SentHandler]


def enqueue(
    *,
    session: Session,
    channel: Channel | str,
    payload: dict,
    idempotency_key: str,
    related_type: str | None = None,
    related_id: uuid.UUID | None = None,
    max_attempts: int = 8,
) -> uuid.UUID | None:
    """Add a delivery in the caller's transaction; return its id, or None if the key exists."""
    if not idempotency_key:
        raise Invalid("A delivery needs an idempotency key.")
    stmt = (
        insert(Delivery)
        .values(
            id=uuid.uuid4(),
            channel=Channel(channel),
            payload=payload,
            idempotency_key=idempotency_key,
            related_type=related_type,
            related_id=related_id,
            max_attempts=max_attempts,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Delivery.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def claim(
    *, session: Session, worker: str, limit: int = 100, lease_seconds: float | None = None
) -> list[Delivery]:
    """Claim due deliveries (and ones whose lease lapsed) so no other worker takes them."""
    lease = timedelta(seconds=lease_seconds or LEASE_SECONDS)
    due = (
        select(Delivery.id)
        .where(
            (
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED])
                & (Delivery.next_attempt_at <= func.now())
            )
            | (
                (Delivery.status == DeliveryStatus.IN_PROGRESS)
                & (Delivery.lease_until < func.now())
            )
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            status=DeliveryStatus.IN_PROGRESS,
            claimed_at=func.now(),
            claimed_by=worker,
            claim_token=func.gen_random_uuid(),
            lease_until=func.now() + lease,
            attempts=Delivery.attempts + 1,
            first_tried_at=func.coalesce(Delivery.first_tried_at, func.now()),
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    rows = list(session.scalars(stmt))
    rows.sort(key=lambda d: d.next_attempt_at)
    return rows


def tried_before(delivery: Delivery) -> datetime | None:
    """When an earlier claim first took the row (it may have been sent then), else None."""
    first = delivery.first_tried_at
    return first if first is not None and first != delivery.claimed_at else None


def _ours(delivery: Delivery):
    """The rows of `delivery` still under this worker's claim."""
    return (
        (Delivery.id == delivery.id)
        & (Delivery.claim_token == delivery.claim_token)
        & (Delivery.status == DeliveryStatus.IN_PROGRESS)
    )


def _all_ours(deliveries: list[Delivery]):
    return tuple_(Delivery.id, Delivery.claim_token).in_(
        [(d.id, d.claim_token) for d in deliveries]
    ) & (Delivery.status == DeliveryStatus.IN_PROGRESS)


def renew(
    *, session: Session, deliveries: list[Delivery], lease_seconds: float | None = None
) -> set[uuid.UUID]:
    """Extend the lease of claimed rows; return the ids still ours (others were taken over)."""
    if not deliveries:
        return set()
    lease = timedelta(seconds=lease_seconds or LEASE_SECONDS)
    kept = session.execute(
        update(Delivery)
        .where(_all_ours(deliveries))
        .values(lease_until=func.now() + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return set(kept.scalars())


def keep_draft(*, session: Session, delivery: Delivery, draft_id: str) -> bool:
    """Store the Gmail draft created for the delivery; False when the claim was lost."""
    kept = session.execute(
        update(Delivery)
        .where(_ours(delivery))
        .values(gmail_draft_id=draft_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return kept == 1


def release(*, session: Session, deliveries: list[Delivery]) -> int:
    """Give claimed rows that were never started back to the queue, due at once, attempt back."""
    if not deliveries:
        return 0
    never_tried = Delivery.first_tried_at == Delivery.claimed_at
    return session.execute(
        update(Delivery)
        .where(_all_ours(deliveries))
        .values(
            status=DeliveryStatus.PENDING,
            claimed_by=None,
            claim_token=None,
            lease_until=None,
            next_attempt_at=func.now(),
            attempts=Delivery.attempts - 1,
            first_tried_at=case((never_tried, None), else_=Delivery.first_tried_at),
        )
        .execution_options(synchronize_session=False)
    ).rowcount


def backoff_seconds(attempt: int, retry_after: float | None = None, rng=random) -> float:
    """Exponential backoff with full jitter, never sooner than the provider's Retry-After."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0)


def mark_sent(
    *, session: Session, delivery: Delivery, external_ref: str, on_sent: SentHandlers
) -> DeliveryStatus | None:
    """Record a successful delivery and its external reference (also on the business row).

    Returns None, and records nothing, when the claim was lost.
    """
    if not _finish(session, delivery, DeliveryStatus.SENT, error=None, ref=external_ref, sent=True):
        return None
    handler = on_sent.get((delivery.related_type or "", Channel(delivery.channel)))
    if handler is not None and delivery.related_id is not None:
        handler(session, delivery.related_id, external_ref)
    return DeliveryStatus.SENT


def mark_transient(
    *, session: Session, delivery: Delivery, error: str, retry_after: float | None = None
) -> DeliveryStatus | None:
    """Schedule another attempt, or dead-letter once the attempts are used up (None: lost)."""
    if delivery.attempts >= delivery.max_attempts:
        status, error, wait = DeliveryStatus.DEAD, f"gave up: {error}", None
    else:
        status, wait = DeliveryStatus.FAILED, backoff_seconds(delivery.attempts, retry_after)
    return status if _finish(session, delivery, status, error=error, next_in=wait) else None


def mark_permanent(*, session: Session, delivery: Delivery, error: str) -> DeliveryStatus | None:
    """Dead-letter at once: retrying cannot help until a person fixes something (None: lost)."""
    return (
        DeliveryStatus.DEAD
        if _finish(session, delivery, DeliveryStatus.DEAD, error=error)
        else None
    )


def mark_not_configured(
    *, session: Session, delivery: Delivery, error: str
) -> DeliveryStatus | None:
    """Park the delivery until its integration is configured (not counted as an attempt)."""
    status = DeliveryStatus.NOT_CONFIGURED
    return status if _finish(session, delivery, status, error=error, attempts_back=True) else None


def _finish(
    session, delivery, status, *, error, ref=None, sent=False, next_in=None, attempts_back=False
) -> bool:
    """Finish the attempt if the row is still ours (same claim token); return whether it was."""
    values = {
        "status": status,
        "last_error": error,
        "claimed_by": None,
        "claim_token": None,
        "lease_until": None,
    }
    if ref is not None:
        values["external_ref"] = ref
    if sent:
        values["sent_at"] = func.now()
    if next_in is not None:
        values["next_attempt_at"] = func.now() + timedelta(seconds=next_in)
    if attempts_back:
        values["attempts"] = Delivery.attempts - 1
    done = session.execute(
        update(Delivery)
        .where(_ours(delivery))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return done == 1


def requeue_configured(*, session: Session, configured: dict[str, bool]) -> int:
    """Send again the deliveries that waited for an integration that is now configured."""
    channels = [Channel(c) for c, ok in configured.items() if ok]
    if not channels:
        return 0
    result = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.NOT_CONFIGURED, Delivery.channel.in_(channels))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=func.now(), last_error=None)
    )
    return result.rowcount


def retry(*, session: Session, delivery_id: uuid.UUID, actor: str, actor_user_id=None) -> Delivery:
    """Let a person send a dead, failed or parked delivery again, with fresh attempts."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    if delivery.status not in RETRYABLE_BY_PERSON:
        raise Invalid(
            "Only dead, failed or not-configured deliveries can be retried "
            f"(this one is {delivery.status})."
        )
    before = delivery.status
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = datetime.now(UTC)
    session.flush()
    record_audit(
        session=session,
        actor=actor,
        actor_user_id=actor_user_id,
        action="delivery.retry",
        entity_type="delivery",
        entity_id=delivery.id,
        changes={"status": [before, "pending"]},
    )
    return delivery


def queue_summary(*, session: Session) -> list[dict]:
    """Count deliveries per channel and status."""
    rows = session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .group_by(Delivery.channel, Delivery.status)
        .order_by(Delivery.channel, Delivery.status)
    )
    return [{"channel": c.value, "status": s.value, "count": n} for c, s, n in rows]


def list_deliveries(
    *,
    session: Session,
    statuses: list[str] | None = None,
    channel: str | None = None,
    limit: int = 200,
) -> list[Delivery]:
    """Return recent deliveries, optionally only some statuses or one channel."""
    stmt = select(Delivery).order_by(Delivery.updated_at.desc()).limit(limit)
    if statuses:
        stmt = stmt.where(Delivery.status.in_([DeliveryStatus(s) for s in statuses]))
    if channel:
        stmt = stmt.where(Delivery.channel == Channel(channel))
    return list(session.scalars(stmt))


def fast_commit(session: Session) -> None:
    """Skip the fsync wait for delivery bookkeeping: a lost row is re-sent, never lost."""
    session.execute(text("SET LOCAL synchronous_commit = off"))


def retry_many(
    *, session: Session, delivery_ids: list[uuid.UUID], actor: str, actor_user_id=None
) -> int:
    """Retry several deliveries in one transaction (all or none); return how many."""
    for delivery_id in delivery_ids:
        retry(session=session, delivery_id=delivery_id, actor=actor, actor_user_id=actor_user_id)
    return len(delivery_ids)
