"""One input policy at the API's edge: a bad input is a 422 naming the field, never a 500.

Each case below answered 500 (or was stored and broke a later read) before the policy existed.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api import app
from app.deps import get_session
from app.limits import DEFAULT_LIMIT, MB
from core.base import Direction
from core.customers.models import Customer, Observation
from core.schemas import check_text, text_problem
from tests import factories as f

CUSTOMER = {"name": "Acme", "industry": "retail", "segment": "smb", "region": "EMEA", "arr": 5000}
NOW = datetime.now(UTC).replace(microsecond=0)
JSON = {"content-type": "application/json"}


@pytest.fixture
def client(session):
    """A client that answers a server error with a 500, as a real server does, not by raising."""
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    app.dependency_overrides.clear()


@pytest.fixture
def admin(make_key):
    return make_key("admin")


@pytest.fixture
def acme(client, admin, session):
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    assert client.put("/api/customers/acme", json=CUSTOMER, headers=admin).status_code == 201
    return session.scalar(select(Customer).where(Customer.external_id == "acme"))


def messages(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["msg"] for error in response.json()["detail"]]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_line_break_in_a_name_is_refused_naming_the_field(client, admin, session):
    body = {**CUSTOMER, "name": "x\r\nBcc: y"}
    response = client.put("/api/customers/acme", json=body, headers=admin)
    assert messages(response) == ["name: must be a single line"]
    assert count(session, Customer) == 0


def test_a_line_break_is_fine_where_text_is_multi_line(client, admin, acme):
    event = {
        "sourceId": "ev-1",
        "kind": "renewal",
        "occurredOn": NOW.date().isoformat(),
        "arrChange": 0,
        "note": "Renewed for two years.\nSigned by the CFO.",
    }
    response = client.post("/api/customers/acme/events", json=event, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["note"] == event["note"]


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_a_number_that_is_not_finite_is_a_422_not_a_500(client, admin, token):
    body = json.dumps({**CUSTOMER, "arr": 0}).encode().replace(b'"arr": 0', b'"arr": ' + token)
    response = client.put("/api/customers/acme", content=body, headers={**admin, **JSON})
    assert messages(response) == ["arr: must be a finite number"]


def test_a_non_finite_number_inside_free_json_is_refused(client, admin, acme, session):
    goal = f.goal(session, acme, metric_key="weekly_active_users")
    body = b'{"verifiedBy": "a@b.example", "note": "ok", "evidence": {"x": [1, NaN]}}'
    response = client.post(f"/api/goals/{goal.id}/achieve", content=body, headers={**admin, **JSON})
    assert messages(response) == ["evidence: must hold finite numbers only"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/goals/achievements?offset=99999999999999999999", "offset"),
        ("/api/value-repository?offset=99999999999999999999", "offset"),
        ("/api/goals/achievements?offset=100001", "offset"),
        ("/api/goals/achievements?achievedTo=9999-12-31", "achievedTo"),
        ("/api/goals/achievements?achievedFrom=0001-01-01", "achievedFrom"),
        ("/api/value-repository?dateTo=9999-12-31", "dateTo"),
        ("/api/upsell/outcomes?dateTo=9999-12-31", "dateTo"),
        ("/api/value-repository?valueMin=1e999999", "valueMin"),
    ],
)
def test_offsets_dates_and_numbers_out_of_bounds_are_422s(client, admin, url, field):
    (message,) = messages(client.get(url, headers=admin))
    assert message.startswith(f"{field}: must be")


def test_the_largest_offset_allowed_answers_an_empty_page(client, admin):
    response = client.get("/api/goals/achievements?offset=100000", headers=admin)
    assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("put", "/api/customers/acme", {**CUSTOMER, "region": "EU\x00"}, "region"),
        ("put", "/api/customers/ac%00me", CUSTOMER, "externalId"),
        ("get", "/api/value-repository?q=lake%00water", None, "q"),
        ("get", "/api/goals/achievements?csm=a%00b", None, "csm"),
        ("get", "/api/upsell/outcomes?industry=a%00", None, "industry"),
        ("get", "/api/goals/customer/ac%00me", None, "customerId"),
        ("get", "/api/upsell/x%00y/progress", None, "id"),
    ],
)
def test_a_nul_character_anywhere_is_a_422(client, admin, method, url, body, field):
    response = client.request(method, url, json=body, headers=admin)
    assert messages(response) == [f"{field}: must not contain a NUL character"]


def test_a_nul_character_in_multi_line_text_is_refused_too(client, admin, acme):
    event = {
        "sourceId": "ev-1",
        "kind": "renewal",
        "occurredOn": NOW.date().isoformat(),
        "arrChange": 0,
        "note": "fine\x00",
    }
    response = client.post("/api/customers/acme/events", json=event, headers=admin)
    assert messages(response) == ["note: must not contain a NUL character"]


def test_a_lone_surrogate_is_a_422_and_the_answer_is_valid_json(client, admin):
    body = json.dumps({**CUSTOMER, "name": "PLACEHOLDER"}).replace("PLACEHOLDER", "a\\ud800")
    response = client.put("/api/customers/acme", content=body, headers={**admin, **JSON})
    assert response.status_code == 422
    response.content.decode("utf-8")  # strict: a lone surrogate could not be encoded
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "name"] and error["msg"].startswith("name: must be")


def test_a_lone_surrogate_in_an_unknown_key_is_answered_safely(client, admin):
    body = json.dumps(CUSTOMER)[:-1] + ', "\\udc80": 1}'
    response = client.put("/api/customers/acme", content=body, headers={**admin, **JSON})
    assert response.status_code == 422
    response.content.decode("utf-8")
    assert response.json()["detail"][0]["msg"].startswith("body: must be")


def test_422s_never_echo_the_input(client, admin):
    response = client.put("/api/customers/acme", json={**CUSTOMER, "arr": "lots"}, headers=admin)
    (error,) = response.json()["detail"]
    assert set(error) == {"loc", "msg", "type"} and "lots" not in response.text


def test_an_observation_from_year_one_is_refused_and_never_stored(client, admin, acme, session):
    goal = f.goal(session, acme, metric_key="weekly_active_users", target=10)
    row = {"customerId": "acme", "metric": "weekly_active_users", "value": 1}
    too_early = {**row, "observedAt": "0001-01-01T00:00:00+14:00"}
    too_late = {**row, "observedAt": (NOW + timedelta(days=2)).isoformat()}
    response = client.post(
        "/api/usage", json={"observations": [too_early, too_late]}, headers=admin
    )
    assert messages(response) == [
        "observations[0].observedAt: must not be before 2000-01-01",
        "observations[1].observedAt: must not be more than a day in the future",
    ]
    assert count(session, Observation) == 0
    read = client.get("/api/goals/customer/acme", headers=admin)
    assert read.status_code == 200 and read.json()["goals"][0]["id"] == str(goal.id)


def test_every_text_field_keeps_its_limit(client, admin, acme):
    goal = {
        "customerExternalId": "acme",
        "type": "custom",
        "name": "n" * 201,
        "description": "d" * 5001,
        "startDate": NOW.date().isoformat(),
    }
    response = client.put("/api/goals/G-1", json=goal, headers=admin)
    assert sorted(messages(response)) == [
        "description: must be at most 5,000 characters",
        "name: must be at most 200 characters",
    ]


def test_metric_value_names_follow_the_policy(client, admin):
    body = {"values": {"Seats\nused": 3}, "recordedBy": "a@b.example"}
    response = client.put(f"/api/upsell/{uuid.uuid4()}/metrics", json=body, headers=admin)
    assert messages(response) == ["values['Seats\\nused'] (the key): must be a single line"]


def test_a_body_over_the_limit_is_a_413_with_or_without_its_length(client, admin, acme, session):
    goal = f.goal(session, acme, metric_key="weekly_active_users")
    url = f"/api/goals/{goal.id}/achieve"
    body = json.dumps(
        {"verifiedBy": "a@b.example", "note": "ok", "evidence": {"blob": "x" * (20 * MB)}}
    ).encode()
    sized = client.post(url, content=body, headers={**admin, **JSON})
    assert sized.status_code == 413 and "1 MB" in sized.json()["detail"]

    def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    chunked = client.post(url, content=chunks(), headers={**admin, **JSON})
    assert chunked.status_code == 413 and "1 MB" in chunked.json()["detail"]


def test_usage_batches_may_be_larger_than_other_bodies(client, admin, acme):
    end = NOW - timedelta(hours=1)
    rows = [
        {
            "customerId": "acme",
            "metric": "weekly_active_users",
            "value": i,
            "observedAt": (end - timedelta(minutes=i)).isoformat(),
            "source": "s" * 20,
        }
        for i in range(10_000)
    ]
    body = json.dumps({"observations": rows}).encode()
    assert DEFAULT_LIMIT < len(body) < 8 * MB
    response = client.post("/api/usage", content=body, headers={**admin, **JSON})
    assert response.status_code == 200 and response.json()["inserted"] == 10_000


@pytest.mark.parametrize(
    ("value", "multi_line", "problem"),
    [
        ("plain text", False, None),
        ("tab\there", False, "must be a single line"),
        ("two\nlines", True, None),
        ("tab\there", True, None),
        ("bell\x07", True, "must not contain control characters"),
        ("c1\x85", True, "must not contain control characters"),
        ("para\u2029graph", False, "must be a single line"),
        ("nul\x00", True, "must not contain a NUL character"),
        ("half\ud83d", True, "must be valid Unicode text (it holds a lone surrogate)"),
        ("emoji 🎉 and accents é", False, None),
    ],
)
def test_the_text_policy(value, multi_line, problem):
    assert text_problem(value, multi_line=multi_line) == problem


def test_forms_get_the_same_checks_and_limits():
    assert check_text("Findings", "x" * 5000, max_length=5000, multi_line=True) is None
    assert check_text("Findings", "x" * 5001, max_length=5000, multi_line=True) == (
        "Findings: must be at most 5,000 characters (it has 5,001)"
    )
    assert check_text("Subject", "a\nb", max_length=300) == "Subject: must be a single line"


def _leaves(node, document, where, seen=()):
    """Yield (where, schema) for every leaf schema under `node`, following $refs."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _leaves(
                document["components"]["schemas"][name], document, where, (*seen, name)
            )
        return
    children = [*node.get("anyOf", []), *node.get("allOf", []), *node.get("oneOf", [])]
    if any(c.get("type") == "number" for c in children):  # a decimal may come as text
        children = [c for c in children if c.get("type") != "string"]
    for key, child in node.get("properties", {}).items():
        yield from _leaves(child, document, f"{where}.{key}", seen)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(node.get(key), dict):
            children.append(node[key])
    for child in children:
        yield from _leaves(child, document, where, seen)
    if node.get("type") in ("string", "number", "integer"):
        yield where, node


def request_leaves():
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for param in operation.get("parameters", []):
                yield from _leaves(param["schema"], document, f"{name} {param['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield from _leaves(body["schema"], document, f"{name} body")


def test_every_text_field_and_number_the_api_takes_is_bounded():
    unbounded = []
    for where, node in request_leaves():
        if node["type"] == "string" and "enum" not in node and "format" not in node:
            if "maxLength" not in node:
                unbounded.append(where)
        elif node["type"] in ("number", "integer"):
            low = "minimum" in node or "exclusiveMinimum" in node
            high = "maximum" in node or "exclusiveMaximum" in node
            if not (low and high):
                unbounded.append(where)
    assert unbounded == []
    assert len(list(request_leaves())) > 80
