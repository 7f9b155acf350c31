"""Write deliveries with the change that causes them; claim, deliver, retry and dead-letter them."""

import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
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


def claim(*, session: Session, worker: str, limit: int = 100) -> list[Delivery]:
    """Claim due deliveries (and ones whose worker died) so no other worker takes them."""
    due = (
        select(Delivery.id)
        .where(
            (
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED])
                & (Delivery.next_attempt_at <= func.now())
            )
            | (
                (Delivery.status == DeliveryStatus.IN_PROGRESS)
                & (Delivery.claimed_at < func.now() - timedelta(seconds=LEASE_SECONDS))
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
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    rows = list(session.scalars(stmt))
    rows.sort(key=lambda d: d.next_attempt_at)
    return rows


def backoff_seconds(attempt: int, retry_after: float | None = None, rng=random) -> float:
    """Exponential backoff with full jitter, never sooner than the provider's Retry-After."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0)


def mark_sent(
    *, session: Session, delivery: Delivery, external_ref: str, on_sent: SentHandlers
) -> None:
    """Record a successful delivery and its external reference (also on the business row)."""
    _finish(session, delivery, DeliveryStatus.SENT, error=None, ref=external_ref, sent=True)
    handler = on_sent.get((delivery.related_type or "", Channel(delivery.channel)))
    if handler is not None and delivery.related_id is not None:
        handler(session, delivery.related_id, external_ref)


def mark_transient(
    *, session: Session, delivery: Delivery, error: str, retry_after: float | None = None
) -> DeliveryStatus:
    """Schedule another attempt, or dead-letter once the attempts are used up."""
    if delivery.attempts >= delivery.max_attempts:
        _finish(session, delivery, DeliveryStatus.DEAD, error=f"gave up: {error}")
        return DeliveryStatus.DEAD
    wait = backoff_seconds(delivery.attempts, retry_after)
    _finish(session, delivery, DeliveryStatus.FAILED, error=error, next_in=wait)
    return DeliveryStatus.FAILED


def mark_permanent(*, session: Session, delivery: Delivery, error: str) -> None:
    """Dead-letter at once: retrying cannot help until a person fixes something."""
    _finish(session, delivery, DeliveryStatus.DEAD, error=error)


def mark_not_configured(*, session: Session, delivery: Delivery, error: str) -> None:
    """Park the delivery until its integration is configured (not counted as an attempt)."""
    _finish(session, delivery, DeliveryStatus.NOT_CONFIGURED, error=error, attempts_back=True)


def _finish(
    session, delivery, status, *, error, ref=None, sent=False, next_in=None, attempts_back=False
):
    values = {"status": status, "last_error": error, "claimed_by": None}
    if ref is not None:
        values["external_ref"] = ref
    if sent:
        values["sent_at"] = func.now()
    if next_in is not None:
        values["next_attempt_at"] = func.now() + timedelta(seconds=next_in)
    if attempts_back:
        values["attempts"] = Delivery.attempts - 1
    # The claim is still ours only while claimed_at is unchanged (no one took over the lease).
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.claimed_at == delivery.claimed_at)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


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
