"""The worker against a scripted integration: results, retries, dead letters, crashes, races."""

import threading
import time
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
    result = _run(lambda ch, p, **_: calls.append(p["n"]) or f"ts-{p['n']}")
    assert result == {"sent": 3}
    assert sorted(calls) == [0, 1, 2]
    rows = _rows()
    assert {d.status for d in rows.values()} == {DeliveryStatus.SENT}
    assert rows["k1"].external_ref == "ts-1" and rows["k1"].sent_at is not None
    assert _run(lambda ch, p, **_: calls.append("again")) == {}


def test_transient_failure_backs_off_honouring_retry_after(scratch_db):
    _add(1)

    def busy(ch, p, **_):
        raise TransientError("slow down", code="ratelimited", retry_after=120)

    assert _run(busy) == {"failed": 1}
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert row.last_error == "ratelimited: slow down"
    assert row.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=110)
    assert _run(lambda ch, p, **_: "never") == {}  # not due yet


def test_transient_then_success(scratch_db):
    _add(1)
    _run(lambda ch, p, **_: (_ for _ in ()).throw(TransientError("500")))
    with session_scope() as session:
        session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
    assert _run(lambda ch, p, **_: "ts-ok") == {"sent": 1}
    row = _rows()["k0"]
    assert (row.status, row.attempts, row.external_ref) == (DeliveryStatus.SENT, 2, "ts-ok")


def test_permanent_failure_dead_letters_at_once(scratch_db):
    _add(1)

    def bad(ch, p, **_):
        raise PermanentError("channel not found", code="channel_not_found")

    assert _run(bad) == {"dead": 1}
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.DEAD and row.last_error.startswith("channel_not_found")


def test_dead_letter_after_max_attempts(scratch_db):
    _add(1)
    with session_scope() as session:
        session.execute(update(Delivery).values(max_attempts=2))
    for _ in range(2):
        _run(lambda ch, p, **_: (_ for _ in ()).throw(TransientError("timeout")))
        with session_scope() as session:
            session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.DEAD and row.last_error == "gave up: timeout"


def test_not_configured_parks_then_sends_when_configured(scratch_db):
    _add(1)

    def unconfigured(ch, p, **_):
        raise NotConfigured("Slack is not configured")

    assert _run(unconfigured, configured=lambda: {}) == {"not_configured": 1}
    row = _rows()["k0"]
    assert row.status == DeliveryStatus.NOT_CONFIGURED and row.attempts == 0
    assert _run(lambda ch, p, **_: "ts", configured=lambda: {}) == {}
    assert _run(lambda ch, p, **_: "ts") == {"requeued": 1, "sent": 1}


def _lapse_leases():
    with session_scope() as session:
        session.execute(
            update(Delivery).values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_killed_worker_is_not_lost(scratch_db):
    """A worker that dies after claiming leaves the row in progress; it is delivered later."""
    _add(1)
    factory = sessionmaker(bind=get_engine(), expire_on_commit=False)
    with factory.begin() as session:
        [claimed] = service.claim(session=session, worker="doomed", limit=1)  # then it died
    assert _run(lambda ch, p, **_: "ts") == {}  # still leased
    _lapse_leases()
    attempts = []
    assert _run(lambda ch, p, attempt: attempts.append(attempt) or "ts-late") == {"sent": 1}
    row = _rows()["k0"]
    assert row.external_ref == "ts-late" and row.attempts == 2
    [attempt] = attempts
    assert attempt.key == "k0" and attempt.tried_since == claimed.claimed_at  # look before sending


def test_a_first_try_looks_nothing_up(scratch_db):
    _add(2)
    seen = []
    assert _run(lambda ch, p, attempt: seen.append(attempt.tried_since) or "ts") == {"sent": 2}
    assert seen == [None, None]


def test_a_row_whose_attempts_never_finish_is_dead_lettered(scratch_db):
    """A row that kills its worker every time does not loop forever."""
    _add(1)
    with session_scope() as session:
        session.execute(update(Delivery).values(max_attempts=2))
    factory = sessionmaker(bind=get_engine())
    for _ in range(2):
        with factory.begin() as session:
            service.claim(session=session, worker="doomed", limit=1)  # and died mid-send
        _lapse_leases()
    assert _run(lambda ch, p, **_: "never") == {"dead": 1}
    row = _rows()["k0"]
    assert row.last_error == "gave up: 2 attempts did not finish"


def test_a_batch_that_outlives_its_lease_sends_each_row_once(scratch_db):
    """The issue's 114 posts for 100 rows, scaled down: 12 rows of 0.25 s on a 1 s lease.

    The first worker renews the rest of its batch every half lease, so the second one, started
    once the first lease is over, finds nothing to take over."""
    _add(12)
    sent = Counter()
    lock = threading.Lock()

    def slow(ch, p, **_):
        time.sleep(0.25)
        with lock:
            sent[p["n"]] += 1
        return f"ts-{p['n']}"

    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("first", _run(slow, worker="w1", lease_seconds=1))
    )
    first.start()
    time.sleep(1.3)  # past w1's first lease
    results["second"] = _run(slow, worker="w2", lease_seconds=1)
    first.join()
    assert sorted(sent) == list(range(12)) and set(sent.values()) == {1}
    assert results == {"first": {"sent": 12}, "second": {}}
    assert {d.status for d in _rows().values()} == {DeliveryStatus.SENT}


def test_rows_taken_over_while_the_batch_went_on_are_skipped(scratch_db):
    """A worker that could not renew in time (paused, cut off) skips what others took over."""
    _add(4)
    calls = []

    def deliver(ch, p, **_):
        calls.append(p["n"])
        if len(calls) == 1:  # while the first row is sent, the rest of the batch is taken over
            with session_scope() as session:
                session.execute(
                    update(Delivery)
                    .where(Delivery.status == DeliveryStatus.IN_PROGRESS)
                    .where(Delivery.payload["n"].as_integer() != p["n"])
                    .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
                )
                service.claim(session=session, worker="thief", limit=10)
            time.sleep(0.6)  # past half of the 1 s lease: the worker renews before the next row
        return "ts"

    assert _run(deliver, lease_seconds=1) == {"sent": 1, "lost": 3}
    assert len(calls) == 1
    rows = _rows().values()
    assert sorted(d.claimed_by or "" for d in rows) == ["", "thief", "thief", "thief"]


def test_the_time_budget_gives_the_rest_of_the_batch_back(scratch_db):
    _add(5)

    def slow(ch, p, **_):
        time.sleep(0.2)
        return "ts"

    result = _run(slow, time_budget=0.3)
    assert result["sent"] in (1, 2) and result["released"] == 5 - result["sent"]  # 1: progress
    rows = _rows().values()
    released = [d for d in rows if d.status == DeliveryStatus.PENDING]
    assert len(released) == result["released"]
    assert all(d.attempts == 0 and d.claim_token is None for d in released)
    assert _run(lambda ch, p, **_: "ts") == {"sent": result["released"]}  # due at once


def test_two_concurrent_workers_never_send_the_same_row(scratch_db):
    _add(200)
    sent = Counter()
    lock = threading.Lock()

    def deliver(ch, p, **_):
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
