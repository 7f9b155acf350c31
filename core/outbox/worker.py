"""Deliver due outbox rows: claim a batch, call the integration, record each result."""

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from core.db import get_engine
from core.integrations import dispatch
from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.outbox import service
from core.outbox.models import Delivery

log = logging.getLogger("outbox")

DeliverFn = Callable[[str, dict], str]


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
) -> dict[str, int]:
    """Deliver everything due now (within `time_budget` seconds); return counts by result.

    `on_sent` maps (related type, channel) to the domain handler that records the delivery's
    reference on its business row; the jobs process passes the whole table.
    """
    factory = factory or sessionmaker(bind=get_engine(), expire_on_commit=False)
    deliver = deliver or dispatch.deliver
    worker = worker or worker_name()
    counts: Counter[str] = Counter()
    with factory.begin() as session:
        counts["requeued"] = service.requeue_configured(
            session=session, configured=(configured or dispatch.configured)()
        )
    deadline = time.monotonic() + time_budget
    while time.monotonic() < deadline:
        with factory.begin() as session:
            claimed = service.claim(session=session, worker=worker, limit=batch)
        if not claimed:
            break
        for delivery in claimed:
            counts[_deliver_one(factory, deliver, delivery, on_sent)] += 1
    return {k: v for k, v in counts.items() if v}


def _deliver_one(
    factory: sessionmaker[Session],
    deliver: DeliverFn,
    delivery: Delivery,
    on_sent: service.SentHandlers,
) -> str:
    try:
        ref = deliver(delivery.channel.value, delivery.payload)
    except NotConfigured as exc:
        return (
            _record(factory, service.mark_not_configured, delivery, error=str(exc))
            or "not_configured"
        )
    except PermanentError as exc:
        error = f"{exc.code}: {exc}" if exc.code else str(exc)
        return _record(factory, service.mark_permanent, delivery, error=error) or "dead"
    except TransientError as exc:
        error = f"{exc.code}: {exc}" if exc.code else str(exc)
        status = _record(
            factory, service.mark_transient, delivery, error=error, retry_after=exc.retry_after
        )
        return status.value if status else "failed"
    except Exception as exc:  # an unexpected bug: keep it visible and retry like a transient fault
        log.exception("delivery %s raised", delivery.id)
        status = _record(
            factory, service.mark_transient, delivery, error=f"{type(exc).__name__}: {exc}"
        )
        return status.value if status else "failed"
    _record(factory, service.mark_sent, delivery, external_ref=str(ref), on_sent=on_sent)
    return "sent"


def _record(factory, mark, delivery, **kwargs):
    with factory.begin() as session:
        service.fast_commit(session)
        return mark(session=session, delivery=delivery, **kwargs)
