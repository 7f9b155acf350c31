"""Goals API: confirm, list achievements, a customer's goals, marketing flags."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from core.base import Consent, Direction, Role
from core.customers.models import Customer
from core.goals.models import GoalType
from tests import factories as f

NOTE = "Customer confirmed on the QBR call"


@pytest.fixture
def team(session):
    return {
        role: f.user(session, role, role.value.title(), email=f"{role.value}@outcomes.example")
        for role in Role
    }


@pytest.fixture
def goal(session, team):
    cust = f.customer(
        session, owner=team[Role.CSM], consent=Consent.FULL_PUBLIC, external_id="acme"
    )
    return f.goal(session, cust, type=GoalType.CUSTOM, name="Exec sign-off", external_id="SF-G1")


def confirm(client, headers, ref, **body):
    payload = {"verifiedBy": "csm@outcomes.example", "note": NOTE, **body}
    return client.post(f"/api/goals/{ref}/achieve", json=payload, headers=headers)


def test_confirm_records_and_documents_the_win(client, make_key, goal):
    response = confirm(client, make_key("csm"), goal.id, evidence={"a": 1})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["goalId"] == str(goal.id) and body["customerId"] == str(goal.customer_id)
    assert body["status"] == "verified" and body["method"] == "manual"
    assert body["verifiedBy"] == "csm@outcomes.example" and body["note"] == NOTE
    assert body["achievedValue"] is None and body["successRecordId"]
    assert isinstance(body["marketingScore"], int)
    assert isinstance(body["marketingCandidates"], list)
    assert {"targetValue", "confidence", "achievedAt"} <= body.keys()
    assert "goal_id" not in body


def test_confirm_by_external_id_and_only_once(client, make_key, goal):
    headers = make_key("leader")
    assert confirm(client, headers, "SF-G1").status_code == 201
    again = confirm(client, headers, goal.id)
    assert again.status_code == 409
    assert "already confirmed" in again.json()["detail"]


def test_confirm_errors(client, make_key, goal):
    csm = make_key("csm")
    assert confirm(client, {}, goal.id).status_code == 401
    assert confirm(client, make_key("marketing"), goal.id).status_code == 403
    assert confirm(client, csm, uuid.uuid4()).status_code == 404
    assert confirm(client, csm, "no-such-goal").status_code == 404
    unknown = confirm(client, csm, goal.id, verifiedBy="ghost@x.example")
    assert unknown.status_code == 422 and "verifiedBy" in unknown.json()["detail"]
    seller = confirm(client, csm, goal.id, verifiedBy="sales@outcomes.example")
    assert seller.status_code == 403 and "verifiedBy" in seller.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": None}, "note"),
        ({"note": "   "}, "note"),
        ({"note": "x" * 2001}, "note"),
        ({"achievedAt": "2026-01-01T10:00:00"}, "achievedAt"),
        ({"achievedValue": "lots"}, "achievedValue"),
        ({"evidence": [1, 2]}, "evidence"),
        ({"verifedBy": "typo@x.example"}, "verifedBy"),
    ],
)
def test_confirm_body_is_validated(client, make_key, goal, body, field):
    payload = {"verifiedBy": "csm@outcomes.example", "note": NOTE, **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = client.post(f"/api/goals/{goal.id}/achieve", json=payload, headers=make_key())
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def _win(session, cust, name, *, at, score, industry_goal_type=GoalType.KPI):
    goal = f.goal(session, cust, type=industry_goal_type, target=10, name=name)
    f.achievement(
        session,
        goal,
        achieved_at=at,
        target_value=Decimal(10),
        achieved_value=Decimal(12),
        marketing_score=score,
    )
    return goal


def test_achievements_list_filters_and_pages(client, make_key, session, team):
    acme = f.customer(session, owner=team[Role.CSM], consent=Consent.FULL_PUBLIC)
    beta = f.customer(session, name="Beta Bank", industry="banking", consent=Consent.FULL_PUBLIC)
    day = datetime(2026, 9, 1, tzinfo=UTC)
    _win(session, acme, "A", at=day, score=20)
    _win(session, acme, "B", at=day + timedelta(days=1), score=75)
    _win(session, beta, "C", at=day + timedelta(days=2), score=90, industry_goal_type=GoalType.ROI)
    headers = make_key("sales")

    page = client.get("/api/goals/achievements", headers=headers).json()
    assert page["total"] == 3 and [i["goalName"] for i in page["items"]] == ["C", "B", "A"]
    assert page["items"][0]["customerName"] == "Beta Bank"
    query = {"minScore": 50, "csm": "csm@outcomes.example", "limit": 1}
    page = client.get("/api/goals/achievements", params=query, headers=headers).json()
    assert page["total"] == 1 and page["items"][0]["goalName"] == "B"
    page = client.get(
        "/api/goals/achievements",
        params={"goalType": "roi", "achievedFrom": "2026-09-03", "industry": "banking"},
        headers=headers,
    ).json()
    assert [i["goalName"] for i in page["items"]] == ["C"]
    page = client.get(
        "/api/goals/achievements", params={"limit": 1, "offset": 1}, headers=headers
    ).json()
    assert page["total"] == 3 and [i["goalName"] for i in page["items"]] == ["B"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"status": "great"},
        {"minScore": 101},
        {"achievedFrom": "2026-02-01", "achievedTo": "2026-01-01"},
        {"minscore": 5},
    ],
)
def test_achievements_query_is_validated(client, make_key, query):
    response = client.get("/api/goals/achievements", params=query, headers=make_key())
    assert response.status_code == 422, response.text


def test_achievements_need_a_key(client):
    assert client.get("/api/goals/achievements").status_code == 401


def test_achievements_page_costs_the_same_queries_however_many(
    client, make_key, session, connection
):
    cust = f.customer(session)
    headers = make_key("leader")
    statements = []
    event.listen(connection, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
    _win(session, cust, "first", at=datetime(2026, 9, 1, tzinfo=UTC), score=10)
    client.get("/api/me", headers=headers)  # the key's first use is noted, later ones not yet
    statements.clear()
    client.get("/api/goals/achievements", headers=headers)
    one = len(statements)
    assert one >= 3  # key check, count, page
    for i in range(12):
        _win(session, cust, f"more {i}", at=datetime(2026, 9, 2, tzinfo=UTC), score=10)
    statements.clear()
    assert client.get("/api/goals/achievements", headers=headers).json()["total"] == 13
    assert len(statements) == one


def test_customer_goals_by_external_or_our_id(client, make_key, session, goal):
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    cust = session.get(Customer, goal.customer_id)
    f.goal(session, cust, metric_key="weekly_active_users", target=100, baseline=50, name="WAU")
    f.observe(session, cust, "weekly_active_users", [60, 70, 75])
    headers = make_key("marketing")
    body = client.get("/api/goals/customer/acme", headers=headers).json()
    assert body["customer"]["externalId"] == "acme"
    wau = next(g for g in body["goals"] if g["name"] == "WAU")
    assert wau["latestValue"] == 75 and wau["progressPct"] == 50.0 and wau["observedAt"]
    assert wau["metric"] == "weekly_active_users" and wau["direction"] == "higher_is_better"
    assert {"externalId", "dueDate", "milestonesTotal"} <= wau.keys()
    by_id = client.get(f"/api/goals/customer/{cust.id}", headers=headers)
    assert by_id.status_code == 200 and by_id.json() == body
    assert client.get("/api/goals/customer/ghost", headers=headers).status_code == 404
    assert client.get("/api/goals/customer/acme").status_code == 401


def flag(client, headers, ref, **body):
    payload = {"flaggedBy": "marketing@outcomes.example", "candidateType": "case_study", **body}
    return client.post(f"/api/goals/{ref}/marketing-flag", json=payload, headers=headers)


def test_flag_a_confirmed_win_once_per_type(client, make_key, goal):
    headers = make_key("marketing")
    assert flag(client, headers, goal.id).status_code == 404  # no achievement yet
    assert confirm(client, make_key("csm"), goal.id).status_code == 201
    response = flag(client, headers, "SF-G1", notes="Great story")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["candidateType"] == "case_study" and body["status"] == "flagged"
    assert body["goalId"] == str(goal.id) and body["flaggedBy"] == "marketing@outcomes.example"
    assert body["notes"] == "Great story" and body["achievementId"] and body["createdAt"]
    duplicate = flag(client, headers, goal.id)
    assert duplicate.status_code == 409
    other = flag(
        client, headers, goal.id, candidateType="testimonial", flaggedBy="csm@outcomes.example"
    )
    assert other.status_code == 201


def test_flag_errors(client, make_key, goal):
    assert confirm(client, make_key("csm"), goal.id).status_code == 201
    headers = make_key("marketing")
    assert flag(client, {}, goal.id).status_code == 401
    assert flag(client, make_key("sales"), goal.id).status_code == 403
    assert flag(client, headers, uuid.uuid4()).status_code == 404
    bad = flag(client, headers, goal.id, candidateType="billboard")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "candidateType"
    seller = flag(client, headers, goal.id, flaggedBy="sales@outcomes.example")
    assert seller.status_code == 403 and "flaggedBy" in seller.json()["detail"]
    ghost = flag(client, headers, goal.id, flaggedBy="ghost@x.example")
    assert ghost.status_code == 422 and "flaggedBy" in ghost.json()["detail"]


def test_openapi_documents_error_codes(client):
    paths = client.get("/openapi.json").json()["paths"]
    achieve = paths["/api/goals/{goalId}/achieve"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= achieve["responses"].keys()
    assert "verifiedBy" in achieve["description"]
    assert {"404"} <= paths["/api/goals/customer/{customerId}"]["get"]["responses"].keys()
