"""Churn, contraction and renewal events: stored once per source id, each with a timeline line.

Events come from the API (`POST /api/customers/{externalId}/events`, source "api") and from the
Salesforce sync (closed-lost renewals as churn, negative contract amendments as contraction,
source "salesforce"). `(source, source_id)` is unique: the same event sent again changes nothing,
a corrected one (other date, ARR change or note) updates the event and its timeline line, and a
source id already recorded for another customer is a conflict.

Rules: churn and contraction carry a negative ARR change (what was lost or given back), a renewal
zero or more (the uplift); the date may be at most a day ahead. A contraction may name the record
it gives back (`related_type`/`related_id`, e.g. the upsell an amendment shrinks); the timeline
line carries the same reference, which is what the upsell outcome rules read. An event whose line
already exists (a contract amendment's "upsell_contracted" line) passes its id and gets no second
line.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.audit.service import record_audit
from core.customers.models import Customer, CustomerEvent, CustomerEventKind, TimelineEvent
from core.customers.queries import customer_id_for
from core.customers.schemas import EVENT_KINDS, CustomerEventIn, CustomerEventOut
from core.errors import Conflict, Invalid
from core.formatting import money

API_SOURCE = "api"
FUTURE_TOLERANCE = timedelta(days=1)
_FIELDS = ("kind", "occurred_on", "arr_change", "note", "related_type", "related_id")


@dataclass(frozen=True)
class EventIn:
    """One event ready to store (validated with `check`)."""

    customer_id: uuid.UUID
    kind: CustomerEventKind
    occurred_on: date
    arr_change: Decimal
    source: str
    source_id: str
    note: str | None = None
    related_type: str | None = None
    related_id: uuid.UUID | None = None
    timeline_event_id: uuid.UUID | None = None  # an existing line that already tells it


def check(*, kind: str, arr_change: Decimal, occurred_on: date, today: date) -> CustomerEventKind:
    """Return the event kind, or Invalid naming the field that breaks a rule."""
    if kind not in EVENT_KINDS:
        raise Invalid(f"kind: must be one of {', '.join(EVENT_KINDS)}")
    kind = CustomerEventKind(kind)
    if kind == CustomerEventKind.CHURN and arr_change >= 0:
        raise Invalid("arrChange: must be negative for churn (the ARR the customer took away)")
    if kind == CustomerEventKind.CONTRACTION and arr_change >= 0:
        raise Invalid("arrChange: must be negative for a contraction (the ARR given back)")
    if kind == CustomerEventKind.RENEWAL and arr_change < 0:
        raise Invalid(
            "arrChange: must not be negative for a renewal; send the ARR given back as a "
            "contraction"
        )
    if occurred_on > today + FUTURE_TOLERANCE:
        raise Invalid("occurredOn: must not be more than a day in the future")
    return kind


def title(kind: CustomerEventKind, arr_change: Decimal) -> str:
    """Return the timeline line of an event, in plain words."""
    if kind == CustomerEventKind.CHURN:
        return f"Customer churned: {money(-arr_change)} ARR lost"
    if kind == CustomerEventKind.CONTRACTION:
        return f"Contraction: {money(-arr_change)} ARR given back"
    if arr_change > 0:
        return f"Renewed with {money(arr_change)} more ARR"
    return "Renewed at the same ARR"


def _line(event: EventIn, line_id: uuid.UUID) -> dict:
    return {
        "id": line_id,
        "customer_id": event.customer_id,
        "occurred_at": datetime.combine(event.occurred_on, time(), UTC),
        "kind": event.kind.value,
        "title": title(event.kind, event.arr_change),
        "body": event.note,
        "related_type": event.related_type,
        "related_id": event.related_id,
    }


def record_events(
    *, session: Session, events: list[EventIn], now: datetime | None = None
) -> dict[str, int]:
    """Store each event once per (source, source id); return created/updated/unchanged/conflict."""
    now = now or datetime.now(UTC)
    latest = {(e.source, e.source_id): e for e in events}
    counts = dict.fromkeys(("created", "updated", "unchanged", "conflict"), 0)
    if not latest:
        return counts
    table = CustomerEvent.__table__
    key = tuple_(table.c.source, table.c.source_id)
    existing = {
        (r.source, r.source_id): r
        for r in session.execute(select(table).where(key.in_(list(latest))))
    }
    new, changed = [], []
    for k, event in latest.items():
        old = existing.get(k)
        if old is None:
            new.append(event)
        elif old.customer_id != event.customer_id:
            counts["conflict"] += 1
        elif all(getattr(old, f) == getattr(event, f) for f in _FIELDS):
            counts["unchanged"] += 1
        else:
            changed.append((old, event))
    counts["created"] = _insert(session, new, now)
    counts["unchanged"] += len(new) - counts["created"]  # stored by a concurrent request
    _update(session, changed, now)
    counts["updated"] = len(changed)
    return counts


def _insert(session: Session, events: list[EventIn], now: datetime) -> int:
    if not events:
        return 0
    rows = [
        {
            "id": uuid.uuid4(),
            "customer_id": e.customer_id,
            "kind": e.kind,
            "occurred_on": e.occurred_on,
            "arr_change": e.arr_change,
            "source": e.source,
            "source_id": e.source_id,
            "note": e.note,
            "related_type": e.related_type,
            "related_id": e.related_id,
            "timeline_event_id": e.timeline_event_id,
            "created_at": now,
            "updated_at": now,
        }
        for e in events
    ]
    stmt = insert(CustomerEvent.__table__).on_conflict_do_nothing(
        index_elements=["source", "source_id"]
    )
    stored = set(session.scalars(stmt.returning(CustomerEvent.id), rows))
    by_id = {row["id"]: event for row, event in zip(rows, events, strict=True)}
    lines = {
        event_id: _line(event, uuid.uuid4())
        for event_id, event in by_id.items()
        if event_id in stored and event.timeline_event_id is None
    }
    if lines:
        session.execute(insert(TimelineEvent.__table__), list(lines.values()))
        link = (
            update(CustomerEvent.__table__)
            .where(CustomerEvent.__table__.c.id == bindparam("event_id"))
            .values(timeline_event_id=bindparam("line_id"))
        )
        params = [{"event_id": e, "line_id": line["id"]} for e, line in lines.items()]
        session.execute(link, params)
    return len(stored)


def _update(session: Session, changed: list, now: datetime) -> None:
    for old, event in changed:
        values = {f: getattr(event, f) for f in _FIELDS}
        session.execute(
            update(CustomerEvent.__table__)
            .where(CustomerEvent.__table__.c.id == old.id)
            .values(**values, updated_at=now)
        )
        if old.timeline_event_id is not None and event.timeline_event_id is None:
            line = _line(event, old.timeline_event_id)
            line.pop("id")
            session.execute(
                update(TimelineEvent.__table__)
                .where(TimelineEvent.__table__.c.id == old.timeline_event_id)
                .values(**line)
            )


def record_event(
    *,
    session: Session,
    customer_ref: str,
    body: CustomerEventIn,
    actor: str,
    now: datetime | None = None,
) -> tuple[CustomerEventOut, bool]:
    """Record one event for the customer `customer_ref` names; True when it was created."""
    now = now or datetime.now(UTC)
    customer_id = customer_id_for(session=session, ref=customer_ref)
    kind = check(
        kind=body.kind, arr_change=body.arr_change, occurred_on=body.occurred_on, today=now.date()
    )
    holder = session.execute(
        select(CustomerEvent.customer_id, Customer.name)
        .join(Customer, Customer.id == CustomerEvent.customer_id)
        .where(CustomerEvent.source == API_SOURCE, CustomerEvent.source_id == body.source_id)
    ).first()
    if holder is not None and holder.customer_id != customer_id:
        raise Conflict(f"sourceId: '{body.source_id}' is already recorded for {holder.name}.")
    event = EventIn(
        customer_id=customer_id,
        kind=kind,
        occurred_on=body.occurred_on,
        arr_change=body.arr_change,
        source=API_SOURCE,
        source_id=body.source_id,
        note=body.note or None,
    )
    counts = record_events(session=session, events=[event], now=now)
    stored = session.scalar(
        select(CustomerEvent).where(
            CustomerEvent.source == API_SOURCE, CustomerEvent.source_id == body.source_id
        )
    )
    if counts["created"] or counts["updated"]:
        record_audit(
            session=session,
            actor=actor,
            action="customer.event." + ("created" if counts["created"] else "updated"),
            entity_type="customer_event",
            entity_id=stored.id,
            changes={f: getattr(event, f) for f in ("kind", "occurred_on", "arr_change")},
        )
    session.refresh(stored)
    return CustomerEventOut.model_validate(stored), bool(counts["created"])
