import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.audit.models import AuditEntry
from core.errors import Invalid, NotFound
from core.outbox import service
from core.outbox.models import Channel, Delivery, DeliveryStatus


def _enqueue(session, key="k1", channel="slack_message"):
    return service.enqueue(
        session=session, channel=channel, payload={"text": "hi"}, idempotency_key=key
    )


def test_enqueue_is_idempotent_per_key(session):
    first = _enqueue(session)
    assert first is not None
    assert _enqueue(session) is None
    assert session.scalar(select(Delivery).where(Delivery.id == first)).status == "pending"


def test_enqueue_needs_a_key(session):
    with pytest.raises(Invalid):
        _enqueue(session, key="")


def test_claim_takes_due_rows_with_a_token_a_lease_and_counts_the_attempt(session):
    _enqueue(session, "a")
    _enqueue(session, "b")
    claimed = service.claim(session=session, worker="w1", limit=10)
    assert {d.idempotency_key for d in claimed} == {"a", "b"}
    assert all(d.status == DeliveryStatus.IN_PROGRESS and d.attempts == 1 for d in claimed)
    tokens = {d.claim_token for d in claimed}
    assert len(tokens) == 2 and None not in tokens
    assert all(d.lease_until > d.claimed_at for d in claimed)
    assert all(service.tried_before(d) is None for d in claimed)  # a first try
    assert service.claim(session=session, worker="w2", limit=10) == []


def _claim(session, **kwargs):
    """Claim like a worker: what it holds afterwards is a snapshot, not a live row."""
    claimed = service.claim(session=session, **kwargs)
    for delivery in claimed:
        session.expunge(delivery)
    return claimed


def _lapse(session, delivery):
    """Move the claim ten minutes back (the test runs in one transaction: one now())."""
    back = timedelta(minutes=10)
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(
            claimed_at=Delivery.claimed_at - back,
            first_tried_at=Delivery.first_tried_at - back,
            lease_until=func.now() - timedelta(seconds=1),
        )
    )
    delivery.claimed_at -= back


def _row(session):
    return session.scalar(select(Delivery).execution_options(populate_existing=True))


def test_a_worker_that_lost_its_claim_neither_renews_nor_marks_the_row(session):
    related = uuid.uuid4()
    service.enqueue(
        session=session,
        channel=Channel.GMAIL,
        payload={"text": "hi"},
        idempotency_key="k1",
        related_type="draft",
        related_id=related,
    )
    [first] = _claim(session, worker="slow", limit=1)
    _lapse(session, first)
    [second] = _claim(session, worker="fast", limit=1)
    assert second.claim_token != first.claim_token and second.attempts == 2
    assert service.tried_before(second) == first.claimed_at  # it may have been sent: look first

    handled = []
    on_sent = {("draft", Channel.GMAIL): lambda *args: handled.append(args)}
    assert service.renew(session=session, deliveries=[first]) == set()
    assert service.keep_draft(session=session, delivery=first, draft_id="r-1") is False
    assert (
        service.mark_sent(session=session, delivery=first, external_ref="x", on_sent=on_sent)
        is None
    )
    assert service.mark_transient(session=session, delivery=first, error="timeout") is None
    assert service.release(session=session, deliveries=[first]) == 0
    assert handled == []
    row = _row(session)
    assert (row.status, row.claimed_by, row.gmail_draft_id) == ("in_progress", "fast", None)

    assert service.renew(session=session, deliveries=[second], lease_seconds=600) == {second.id}
    assert _row(session).lease_until >= second.claimed_at + timedelta(seconds=599)
    assert service.keep_draft(session=session, delivery=second, draft_id="r-2") is True
    assert service.mark_sent(session=session, delivery=second, external_ref="m", on_sent=on_sent)
    assert handled == [(session, related, "m")]
    row = _row(session)
    assert (row.status, row.gmail_draft_id, row.claim_token) == ("sent", "r-2", None)


def test_release_gives_unstarted_rows_back_due_at_once(session):
    _enqueue(session, "a")
    _enqueue(session, "b")
    claimed = _claim(session, worker="w1", limit=10)
    assert service.release(session=session, deliveries=claimed) == 2
    again = service.claim(session=session, worker="w2", limit=10)
    assert {d.idempotency_key for d in again} == {"a", "b"}
    assert all(d.attempts == 1 for d in again)  # the released claim cost nothing
    assert all(service.tried_before(d) is None for d in again)


def test_backoff_grows_has_jitter_and_honours_retry_after():
    rng = random.Random(1)
    delays = [service.backoff_seconds(n, rng=rng) for n in range(1, 8)]
    assert all(b > a * 1.2 for a, b in zip(delays[:4], delays[1:5], strict=True))
    assert len({round(service.backoff_seconds(3, rng=rng), 3) for _ in range(5)}) > 1
    assert service.backoff_seconds(1, retry_after=600, rng=rng) == 600
    assert service.backoff_seconds(50, rng=rng) <= service.BACKOFF_CAP_SECONDS


def test_person_can_retry_dead_letters_and_it_is_audited(session):
    delivery_id = _enqueue(session)
    [delivery] = service.claim(session=session, worker="w", limit=1)
    service.mark_permanent(session=session, delivery=delivery, error="channel_not_found: no")
    session.expire_all()
    retried = service.retry(session=session, delivery_id=delivery_id, actor="admin@x")
    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 0)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(delivery_id)))
    assert entry.action == "delivery.retry" and entry.changes == {"status": ["dead", "pending"]}


def test_retry_refuses_sent_or_unknown(session):
    delivery_id = _enqueue(session)
    [delivery] = service.claim(session=session, worker="w", limit=1)
    service.mark_sent(session=session, delivery=delivery, external_ref="ts1", on_sent={})
    session.expire_all()
    with pytest.raises(Invalid, match="Only dead"):
        service.retry(session=session, delivery_id=delivery_id, actor="a")
    with pytest.raises(NotFound):
        service.retry(session=session, delivery_id=uuid.uuid4(), actor="a")


def test_summary_counts_by_channel_and_status(session):
    _enqueue(session, "a")
    _enqueue(session, "b", channel="gmail")
    summary = service.queue_summary(session=session)
    assert {"channel": "gmail", "status": "pending", "count": 1} in summary
    assert len(service.list_deliveries(session=session, statuses=["pending"])) == 2
