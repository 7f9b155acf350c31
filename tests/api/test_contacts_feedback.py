"""Contacts and feedback over HTTP: upserts on the source's ids, 201/200, 404/409/422 and 403."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.customers.models import Contact, Feedback

CUSTOMER = {"name": "Acme", "industry": "retail", "segment": "smb", "region": "EMEA", "arr": 5000}
NOW = datetime.now(UTC)
DANA = {"name": "Dana Ortiz", "email": "Dana@Acme.example", "title": "VP Support"}
WORDS = "Support tickets now close in hours instead of days; the team loves it."


def response(**changes) -> dict:
    values = {
        "sourceId": "survey-1",
        "kind": "nps",
        "score": 10,
        "comment": WORDS,
        "respondent": {"name": "Dana Ortiz", "email": "dana@acme.example"},
        "respondedAt": (NOW - timedelta(days=1)).isoformat(),
    }
    return values | changes


@pytest.fixture
def admin(make_key):
    return make_key("admin")


@pytest.fixture
def acme(client, admin):
    assert client.put("/api/customers/acme", json=CUSTOMER, headers=admin).status_code == 201


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_contact_is_created_then_updated_on_its_crm_id(client, admin, acme, session):
    first = client.put("/api/customers/acme/contacts/c-1", json=DANA, headers=admin)
    assert first.status_code == 201
    data = first.json()
    assert (data["externalId"], data["email"], data["primary"]) == (
        "c-1",
        "dana@acme.example",
        True,
    )
    again = client.put(
        "/api/customers/acme/contacts/c-1", json=DANA | {"title": "COO"}, headers=admin
    )
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert again.json()["title"] == "COO" and count(session, Contact) == 1


def test_contacts_are_listed_primary_first(client, admin, acme):
    client.put("/api/customers/acme/contacts/c-1", json=DANA, headers=admin)
    lee = {"name": "Lee Park", "email": "lee@acme.example", "primary": True}
    assert (
        client.put("/api/customers/acme/contacts/c-2", json=lee, headers=admin).status_code == 201
    )
    listed = client.get("/api/customers/acme/contacts", headers=admin)
    assert listed.status_code == 200
    assert [(c["name"], c["primary"]) for c in listed.json()] == [
        ("Lee Park", True),
        ("Dana Ortiz", False),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "dana-at-acme"}, "email", "email: must be an email address"),
        ({"name": ""}, "name", "name: must not be empty"),
        ({"name": "Dana\nOrtiz"}, "name", "name: must be a single line"),
        ({"primary": "yes"}, "primary", "primary: "),
    ],
)
def test_a_bad_contact_answers_422_naming_the_field(client, admin, acme, changes, field, message):
    answer = client.put("/api/customers/acme/contacts/c-1", json=DANA | changes, headers=admin)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert field in problem["loc"] and problem["msg"].startswith(message)


def test_an_email_already_used_answers_409(client, admin, acme):
    client.put("/api/customers/acme/contacts/c-1", json=DANA, headers=admin)
    twin = DANA | {"name": "Someone Else"}
    answer = client.put("/api/customers/acme/contacts/c-2", json=twin, headers=admin)
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("email: dana@acme.example is already the email")


def test_unknown_customers_answer_404(client, admin):
    assert (
        client.put("/api/customers/nope/contacts/c-1", json=DANA, headers=admin).status_code == 404
    )
    assert client.get("/api/customers/nope/contacts", headers=admin).status_code == 404
    assert (
        client.post("/api/customers/nope/feedback", json=response(), headers=admin).status_code
        == 404
    )
    assert client.get("/api/customers/nope/feedback", headers=admin).status_code == 404


def test_feedback_is_recorded_once_per_source_id(client, admin, acme, session):
    client.put("/api/customers/acme/contacts/c-1", json=DANA, headers=admin)
    first = client.post("/api/customers/acme/feedback", json=response(), headers=admin)
    assert first.status_code == 201
    data = first.json()
    assert (data["kind"], data["score"], data["source"], data["quotable"]) == (
        "nps",
        10,
        "api",
        True,
    )
    contact_id = client.get("/api/customers/acme/contacts", headers=admin).json()[0]["id"]
    assert data["respondent"]["contactId"] == contact_id
    same = client.post("/api/customers/acme/feedback", json=response(), headers=admin)
    assert same.status_code == 200 and same.json()["id"] == data["id"]
    fixed = client.post("/api/customers/acme/feedback", json=response(score=7), headers=admin)
    assert fixed.status_code == 200 and fixed.json()["score"] == 7
    assert count(session, Feedback) == 1

    listed = client.get("/api/customers/acme/feedback?limit=10", headers=admin)
    assert listed.status_code == 200
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["id"] == data["id"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "NPS!"}, "kind: must be one of nps"),
        ({"kind": "csat", "score": 8}, "score: CSAT is scored from 1 to 5, not 8"),
    ],
)
def test_rules_answer_422_naming_the_field(client, admin, acme, changes, message):
    answer = client.post("/api/customers/acme/feedback", json=response(**changes), headers=admin)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(message)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"score": 11}, "score"),
        ({"score": True}, "score"),
        ({"respondedAt": (NOW + timedelta(hours=2)).isoformat()}, "respondedAt"),
        ({"respondent": {"email": "not an email"}}, "email"),
        ({"sourceId": ""}, "sourceId"),
    ],
)
def test_malformed_feedback_answers_422_with_the_field(client, admin, acme, changes, field):
    answer = client.post("/api/customers/acme/feedback", json=response(**changes), headers=admin)
    assert answer.status_code == 422
    assert any(field in problem["loc"] for problem in answer.json()["detail"])


def test_a_source_id_of_another_customer_answers_409(client, admin, acme):
    globex = CUSTOMER | {"name": "Globex"}
    assert client.put("/api/customers/globex", json=globex, headers=admin).status_code == 201
    client.post("/api/customers/acme/feedback", json=response(), headers=admin)
    answer = client.post("/api/customers/globex/feedback", json=response(), headers=admin)
    assert answer.status_code == 409 and "sourceId" in answer.json()["detail"]


def test_sales_and_marketing_keys_may_not_touch_contacts_or_feedback(client, make_key, acme):
    for role in ("sales", "marketing"):
        key = make_key(role)
        assert client.get("/api/customers/acme/contacts", headers=key).status_code == 403
        assert (
            client.put("/api/customers/acme/contacts/c-1", json=DANA, headers=key).status_code
            == 403
        )
        assert (
            client.post("/api/customers/acme/feedback", json=response(), headers=key).status_code
            == 403
        )
        assert client.get("/api/customers/acme/feedback", headers=key).status_code == 403
