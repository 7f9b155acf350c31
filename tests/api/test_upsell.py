"""Upsell API: manual entry, plan creation, progress, manual values, reviews and outcomes."""

from datetime import timedelta

import pytest

from core.base import Role
from tests import factories as f
from tests.core.upsell.scenarios import catalog, days_before

BASE = "/api/upsell"


@pytest.fixture
def world(session):
    catalog(session)
    cust = f.customer(session)
    owner = f.csm(session)
    marketer = f.user(session, Role.MARKETING, "Mia", email="mia@outcomes.example")
    sold = f.upsell(session, cust, ("analytics",), opportunity_id="006WORLD1")
    return {"customer": cust, "csm": owner, "marketer": marketer, "upsell": sold}


def create(client, headers, ref, body=None):
    return client.post(f"{BASE}/{ref}/success-measurement", json=body or {}, headers=headers)


def test_auth_is_required_and_roles_are_checked(client, make_key, world):
    ref = world["upsell"].id
    assert create(client, {}, ref).status_code == 401
    assert create(client, {"Authorization": "Bearer nope"}, ref).status_code == 401
    assert create(client, make_key("marketing"), ref).status_code == 403
    assert client.get(f"{BASE}/outcomes", headers=make_key("csm")).status_code == 403


def test_create_plan_from_template_is_camel_case_and_idempotent(client, make_key, world):
    headers = make_key("csm")
    res = create(client, headers, world["upsell"].id)
    assert res.status_code == 201, res.text
    body = res.json()
    assert set(body) >= {
        "id",
        "upsellId",
        "customerId",
        "upsellDetails",
        "successCriteria",
        "progress",
        "checkpoints",
        "reviews",
        "outcome",
        "predictedSuccess",
    }
    details = body["upsellDetails"]
    assert details["opportunityId"] == "006WORLD1" and details["products"] == ["analytics"]
    assert details["arrIncrease"] == 20000 and "closeDate" in details and "salesRep" in details
    criteria = body["successCriteria"]
    assert criteria["checkpointDays"] == [30, 60, 90]
    names = {m["name"] for m in criteria["metrics"]}
    assert "Executive dashboards in use" in names
    assert set(criteria["metrics"][0]) >= {
        "name",
        "type",
        "target",
        "unit",
        "measurement",
        "direction",
        "baseline",
        "origin",
    }
    assert set(body["progress"]) == {
        "currentStatus",
        "metricsProgress",
        "lastUpdated",
        "expected",
        "actual",
        "metrics",
        "milestones",
        "roiRealized",
    }
    assert body["outcome"] is None and 0 <= body["predictedSuccess"] <= 100
    again = create(client, headers, "006WORLD1")  # by opportunity id, same plan
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    other = {
        "successCriteria": {
            "metrics": [
                {"name": "Dashboards", "type": "outcome", "target": 5, "unit": "dashboards"}
            ]
        }
    }
    assert create(client, headers, "006WORLD1", other).status_code == 409


def test_create_plan_with_given_criteria(client, make_key, world, session):
    criteria = {
        "metrics": [
            {"name": "Dashboards", "type": "outcome", "target": 5, "unit": "dashboards"},
            {
                "name": "Core feature adoption",
                "type": "adoption",
                "target": 70,
                "unit": "%",
                "metricKey": "feature_adoption",
            },
        ],
        "checkpointDays": [30, 90],
    }
    body = {"successCriteria": criteria, "createdBy": world["csm"].email}
    res = create(client, make_key("csm"), world["upsell"].id, body)
    assert res.status_code == 201, res.text
    got = res.json()["successCriteria"]
    assert {m["name"]: m["target"] for m in got["metrics"]} == {
        "Dashboards": 5,
        "Core feature adoption": 70,
    }
    assert got["checkpointDays"] == [30, 90]
    assert create(client, make_key("csm"), world["upsell"].id, body).status_code == 200


@pytest.mark.parametrize(
    "criteria, field",
    [
        ({"metrics": [{"name": "X", "type": "nope", "target": 1, "unit": "u"}]}, "type"),
        ({"metrics": [{"name": "X", "type": "outcome", "target": -1, "unit": "u"}]}, "target"),
        ({"metrics": []}, "metrics"),
    ],
)
def test_invalid_criteria_are_422_naming_the_field(client, make_key, world, criteria, field):
    res = create(client, make_key("csm"), world["upsell"].id, {"successCriteria": criteria})
    assert res.status_code == 422
    assert any(field in map(str, e["loc"]) for e in res.json()["detail"])


def test_unknown_upsell_and_missing_plan_are_404(client, make_key, world):
    headers = make_key("csm")
    assert create(client, headers, "006NOPE").status_code == 404
    assert client.get(f"{BASE}/006NOPE/progress", headers=headers).status_code == 404
    assert client.get(f"{BASE}/006WORLD1/progress", headers=headers).status_code == 404


def test_progress_metrics_and_review(client, make_key, world):
    headers, email = make_key("csm"), world["csm"].email
    create(client, headers, "006WORLD1")
    res = client.get(f"{BASE}/006WORLD1/progress", headers=make_key("sales"))
    assert res.status_code == 200 and res.json()["upsellDetails"]["name"] == "Expansion"
    url = f"{BASE}/006WORLD1/metrics"
    ok = client.put(
        url,
        headers=headers,
        json={"values": {"Executive dashboards in use": 2}, "recordedBy": email},
    )
    assert ok.status_code == 200, ok.text
    row = next(
        m for m in ok.json()["progress"]["metrics"] if m["name"] == "Executive dashboards in use"
    )
    assert row["current"] == 2
    for values in ({"Nope": 1}, {"Core feature adoption": 50}):
        bad = client.put(url, headers=headers, json={"values": values, "recordedBy": email})
        assert bad.status_code == 422 and bad.json()["detail"]
    stranger = client.put(url, headers=headers, json={"values": {"X": 1}, "recordedBy": "x@y.z"})
    assert stranger.status_code == 422 and "recordedBy" in stranger.json()["detail"]
    marketer = {"values": {"Executive dashboards in use": 1}, "recordedBy": world["marketer"].email}
    assert client.put(url, headers=headers, json=marketer).status_code == 403
    review = {
        "checkpointDay": 30,
        "assessment": "on_track",
        "findings": "Good start",
        "reviewedBy": email,
    }
    res = client.post(f"{BASE}/006WORLD1/review", headers=headers, json=review)
    assert res.status_code == 201, res.text
    assert res.json()["checkpointDay"] == 30 and res.json()["reviewedBy"] == email
    view = client.get(f"{BASE}/006WORLD1/progress", headers=headers).json()
    assert view["reviews"][0]["assessment"] == "on_track"
    assert next(c for c in view["checkpoints"] if c["day"] == 30)["status"] == "reviewed"
    bad = client.post(
        f"{BASE}/006WORLD1/review", headers=headers, json={**review, "assessment": "great"}
    )
    assert bad.status_code == 422 and "assessment" in bad.json()["detail"][0]["loc"]
    missing = client.post(
        f"{BASE}/006WORLD1/review", headers=headers, json={**review, "checkpointDay": 45}
    )
    assert missing.status_code == 422


def manual(world, **extra):
    return {
        "customerId": str(world["customer"].id),
        "name": "Seats",
        "type": "expansion",
        "arrIncrease": 0,
        "closeDate": "2026-10-01",
        "products": ["analytics"],
        "createdBy": world["csm"].email,
        **extra,
    }


def test_manual_upsell_zero_arr_is_valid_negative_is_not(client, make_key, world):
    headers = make_key("csm")
    res = client.post(BASE, headers=headers, json=manual(world))
    assert res.status_code == 201, res.text
    assert res.json()["arrIncrease"] == 0 and res.json()["source"] == "manual"
    neg = client.post(BASE, headers=headers, json=manual(world, arrIncrease=-5))
    assert neg.status_code == 422 and "arrIncrease" in neg.json()["detail"][0]["loc"]
    ghost = manual(world, customerId="00000000-0000-0000-0000-000000000000")
    assert client.post(BASE, headers=headers, json=ghost).status_code == 404
    unknown = client.post(BASE, headers=headers, json=manual(world, products=["zzz"]))
    assert unknown.status_code == 422 and "products" in unknown.json()["detail"]


def test_outcomes_analysis_endpoint(client, make_key, world):
    headers = make_key("leader")
    create(client, make_key("csm"), "006WORLD1")
    res = client.get(f"{BASE}/outcomes", headers=headers, params={"product": "analytics"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["overall"]["plans"] == 1 and {k["key"] for k in body["kpis"]} >= {"coverage"}
    assert {"onTrackAt30Success", "behindAt30Success", "brierScore", "calibration"} <= set(body)
    assert set(body["breakdowns"]) == {"product", "segment", "industry", "arrBand", "salesRep"}
    assert {"successRate", "churnRate", "valueRealization", "medianDaysToValue"} <= set(
        body["overall"]
    )
    for params in ({"arrBand": "huge"}, {"segment": "giant"}, {"dateFrom": "x"}):
        bad = client.get(f"{BASE}/outcomes", headers=headers, params=params)
        assert bad.status_code == 422


def test_other_waiting_upsells_are_planned_and_predicted_too(client, make_key, world, session):
    other = f.upsell(session, world["customer"], ("support",))
    assert create(client, make_key("csm"), world["upsell"].id).status_code == 201
    view = client.get(f"{BASE}/{other.id}/progress", headers=make_key("csm"))
    assert view.status_code == 200 and view.json()["predictedSuccess"] is not None


def test_each_criterion_says_where_its_target_came_from(client, make_key, world, session):
    f.observe_at(session, world["customer"], "weekly_active_users", {f.CLOSE - timedelta(1): 100})
    res = create(client, make_key("csm"), world["upsell"].id)
    assert res.status_code == 201, res.text
    metrics = {m["name"]: m for m in res.json()["successCriteria"]["metrics"]}
    wau = metrics["Weekly active users"]
    assert (wau["baseline"], wau["target"], wau["targetSource"]) == (100, 120, "template_uplift")
    assert wau["targetExplanation"].startswith("100 users at close raised by 20%")
    dashboards = metrics["Executive dashboards in use"]
    assert (dashboards["targetSource"], dashboards["target"]) == ("template_level", 3)


@pytest.mark.parametrize("name", ["Weekly active users", "WAU"])
def test_a_target_already_met_at_close_is_422_naming_the_field(
    client, make_key, world, session, name
):
    days = days_before(f.CLOSE, 1, 8)
    f.observe_at(session, world["customer"], "weekly_active_users", dict.fromkeys(days, 217.7))
    wau = {
        "name": name,
        "type": "usage",
        "target": 200,
        "unit": "users",
        "metricKey": "weekly_active_users",
    }
    body = {"successCriteria": {"metrics": [wau]}, "createdBy": world["csm"].email}
    res = create(client, make_key("csm"), world["upsell"].id, body)
    assert res.status_code == 422
    assert res.json()["detail"].startswith(
        "target: must be above the baseline 217.7 for a higher-is-better metric"
    )
