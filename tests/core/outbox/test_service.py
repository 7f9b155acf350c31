import random

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.errors import Invalid, NotFound
from core.outbox import service
from core.outbox.models import Delivery, DeliveryStatus


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


def test_claim_takes_due_rows_and_counts_the_attempt(session):
    _enqueue(session, "a")
    _enqueue(session, "b")
    claimed = service.claim(session=session, worker="w1", limit=10)
    assert {d.idempotency_key for d in claimed} == {"a", "b"}
    assert all(d.status == DeliveryStatus.IN_PROGRESS and d.attempts == 1 for d in claimed)
    assert service.claim(session=session, worker="w2", limit=10) == []


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
    import uuid

    with pytest.raises(NotFound):
        service.retry(session=session, delivery_id=uuid.uuid4(), actor="a")


def test_summary_counts_by_channel_and_status(session):
    _enqueue(session, "a")
    _enqueue(session, "b", channel="gmail")
    summary = service.queue_summary(session=session)
    assert {"channel": "gmail", "status": "pending", "count": 1} in summary
    assert len(service.list_deliveries(session=session, statuses=["pending"])) == 2
