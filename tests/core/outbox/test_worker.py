"""The worker against a scripted integration: results, retries, dead letters, crashes, races."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from core.db import get_engine, session_scope
from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.outbox import service
from core.outbox.models import Delivery, DeliveryStatus
from core.outbox.worker import deliver_due
from jobs.outbox import SENT_HANDLERS

ALL_CONFIGURED = {c: True for c in ("slack_message", "gmail")}


def _add(n=1, channel="slack_message", prefix="k"):
    with session_scope() as session:
        for i in range(n):
            service.enqueue(
                session=session, channel=channel, payload={"n": i}, idempotency_key=f"{prefix}{i}"
            )


def _rows():
    with session_scope() as session:
        return {d.idempotency_key: d for d in session.scalars(select(Delivery))}


def _run(deliver, **kwargs):
    kwargs.setdefault("configured", lambda: ALL_CONFIGURED)
    return deliver_due(on_sent=SENT_HANDLERS, deliver=deliver, **kwargs)


def test_sends_each_due_delivery_once_and_keeps_the_reference(scratch_db):
    _add(3)
    calls = []
    result = _run(lambda ch, p: calls.append(p["n"]) or f"ts-{p['n']}")
    assert result == {"sent": 3}
    assert sorted(calls) == [0, 1, 2]
    rows = _rows()
    assert {d.status for d in rows.values()} == {DeliveryStatus.SENT}
    assert rows["k1"].external_ref == "ts-1" and rows["k1"].sent_at is not None
    assert _run(lambda ch, p: calls.append("again")) == {}


def test_transient_failure_backs_off_honouring_retry_after(scratch_db):
    _add(1)

    def busy(ch, p):
        raise TransientError("slow down", code="ratelimited", retry_after=120)

    assert _run(busy) == {"failed": 1}
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert row.last_error == "ratelimited: slow down"
    assert row.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=110)
    assert _run(lambda ch, p: "never") == {}  # not due yet


def test_transient_then_success(scratch_db):
    _add(1)
    _run(lambda ch, p: (_ for _ in ()).throw(TransientError("500")))
    with session_scope() as session:
        session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
    assert _run(lambda ch, p: "ts-ok") == {"sent": 1}
    row = _rows()["k0"]
    assert (row.status, row.attempts, row.external_ref) == (DeliveryStatus.SENT, 2, "ts-ok")


def test_permanent_failure_dead_letters_at_once(scratch_db):
    _add(1)

    def bad(ch, p):
        raise PermanentError("channel not found", code="channel_not_found")

    assert _run(bad) == {"dead": 1}
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.DEAD and row.last_error.startswith("channel_not_found")


def test_dead_letter_after_max_attempts(scratch_db):
    _add(1)
    with session_scope() as session:
        session.execute(update(Delivery).values(max_attempts=2))
    for _ in range(2):
        _run(lambda ch, p: (_ for _ in ()).throw(TransientError("timeout")))
        with session_scope() as session:
            session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.DEAD and row.last_error == "gave up: timeout"


def test_not_configured_parks_then_sends_when_configured(scratch_db):
    _add(1)

    def unconfigured(ch, p):
        raise NotConfigured("Slack is not configured")

    assert _run(unconfigured, configured=lambda: {}) == {"not_configured": 1}
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.NOT_CONFIGURED and row.attempts == 0
    assert _run(lambda ch, p: "ts", configured=lambda: {}) == {}
    assert _run(lambda ch, p: "ts") == {"requeued": 1, "sent": 1}


def test_killed_worker_is_not_lost(scratch_db):
    """A worker that dies after claiming leaves the row in progress; it is delivered later."""
    _add(1)
    factory = sessionmaker(bind=get_engine())
    with factory.begin() as session:
        [claimed] = service.claim(session=session, worker="doomed", limit=1)
    assert _run(lambda ch, p: "ts") == {}  # still leased
    with session_scope() as session:
        session.execute(
            update(Delivery).values(
                claimed_at=datetime.now(UTC) - timedelta(seconds=service.LEASE_SECONDS + 1)
            )
        )
    assert _run(lambda ch, p: "ts-late") == {"sent": 1}
    row = _rows()["k0"]
    assert row.external_ref == "ts-late" and row.attempts == 2


def test_two_concurrent_workers_never_send_the_same_row(scratch_db):
    _add(200)
    sent = Counter()
    lock = threading.Lock()

    def deliver(ch, p):
        with lock:
            sent[p["n"]] += 1
        return "ts"

    results = []
    threads = [
        threading.Thread(target=lambda w=w: results.append(_run(deliver, worker=w, batch=7)))
        for w in ("w1", "w2")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == list(range(200))
    assert set(sent.values()) == {1}
    assert sum(r.get("sent", 0) for r in results) == 200
    claimed_by = Counter(d.claimed_by for d in _rows().values())
    assert claimed_by == {None: 200}
