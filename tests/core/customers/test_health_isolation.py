"""The health pass goes on past a customer it cannot score or whose write-back cannot be queued."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text

from core.audit.models import JobItemFailure
from core.customers import health
from core.customers.models import Customer
from core.outbox.models import Channel, Delivery
from tests import factories as f

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _customer(session, crm_id: str, score: str) -> Customer:
    cust = f.customer(session, health=None)
    cust.crm_id = crm_id
    session.flush()
    # A raw score, as another system or an old bug may have left it (numeric allows NaN).
    session.execute(
        text(
            "INSERT INTO health_factors (id, customer_id, factor, score, weight, source) "
            "VALUES (gen_random_uuid(), :c, 'crm_health', CAST(:s AS numeric), 2, 'crm')"
        ),
        {"c": cust.id, "s": score},
    )
    return cust


def _scores(session) -> dict:
    return dict(session.execute(select(Customer.id, Customer.health_score)).all())


def _failures(session) -> dict[tuple[str, str], JobItemFailure]:
    stmt = select(JobItemFailure).execution_options(populate_existing=True)
    return {(r.item_type, r.item_id): r for r in session.scalars(stmt)}


def _write_backs(session) -> set:
    stmt = select(Delivery.related_id).where(Delivery.channel == Channel.SALESFORCE)
    return set(session.scalars(stmt))


def test_a_customer_whose_factors_cannot_be_combined_keeps_its_score(session):
    good = _customer(session, "001GOOD", "80")
    bad = _customer(session, "001BAD", "NaN")

    counts = health.refresh_scores(session=session, now=NOW)

    assert counts == {"health_changed": 1, "health_write_backs": 1}
    scores = _scores(session)
    assert scores[good.id] == Decimal("80.00") and scores[bad.id] is None
    assert _write_backs(session) == {good.id}
    failure = _failures(session)[("health", str(bad.id))]
    assert failure.reason == "A number in its data could not be worked with (InvalidOperation)"

    session.execute(
        text("UPDATE health_factors SET score = 40 WHERE customer_id = :c"), {"c": bad.id}
    )
    health.refresh_scores(session=session, now=NOW)
    assert _scores(session)[bad.id] == Decimal("40.00")
    assert _failures(session) == {}


def test_a_write_back_that_cannot_be_queued_is_queued_on_the_next_pass(session, monkeypatch):
    good = _customer(session, "001GOOD", "80")
    bad = _customer(session, "001BAD", "30")
    enqueue = health._enqueue

    def refuse(session, stmt, deliveries):
        if any(d["related_id"] == bad.id for d in deliveries):
            raise ValueError("the outbox refused it")
        return enqueue(session, stmt, deliveries)

    monkeypatch.setattr(health, "_enqueue", refuse)
    counts = health.refresh_scores(session=session, now=NOW)

    assert counts == {"health_changed": 2, "health_write_backs": 1}
    assert _scores(session)[bad.id] == Decimal("30.00")  # the score itself is stored
    assert _write_backs(session) == {good.id}
    assert ("health_write_back", str(bad.id)) in _failures(session)

    monkeypatch.undo()
    counts = health.refresh_scores(session=session, now=NOW)  # nothing changed since
    assert counts == {"health_changed": 0, "health_write_backs": 1}
    assert _write_backs(session) == {good.id, bad.id}
    payloads = session.scalars(select(Delivery.payload).where(Delivery.related_id == bad.id))
    assert list(payloads) == [{"accountId": "001BAD", "value": 30.0}]
    assert _failures(session) == {}
    assert health.refresh_scores(session=session, now=NOW)["health_write_backs"] == 0
