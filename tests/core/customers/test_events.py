"""Churn, contraction and renewal events: once per source id, a timeline line each, field rules."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.customers.events import EventIn, check, record_event, record_events
from core.customers.models import CustomerEvent, CustomerEventKind, TimelineEvent
from core.customers.schemas import CustomerEventIn
from core.errors import Conflict, Invalid, NotFound
from tests import factories as f

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ACTOR = "api:test"


def body(**changes) -> CustomerEventIn:
    values = {"sourceId": "evt-1", "kind": "churn", "occurredOn": "2026-11-01", "arrChange": -50000}
    return CustomerEventIn.model_validate(values | changes)


@pytest.fixture
def acme(session):
    cust = f.customer(session, name="Acme")
    cust.external_id = "acme"
    session.flush()
    return cust


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_an_event_is_stored_once_with_one_timeline_line(session, acme):
    event, created = record_event(
        session=session, customer_ref="acme", body=body(note="Moved to a competitor"), actor=ACTOR
    )
    assert created and event.kind == "churn" and event.arr_change == Decimal("-50000")
    assert (event.source, event.source_id, event.customer_id) == ("api", "evt-1", acme.id)
    [line] = session.scalars(select(TimelineEvent))
    assert (line.kind, line.title, line.body) == (
        "churn",
        "Customer churned: $50K ARR lost",
        "Moved to a competitor",
    )
    assert line.occurred_at == datetime(2026, 11, 1, tzinfo=UTC) and line.related_id is None
    assert session.get(CustomerEvent, event.id).timeline_event_id == line.id

    again, created = record_event(
        session=session, customer_ref="acme", body=body(note="Moved to a competitor"), actor=ACTOR
    )
    assert not created and again.id == event.id
    assert count(session, CustomerEvent) == count(session, TimelineEvent) == 1
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["customer.event.created"]


def test_a_corrected_event_updates_the_event_and_its_line(session, acme):
    record_event(session=session, customer_ref="acme", body=body(), actor=ACTOR)
    fixed, created = record_event(
        session=session,
        customer_ref="acme",
        body=body(kind="contraction", arrChange=-1200, occurredOn="2026-10-15"),
        actor=ACTOR,
    )
    assert not created and fixed.kind == "contraction" and fixed.occurred_on == date(2026, 10, 15)
    [line] = session.scalars(select(TimelineEvent).execution_options(populate_existing=True))
    assert (line.kind, line.title) == ("contraction", "Contraction: $1.2K ARR given back")
    assert line.occurred_at == datetime(2026, 10, 15, tzinfo=UTC)
    assert count(session, CustomerEvent) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arrChange": 100}, "arrChange: must be negative for churn"),
        ({"kind": "contraction", "arrChange": 0}, "arrChange: must be negative for a contraction"),
        ({"kind": "renewal", "arrChange": -1}, "arrChange: must not be negative for a renewal"),
        ({"occurredOn": "2026-11-25"}, "occurredOn: must not be more than a day in the future"),
    ],
)
def test_rules_name_the_field(session, acme, changes, message):
    with pytest.raises(Invalid, match=message):
        record_event(
            session=session, customer_ref="acme", body=body(**changes), actor=ACTOR, now=NOW
        )
    assert count(session, CustomerEvent) == 0


def test_a_crm_spelling_of_the_kind_is_taken_and_an_unknown_one_refused():
    assert body(kind="Downgrade", arrChange=-10).kind is CustomerEventKind.CONTRACTION
    with pytest.raises(ValidationError, match="must be one of churn"):
        body(kind="expansion")
    with pytest.raises(Invalid, match="kind: must be one of churn, contraction, renewal"):
        check(kind="expansion", arr_change=Decimal(1), occurred_on=NOW.date(), today=NOW.date())


def test_renewals_may_be_flat_or_grow(session, acme):
    flat, _ = record_event(
        session=session,
        customer_ref="acme",
        body=body(sourceId="r-1", kind="renewal", arrChange=0),
        actor=ACTOR,
    )
    record_event(
        session=session,
        customer_ref="acme",
        body=body(sourceId="r-2", kind="renewal", arrChange=5000),
        actor=ACTOR,
    )
    titles = set(session.scalars(select(TimelineEvent.title)))
    assert titles == {"Renewed at the same ARR", "Renewed with $5K more ARR"}
    assert flat.arr_change == 0


def test_unknown_customer_and_a_source_id_of_another_customer(session, acme):
    with pytest.raises(NotFound, match="ghost"):
        record_event(session=session, customer_ref="ghost", body=body(), actor=ACTOR)
    other = f.customer(session, name="Globex")
    other.external_id = "globex"
    session.flush()
    record_event(session=session, customer_ref="acme", body=body(), actor=ACTOR)
    with pytest.raises(Conflict, match="sourceId: 'evt-1' is already recorded for Acme"):
        record_event(session=session, customer_ref="globex", body=body(), actor=ACTOR)


def test_bulk_events_count_what_happened_and_link_existing_lines(session, acme):
    line = f.add(session, TimelineEvent(customer_id=acme.id, kind="upsell_contracted", title="x"))
    other = f.customer(session)

    def event(source_id, customer=acme, **changes):
        values = dict(
            customer_id=customer.id,
            kind=CustomerEventKind.CONTRACTION,
            occurred_on=date(2026, 11, 1),
            arr_change=Decimal(-100),
            source="salesforce",
            source_id=source_id,
        )
        return EventIn(**(values | changes))

    first = record_events(
        session=session, events=[event("a"), event("b", timeline_event_id=line.id)], now=NOW
    )
    assert first == {"created": 2, "updated": 0, "unchanged": 0, "conflict": 0}
    assert count(session, TimelineEvent) == 2  # "b" reuses the line that already tells it
    stored = session.scalar(select(CustomerEvent).where(CustomerEvent.source_id == "b"))
    assert stored.timeline_event_id == line.id
    again = record_events(
        session=session,
        events=[event("a"), event("b", arr_change=Decimal(-50)), event("a", customer=other)],
        now=NOW,
    )
    # the later "a" (another customer) wins the duplicate key and is refused
    assert again == {"created": 0, "updated": 1, "unchanged": 0, "conflict": 1}
