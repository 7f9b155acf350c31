"""Enqueue many deliveries at once, in the caller's transaction, as `enqueue` does one by one."""

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.audit.bulk import insert_rows
from core.errors import Invalid
from core.outbox.models import Channel, Delivery, DeliveryStatus


def delivery(
    *,
    channel: Channel | str,
    payload: dict,
    idempotency_key: str,
    related_type: str | None = None,
    related_id: uuid.UUID | None = None,
    max_attempts: int = 8,
) -> dict:
    """Return the row of one delivery to enqueue (checked as `enqueue` checks it)."""
    if not idempotency_key:
        raise Invalid("A delivery needs an idempotency key.")
    return {
        "id": uuid.uuid4(),
        "channel": Channel(channel),
        "status": DeliveryStatus.PENDING,
        "payload": payload,
        "idempotency_key": idempotency_key,
        "related_type": related_type,
        "related_id": related_id,
        "max_attempts": max_attempts,
    }


def enqueue_many(*, session: Session, deliveries: Sequence[dict]) -> None:
    """Add deliveries made by `delivery`; a key that already exists keeps its delivery."""
    insert_rows(session, Delivery.__table__, deliveries, skip_conflicts_on=["idempotency_key"])
