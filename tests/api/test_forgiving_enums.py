"""CRM spellings of enum values over HTTP: labels in, canonical values stored and answered."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.base import Direction, Role, Segment
from core.customers.models import Customer
from core.goals.models import Goal
from tests import factories as f

CUSTOMER = {"name": "Acme", "industry": "retail", "region": "EMEA", "arr": 5000}
START = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()


@pytest.fixture
def admin(make_key):
    return make_key("admin")


def put_customer(client, headers, **body):
    return client.put("/api/customers/acme", json={**CUSTOMER, **body}, headers=headers)


def goal(**body):
    return {
        "customerExternalId": "acme",
        "type": "KPI",
        "name": "More weekly users",
        "metric": "weekly_active_users",
        "target": 55,
        "startDate": START,
        **body,
    }


def messages(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["msg"] for error in response.json()["detail"]]


def test_a_customer_with_a_crm_segment_label_is_stored_and_answered_canonically(
    client, admin, session
):
    created = put_customer(client, admin, segment="Mid-Market", consentLevel="Full public")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["segment"] == "mid_market" and body["consentLevel"] == "full_public"
    stored = session.scalar(select(Customer).where(Customer.external_id == "acme"))
    assert stored.segment is Segment.MID_MARKET
    again = put_customer(client, admin, segment="MM", consentLevel="full_public")
    assert again.status_code == 200 and again.json() == body  # the same value: nothing changed


def test_a_goal_with_direction_higher_is_stored_and_answered_canonically(client, admin, session):
    f.metric(session, "weekly_active_users", Direction.LOWER, "users")
    assert put_customer(client, admin, segment="SMB").status_code == 201
    created = client.put("/api/goals/G-1", json=goal(direction="higher"), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["direction"] == "higher_is_better" and body["type"] == "kpi"
    assert (
        session.scalar(select(Goal.direction).where(Goal.external_id == "G-1"))
        == "higher_is_better"
    )
    lower = client.put("/api/goals/G-2", json=goal(direction="Lower is better"), headers=admin)
    assert lower.json()["direction"] == "lower_is_better"


def test_an_unknown_spelling_is_a_422_naming_the_field_and_the_spellings(client, admin):
    [message] = messages(put_customer(client, admin, segment="Giant"))
    assert message.startswith("segment: must be one of smb (or small business")
    assert "mid_market (or MM" in message and "case, spaces, hyphens and underscores" in message
    assert "Giant" not in message  # the answer never echoes the input


def test_nested_and_query_enums_are_forgiving_too(client, make_key, session):
    owner = f.user(session, Role.CSM, "Casey", email="csm@outcomes.example")
    cust = f.customer(session, owner=owner)
    sold = f.upsell(session, cust, opportunity_id="OPP-F1")
    review = {"assessment": "On target", "findings": "Adoption is good.", "reviewedBy": owner.email}
    f.plan(session, cust, started_on=sold.close_date, sold=sold)
    answered = client.post("/api/upsell/OPP-F1/review", json=review, headers=make_key("csm"))
    assert answered.status_code == 201, answered.text
    assert answered.json()["assessment"] == "on_track"
    leader = make_key("leader")
    found = client.get("/api/upsell/outcomes", params={"segment": "Mid-Market"}, headers=leader)
    assert found.status_code == 200, found.text
    refused = client.get("/api/upsell/outcomes", params={"segment": "Mega"}, headers=leader)
    assert messages(refused)[0].startswith("segment: must be one of smb")
    page = client.get(
        "/api/goals/achievements", params={"goalType": "KPI threshold"}, headers=leader
    )
    assert page.status_code == 200 and page.json()["total"] == 0
