"""Deliver due outbox rows: claim a batch, call the integration, record each result.

While a worker goes through its batch it renews the lease of the rows it has not finished once
half of it is gone (`RENEW_AFTER`), before the next send; a row that another worker took over
meanwhile is skipped, so a batch that outlives its lease never sends a row twice. A single send
must finish within the other half (Slack and Google time out after 10 s; the lease is 300 s).
Once the time budget is spent, the rows not started yet go back to the queue at once. Results:
"sent", "failed", "dead", "not_configured", "lost" (another worker had taken the row over) and
"released" (given back unstarted).
"""

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from core.db import get_engine
from core.integrations import dispatch
from core.integrations.base import (
    Attempt,
    NotConfigured,
    PermanentError,
    Superseded,
    TransientError,
)
from core.outbox import service
from core.outbox.models import Delivery

log = logging.getLogger("outbox")

# `deliver(channel, payload, attempt=Attempt(...))` -> external reference (dispatch.deliver)
DeliverFn = Callable[..., str]
RENEW_AFTER = 0.5  # share of the lease after which the rest of a batch is renewed


def worker_name() -> str:
    """Name this worker for the claimed_by column."""
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_due(
    *,
    on_sent: service.SentHandlers,
    factory: sessionmaker[Session] | None = None,
    deliver: DeliverFn | None = None,
    configured: Callable[[], dict[str, bool]] | None = None,
    worker: str | None = None,
    batch: int = 100,
    time_budget: float = 50.0,
    lease_seconds: float | None = None,
) -> dict[str, int]:
    """Deliver everything due now (within `time_budget` seconds); return counts by result.

    `on_sent` maps (related type, channel) to the domain handler that records the delivery's
    reference on its business row; the jobs process passes the whole table. `lease_seconds`
    (default `service.LEASE_SECONDS`) must outlast the slowest single delivery.
    """
    factory = factory or sessionmaker(bind=get_engine(), expire_on_commit=False)
    deliver = deliver or dispatch.deliver
    worker = worker or worker_name()
    lease = lease_seconds or service.LEASE_SECONDS
    counts: Counter[str] = Counter()
    with factory.begin() as session:
        counts["requeued"] = service.requeue_configured(
            session=session, configured=(configured or dispatch.configured)()
        )
    deadline = time.monotonic() + time_budget
    while time.monotonic() < deadline:
        leased_at = time.monotonic()  # before the claim: the lease surely ends after it + lease
        with factory.begin() as session:
            claimed = service.claim(
                session=session, worker=worker, limit=batch, lease_seconds=lease
            )
        if not claimed:
            break
        ours = {d.id for d in claimed}
        for index, delivery in enumerate(claimed):
            if index and time.monotonic() >= deadline:  # spent: others may take the rest
                with factory.begin() as session:
                    counts["released"] += service.release(
                        session=session, deliveries=[d for d in claimed[index:] if d.id in ours]
                    )
                break
            if time.monotonic() - leased_at > lease * RENEW_AFTER:
                renewed_at = time.monotonic()
                with factory.begin() as session:
                    ours = service.renew(
                        session=session,
                        deliveries=[d for d in claimed[index:] if d.id in ours],
                        lease_seconds=lease,
                    )
                leased_at = renewed_at
            if delivery.id not in ours:
                log.info("delivery %s was taken over by another worker; skipped", delivery.id)
                counts["lost"] += 1
                continue
            counts[_deliver_one(factory, deliver, delivery, on_sent)] += 1
    return {k: v for k, v in counts.items() if v}


def _deliver_one(
    factory: sessionmaker[Session],
    deliver: DeliverFn,
    delivery: Delivery,
    on_sent: service.SentHandlers,
) -> str:
    if delivery.attempts > delivery.max_attempts:  # the last attempts never finished (died)
        error = f"gave up: {delivery.max_attempts} attempts did not finish"
        return _outcome(_record(factory, service.mark_permanent, delivery, error=error))

    def keep_draft(draft_id: str) -> None:
        if not _durable(factory, service.keep_draft, delivery, draft_id=draft_id):
            raise Superseded(f"delivery {delivery.id} was taken over by another worker")

    attempt = Attempt(
        key=delivery.idempotency_key,
        tried_since=service.tried_before(delivery),
        draft_id=delivery.gmail_draft_id,
        keep_draft=keep_draft,
    )
    try:
        ref = deliver(delivery.channel.value, delivery.payload, attempt=attempt)
    except Superseded:
        log.info("delivery %s was taken over by another worker; stopped", delivery.id)
        return "lost"
    except NotConfigured as exc:
        return _outcome(_record(factory, service.mark_not_configured, delivery, error=str(exc)))
    except PermanentError as exc:
        error = f"{exc.code}: {exc}" if exc.code else str(exc)
        return _outcome(_record(factory, service.mark_permanent, delivery, error=error))
    except TransientError as exc:
        error = f"{exc.code}: {exc}" if exc.code else str(exc)
        status = _record(
            factory, service.mark_transient, delivery, error=error, retry_after=exc.retry_after
        )
        return _outcome(status)
    except Exception as exc:  # an unexpected bug: keep it visible and retry like a transient fault
        log.exception("delivery %s raised", delivery.id)
        status = _record(
            factory, service.mark_transient, delivery, error=f"{type(exc).__name__}: {exc}"
        )
        return _outcome(status)
    status = _record(factory, service.mark_sent, delivery, external_ref=str(ref), on_sent=on_sent)
    if status is None:  # sent, but the row is another worker's now: it will find the message
        log.warning("delivery %s was sent after its claim was lost", delivery.id)
    return _outcome(status)


def _outcome(status) -> str:
    return status.value if status is not None else "lost"


def _record(factory, mark, delivery, **kwargs):
    """Record an attempt's result; a result lost with the server is found again on retry."""
    with factory.begin() as session:
        service.fast_commit(session)
        return mark(session=session, delivery=delivery, **kwargs)


def _durable(factory, step, delivery, **kwargs):
    """Commit, flushed to disk, what must be known before anything is sent (a draft id)."""
    with factory.begin() as session:
        return step(session=session, delivery=delivery, **kwargs)
