"""The set-up catalogue over HTTP: roles, field-named 422s, stale templates, metric then goal."""

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.upsell.models import IndustryBenchmark

METRIC = {
    "name": "Reports exported",
    "unit": "reports",
    "kind": "usage",
    "direction": "higher_is_better",
}
TEMPLATE = {
    "criteria": [{"name": "Reports exported", "metricKey": "reports_exported", "uplift": 0.15}],
    "checkpointDays": [30, 60, 90],
}
BENCHMARK = "/api/benchmarks/Healthcare/mid_market/reports_exported"


@pytest.fixture
def admin(make_key):
    return make_key("admin")


def messages(answer) -> list[str]:
    detail = answer.json()["detail"]
    return [p["msg"] for p in detail] if isinstance(detail, list) else [detail]


def put_metric(client, headers, key="reports_exported", **body):
    return client.put(f"/api/metrics/{key}", json=METRIC | body, headers=headers)


def test_a_new_metric_makes_a_goal_on_it_possible(client, admin):
    customer = {"name": "Acme", "industry": "Retail", "segment": "smb", "region": "EMEA", "arr": 1}
    assert client.put("/api/customers/acme", json=customer, headers=admin).status_code == 201
    goal = {
        "customerExternalId": "acme",
        "type": "kpi",
        "name": "Export more reports",
        "metric": "new_metric",
        "baseline": 10,
        "target": 25,
        "startDate": "2026-01-05",
    }
    refused = client.put("/api/goals/g-1", json=goal, headers=admin)
    assert refused.status_code == 422
    assert messages(refused)[0].startswith("metric: unknown metric 'new_metric'")

    created = put_metric(client, admin, key="new_metric", unit="exports")
    assert created.status_code == 201
    assert created.json() == {
        "key": "new_metric",
        "name": "Reports exported",
        "unit": "exports",
        "kind": "usage",
        "direction": "higher_is_better",
        "isMoney": False,
        "description": None,
        "usedBy": [],
    }
    answer = client.put("/api/goals/g-1", json=goal, headers=admin)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["metric"], answer.json()["unit"]) == ("new_metric", "exports")
    used = client.get("/api/metrics/new_metric", headers=admin).json()
    assert used["usedBy"] == ["goals"]
    changed = put_metric(client, admin, key="new_metric", unit="files")
    assert changed.status_code == 409
    assert messages(changed)[0].startswith("unit: Reports exported already has goals;")


def test_reads_take_any_key_and_writes_an_admin_key(client, make_key, admin):
    assert client.get("/api/metrics").status_code == 401
    assert put_metric(client, {"Authorization": "Bearer nope"}).status_code == 401
    for role in ("csm", "leader", "marketing", "sales"):
        key = make_key(role)
        assert put_metric(client, key).status_code == 403
        assert client.put("/api/products/p1", json={"name": "P1"}, headers=key).status_code == 403
        assert client.delete(BENCHMARK, headers=key).status_code == 403
    sales = make_key("sales")
    assert put_metric(client, admin).status_code == 201
    assert put_metric(client, admin).status_code == 200  # the same again: unchanged
    for path in ("/api/metrics", "/api/metrics/reports_exported", "/api/products"):
        assert client.get(path, headers=sales).status_code == 200
    assert client.get("/api/success-templates", headers=sales).json() == []
    assert client.get("/api/benchmarks", headers=sales).json() == []


def test_invalid_input_is_a_422_naming_the_field(client, admin):
    bad_key = put_metric(client, admin, key="Reports")
    assert bad_key.status_code == 422
    assert messages(bad_key)[0].startswith("key: must be 2 to 64 characters")
    bad_body = client.put(
        "/api/metrics/reports_exported", json=METRIC | {"direction": "sideways"}, headers=admin
    )
    assert bad_body.status_code == 422 and messages(bad_body)[0].startswith("direction:")
    assert put_metric(client, admin).status_code == 201
    assert (
        client.put("/api/products/reports", json={"name": "Reports"}, headers=admin).status_code
        == 201
    )
    criteria = [{"name": "Reports", "metricKey": "unknown_metric"}]
    unknown = client.put(
        "/api/success-templates/reports",
        json=TEMPLATE | {"criteria": criteria},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert messages(unknown)[0].startswith("criteria[0].metricKey: unknown metric")
    late = client.put(
        "/api/success-templates/reports", json=TEMPLATE | {"checkpointDays": [400]}, headers=admin
    )
    assert late.status_code == 422 and messages(late)[0].startswith("checkpointDays[0]:")
    worse = client.put(BENCHMARK, json={"median": 50, "topQuartile": 40}, headers=admin)
    assert worse.status_code == 422 and messages(worse)[0].startswith("topQuartile: must not")


def test_a_stale_template_version_is_a_409(client, admin):
    put_metric(client, admin)
    client.put("/api/products/reports", json={"name": "Reports"}, headers=admin)
    path = "/api/success-templates/reports"
    made = client.put(path, json=TEMPLATE, headers=admin)
    assert made.status_code == 201 and made.json()["version"] == 1
    assert made.json()["criteria"][0] | {"uplift": None} == {
        "name": "Reports exported",
        "metricKey": "reports_exported",
        "type": "usage",
        "unit": "reports",
        "direction": "higher_is_better",
        "measurement": "automatic",
        "uplift": None,
        "upliftBySegment": None,
        "target": None,
    }
    mine = client.put(
        path, json=TEMPLATE | {"checkpointDays": [30, 90], "version": 1}, headers=admin
    )
    assert mine.status_code == 200 and mine.json()["version"] == 2
    theirs = client.put(path, json=TEMPLATE | {"checkpointDays": [45], "version": 1}, headers=admin)
    assert theirs.status_code == 409
    assert messages(theirs)[0].startswith("version: someone else saved")
    blind = client.put(path, json=TEMPLATE, headers=admin)
    assert blind.status_code == 409
    assert client.get(path, headers=admin).json()["checkpointDays"] == [30, 90]
    assert client.get("/api/success-templates/unknown", headers=admin).status_code == 404


def test_benchmarks_are_put_listed_and_deleted(client, admin, session):
    put_metric(client, admin)
    made = client.put(BENCHMARK, json={"median": 40, "topQuartile": 55}, headers=admin)
    assert made.status_code == 201
    assert made.json() | {"id": None} == {
        "id": None,
        "industry": "Healthcare",
        "segment": "mid_market",
        "metricKey": "reports_exported",
        "metricName": "Reports exported",
        "unit": "reports",
        "direction": "higher_is_better",
        "isMoney": False,
        "median": 40.0,
        "topQuartile": 55.0,
    }
    again = client.put(BENCHMARK, json={"median": 42, "topQuartile": 55}, headers=admin)
    assert again.status_code == 200 and again.json()["median"] == 42
    listed = client.get(
        "/api/benchmarks",
        params={"industry": "healthcare", "segment": "mid_market", "metric": "reports_exported"},
        headers=admin,
    )
    assert [b["median"] for b in listed.json()] == [42]
    assert client.get("/api/benchmarks", params={"segment": "smb"}, headers=admin).json() == []
    assert client.delete(BENCHMARK, headers=admin).status_code == 204
    assert session.scalar(select(IndustryBenchmark)) is None
    assert client.delete(BENCHMARK, headers=admin).status_code == 404
    actors = set(session.scalars(select(AuditEntry.actor)))
    assert actors == {"api:test-admin"}
    assert session.scalar(select(AuditEntry.api_key_id).limit(1)) is not None
