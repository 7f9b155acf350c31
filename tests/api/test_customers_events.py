"""Customer events and health over HTTP: idempotent on source id, 404/409/422, factors out."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.customers.models import CustomerEvent, TimelineEvent
from core.outbox.models import Channel, Delivery

CUSTOMER = {"name": "Acme", "industry": "retail", "segment": "smb", "region": "EMEA", "arr": 5000}
TODAY = datetime.now(UTC).date()


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def event(**changes) -> dict:
    values = {
        "sourceId": "crm-evt-1",
        "kind": "churn",
        "occurredOn": (TODAY - timedelta(days=3)).isoformat(),
        "arrChange": -5000,
        "note": "Budget cut",
    }
    return values | changes


@pytest.fixture
def admin(make_key):
    return make_key("admin")


@pytest.fixture
def acme(client, admin):
    body = CUSTOMER | {"healthScore": 72, "crmId": "001000000000042AAA"}
    assert client.put("/api/customers/acme", json=body, headers=admin).status_code == 201


def test_an_event_is_recorded_once_per_source_id(client, admin, acme, session):
    first = client.post("/api/customers/acme/events", json=event(), headers=admin)
    assert first.status_code == 201
    data = first.json()
    assert (data["kind"], data["arrChange"], data["sourceId"]) == ("churn", -5000, "crm-evt-1")
    again = client.post("/api/customers/acme/events", json=event(), headers=admin)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert count(session, CustomerEvent) == 1
    assert count(session, TimelineEvent, TimelineEvent.kind == "churn") == 1

    fixed = client.post("/api/customers/acme/events", json=event(arrChange=-4500), headers=admin)
    assert fixed.status_code == 200 and fixed.json()["arrChange"] == -4500
    assert count(session, CustomerEvent) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "expansion"}, "kind: must be one of churn (or churned"),
        ({"arrChange": 5000}, "arrChange: must be negative for churn"),
        ({"kind": "renewal", "arrChange": -10}, "arrChange: must not be negative for a renewal"),
        (
            {"occurredOn": (TODAY + timedelta(days=5)).isoformat()},
            "occurredOn: must not be more than a day in the future",
        ),
    ],
)
def test_rules_answer_422_naming_the_field(client, admin, acme, changes, message):
    response = client.post("/api/customers/acme/events", json=event(**changes), headers=admin)
    assert response.status_code == 422
    detail = response.json()["detail"]  # a sentence, or the schema's list of field errors
    texts = [detail] if isinstance(detail, str) else [error["msg"] for error in detail]
    assert any(message in text for text in texts)


@pytest.mark.parametrize("field", ["sourceId", "arrChange", "occurredOn"])
def test_missing_or_malformed_fields_answer_422_with_the_field(client, admin, acme, field):
    body = event()
    body.pop(field)
    response = client.post("/api/customers/acme/events", json=body, headers=admin)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])
    bad = client.post("/api/customers/acme/events", json=event(arrChange="lots"), headers=admin)
    assert bad.status_code == 422


def test_unknown_customer_other_customer_and_roles(client, admin, acme, make_key):
    ghost = client.post("/api/customers/ghost/events", json=event(), headers=admin)
    assert ghost.status_code == 404 and "ghost" in ghost.json()["detail"]
    assert client.get("/api/customers/ghost/health", headers=admin).status_code == 404
    other = CUSTOMER | {"name": "Globex"}
    assert client.put("/api/customers/globex", json=other, headers=admin).status_code == 201
    assert client.post("/api/customers/acme/events", json=event(), headers=admin).is_success
    taken = client.post("/api/customers/globex/events", json=event(), headers=admin)
    assert taken.status_code == 409 and "sourceId" in taken.json()["detail"]
    sales = make_key("sales")
    assert client.post("/api/customers/acme/events", json=event(), headers=sales).status_code == 403
    assert client.get("/api/customers/acme/health", headers=sales).status_code == 403
    assert client.post("/api/customers/acme/events", json=event()).status_code == 401


def test_health_lists_factors_weights_and_sources(client, admin, acme, session):
    health = client.get("/api/customers/acme/health", headers=admin)
    assert health.status_code == 200
    data = health.json()
    assert data["score"] == 72 and data["band"] == "healthy"
    [crm] = data["factors"]
    assert (crm["factor"], crm["weight"], crm["share"], crm["source"]) == (
        "crm_health",
        2,
        1.0,
        "CRM",
    )
    assert data["weights"] == {
        "goal_attainment": 1,
        "upsell_realization": 1,
        "adoption": 1,
        "crm_health": 2,
    }
    # The inbound score changed the combined score once: one write-back to the Account.
    [delivery] = session.scalars(select(Delivery).where(Delivery.channel == Channel.SALESFORCE))
    assert delivery.payload == {"accountId": "001000000000042AAA", "value": 72.0}
    body = CUSTOMER | {"healthScore": 72, "crmId": "001000000000042AAA"}
    assert client.put("/api/customers/acme", json=body, headers=admin).status_code == 200
    assert count(session, Delivery, Delivery.channel == Channel.SALESFORCE) == 1
