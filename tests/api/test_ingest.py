"""Inbound upserts over HTTP: customers, goals, usage batches, and the road to a documented win."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.base import Direction
from core.customers.models import Customer, Observation
from core.customers.schemas import MAX_OBSERVATIONS
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import Goal
from tests import factories as f

CUSTOMER = {"name": "Acme", "industry": "retail", "segment": "smb", "region": "EMEA", "arr": 5000}
NOW = datetime.now(UTC).replace(microsecond=0)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def put_customer(client, headers, external_id="acme", **body):
    return client.put(f"/api/customers/{external_id}", json={**CUSTOMER, **body}, headers=headers)


def kpi(**body):
    return {
        "customerExternalId": "acme",
        "type": "kpi",
        "name": "More weekly users",
        "metric": "weekly_active_users",
        "baseline": 40,
        "target": 55,
        "startDate": (NOW - timedelta(days=30)).date().isoformat(),
        **body,
    }


def observations(customer, values, *, metric="weekly_active_users", end=None):
    end = end or NOW - timedelta(hours=1)
    n = len(values)
    return [
        {
            "customerId": customer,
            "metric": metric,
            "value": v,
            "observedAt": (end - timedelta(days=n - 1 - i)).isoformat(),
        }
        for i, v in enumerate(values)
    ]


@pytest.fixture
def admin(make_key):
    return make_key("admin")


@pytest.fixture
def acme(client, admin, session):
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    assert put_customer(client, admin).status_code == 201
    return session.scalar(select(Customer).where(Customer.external_id == "acme"))


def test_put_customer_creates_then_updates_in_camel_case(client, admin, session):
    owner = f.csm(session)
    body = {"ownerCsmEmail": owner.email, "healthScore": 71.5, "customerSince": "2024-02-01"}
    created = put_customer(client, admin, **body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["externalId"] == "acme" and data["ownerCsmEmail"] == owner.email
    assert data["healthScore"] == 71.5 and data["consentLevel"] == "internal_only"
    assert data["customerSince"] == "2024-02-01" and "external_id" not in data
    again = put_customer(client, admin, **body)
    assert again.status_code == 200 and again.json() == data
    assert count(session, Customer, Customer.external_id == "acme") == 1
    updated = put_customer(client, admin, arr=9000, consentLevel="logo")
    assert updated.status_code == 200
    assert updated.json()["arr"] == 9000 and updated.json()["consentLevel"] == "logo"
    assert updated.json()["healthScore"] == 71.5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"arr": -1}, "arr"),
        ({"healthScore": 101}, "healthScore"),
        ({"segment": "giant"}, "segment"),
        ({"name": ""}, "name"),
        ({"consentLevel": "shout"}, "consentLevel"),
        ({"customerSince": "yesterday"}, "customerSince"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_put_customer_validates_the_body(client, admin, body, field):
    response = put_customer(client, admin, **body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_put_customer_errors(client, admin, make_key):
    assert put_customer(client, {}).status_code == 401
    assert put_customer(client, make_key("marketing")).status_code == 403
    assert put_customer(client, make_key("sales")).status_code == 403
    owner = put_customer(client, admin, ownerCsmEmail="ghost@x.example")
    assert owner.status_code == 422 and "ownerCsmEmail" in owner.json()["detail"]
    assert put_customer(client, make_key("csm"), "one", crmId="001X").status_code == 201
    taken = put_customer(client, make_key("leader"), "two", crmId="001X")
    assert taken.status_code == 409 and "crmId" in taken.json()["detail"]
    assert put_customer(client, admin, "x" * 129).status_code == 422


def test_put_goal_creates_then_is_idempotent(client, admin, session, acme):
    created = client.put("/api/goals/G-1", json=kpi(), headers=admin)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["externalId"] == "G-1" and data["customerExternalId"] == "acme"
    assert data["direction"] == "higher_is_better" and data["unit"] == "users"
    assert data["target"] == 55 and data["status"] == "active" and data["milestones"] == []
    again = client.put("/api/goals/G-1", json=kpi(), headers=admin)
    assert again.status_code == 200 and again.json() == data
    assert count(session, Goal, Goal.external_id == "G-1") == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"customerExternalId": "ghost"}, "customerExternalId"),
        ({"metric": "nope"}, "metric: unknown metric 'nope'"),
        ({"target": None}, "target: a KPI goal"),
        ({"type": "onboarding", "metric": None}, "milestones:"),
        ({"type": "success_plan", "metric": None, "target": None}, "milestones:"),
        ({"dueDate": "2000-01-01"}, "dueDate"),
    ],
)
def test_put_goal_rules_name_the_field(client, admin, acme, body, needle):
    response = client.put("/api/goals/G-bad", json=kpi(**body), headers=admin)
    assert response.status_code == 422
    assert needle in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "okr"}, "type"),
        ({"startDate": None}, "startDate"),
        ({"milestones": [{"name": "a", "status": "half"}]}, "status"),
        ({"cost": -5}, "cost"),
    ],
)
def test_put_goal_body_is_validated(client, admin, acme, body, field):
    response = client.put("/api/goals/G-bad", json=kpi(**body), headers=admin)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_put_goal_with_milestones_and_roles(client, admin, make_key, acme):
    steps = [{"name": "Kickoff", "status": "done"}, {"name": "Training"}]
    plan = kpi(type="success_plan", metric=None, target=None, milestones=steps)
    response = client.put("/api/goals/G-2", json=plan, headers=make_key("csm"))
    assert response.status_code == 201, response.text
    assert [m["name"] for m in response.json()["milestones"]] == ["Kickoff", "Training"]
    assert response.json()["milestones"][0]["completedAt"]
    assert client.put("/api/goals/G-2", json=plan, headers={}).status_code == 401
    assert client.put("/api/goals/G-2", json=plan, headers=make_key("sales")).status_code == 403


def test_usage_is_idempotent_and_counts(client, admin, session, acme):
    batch = {"observations": observations("acme", [1, 2, 3])}
    first = client.post("/api/usage", json=batch, headers=admin)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 3, "inserted": 3, "updated": 0, "unchanged": 0}
    second = client.post("/api/usage", json=batch, headers=make_usage_key(client, session))
    assert second.json() == {"received": 3, "inserted": 0, "updated": 0, "unchanged": 3}
    batch["observations"][2]["value"] = 30
    batch["observations"][0]["customerId"] = str(acme.id)
    third = client.post("/api/usage", json=batch, headers=admin).json()
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 1, 2)
    assert count(session, Observation, Observation.customer_id == acme.id) == 3


def make_usage_key(client, session):
    from core.accounts.service import create_api_key

    _, token = create_api_key(session=session, name="pipeline", role="csm")
    return {"Authorization": f"Bearer {token}"}


def test_usage_rejects_bad_rows_by_index_and_writes_nothing(client, admin, session, acme):
    rows = observations("acme", [1, 2, 3, 4])
    rows[1]["metric"] = "x"
    rows[3]["customerId"] = "ghost"
    response = client.post("/api/usage", json={"observations": rows}, headers=admin)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "observations[1].metric: unknown metric 'x'" in detail
    assert "observations[3].customerId: unknown customer 'ghost'" in detail
    assert count(session, Observation, Observation.customer_id == acme.id) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"observedAt": "2026-01-01T10:00:00"}, "observedAt"),
        ({"observedAt": (NOW + timedelta(days=2)).isoformat()}, "observedAt"),
        ({"value": "many"}, "value"),
        ({"metric": ""}, "metric"),
        ({"customerId": None}, "customerId"),
    ],
)
def test_usage_row_validation_names_the_index(client, admin, acme, change, field):
    rows = observations("acme", [1, 2, 3])
    rows[2].update(change)
    response = client.post("/api/usage", json={"observations": rows}, headers=admin)
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["body", "observations", 2, field] in [list(loc) for loc in locs]


def test_usage_limits_and_roles(client, admin, make_key, acme):
    assert client.post("/api/usage", json={"observations": []}, headers=admin).status_code == 422
    rows = observations("acme", [1]) * (MAX_OBSERVATIONS + 1)
    too_many = client.post("/api/usage", json={"observations": rows}, headers=admin)
    assert too_many.status_code == 413 and "10,000" in too_many.json()["detail"]
    batch = {"observations": observations("acme", [1])}
    assert client.post("/api/usage", json=batch).status_code == 401
    for role in ("marketing", "sales"):
        assert client.post("/api/usage", json=batch, headers=make_key(role)).status_code == 403
    assert client.post("/api/usage", json=batch, headers=make_key("leader")).status_code == 200


def test_a_batch_of_5000_observations(client, admin, session, acme):
    start = NOW - timedelta(days=250)
    rows = [
        {
            "customerId": "acme",
            "metric": "weekly_active_users",
            "value": i % 97,
            "observedAt": (start + timedelta(hours=i)).isoformat(),
            "source": "warehouse",
        }
        for i in range(5000)
    ]
    response = client.post("/api/usage", json={"observations": rows}, headers=admin)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["inserted"] == 5000
    assert count(session, Observation, Observation.customer_id == acme.id) == 5000
    again = client.post("/api/usage", json={"observations": rows}, headers=admin).json()
    assert again["unchanged"] == 5000


def test_journey_from_ingest_to_a_documented_win(client, admin, session):
    csm = f.csm(session)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    customer = put_customer(client, admin, "acme", ownerCsmEmail=csm.email, consentLevel="logo")
    assert customer.status_code == 201
    assert client.put("/api/goals/WAU-55", json=kpi(), headers=admin).status_code == 201
    values = [40 + i for i in range(20)]  # crosses 55 on day 16 and stays above
    usage = client.post(
        "/api/usage", json={"observations": observations("acme", values)}, headers=admin
    )
    assert usage.json()["inserted"] == 20

    assert len(detect(session=session)) == 1
    assert document_pending(session=session)["documented"] == 1

    wins = client.get("/api/goals/achievements", params={"customerId": "acme"}, headers=admin)
    assert wins.json()["total"] == 1
    win = wins.json()["items"][0]
    assert win["goalExternalId"] == "WAU-55" and win["status"] == "verified"
    assert win["method"] == "automatic" and win["achievedValue"] == 59
    assert isinstance(win["marketingScore"], int) and win["successRecordId"]
    assert datetime.fromisoformat(win["achievedAt"]).date() <= date.today()

    detail = client.get("/api/goals/customer/acme", headers=admin).json()
    goal = detail["goals"][0]
    assert goal["status"] == "achieved" and goal["progressPct"] == 100.0
    assert goal["latestValue"] == 59
    assert [a["id"] for a in detail["achievements"]] == [win["id"]]
    changed = client.put("/api/goals/WAU-55", json=kpi(target=70), headers=admin)
    assert changed.status_code == 409 and "target" in changed.json()["detail"]
