"""Consent in every API answer: a sales or marketing key never reads a hidden customer's name."""

import pytest
from sqlalchemy import select

from core.goals.models import Achievement
from core.repository.models import RepositoryEntry
from tests import factories as f
from tests.core.repository.test_consent_layer import leaks, world
from tests.core.upsell.scenarios import catalog

EXTERNAL = ("sales", "marketing")


@pytest.fixture
def w(session):
    return world(session)


@pytest.mark.parametrize("role", EXTERNAL)
def test_repository_search_neither_matches_nor_highlights_a_hidden_name(client, make_key, w, role):
    headers = make_key(role)
    for q in ("Lakewater", "Lakewater Technologies", "Brightline"):
        response = client.get("/api/value-repository", params={"q": q}, headers=headers)
        assert response.status_code == 200
        assert response.json()["total"] == 0, q
    response = client.get("/api/value-repository", params={"q": "users"}, headers=headers)
    body = response.json()
    assert body["total"] == 3 and not leaks(response.text)
    hidden = {i["customerId"]: i for i in body["items"]}[str(w["lakewater"].id)]
    assert hidden["customerName"] is None
    assert hidden["customerLabel"] == "A mid-market fintech company"
    assert "<mark>users</mark>" in hidden["headline"]
    assert hidden["title"] == "The customer: Grow the customer weekly active users to 55"


def test_a_legacy_entry_naming_its_customer_is_redacted_before_highlighting(
    client, make_key, session, w
):
    # Filed before names became placeholders: the stored snippet still holds the name.
    entry = session.scalar(
        select(RepositoryEntry).where(RepositoryEntry.customer_id == w["lakewater"].id)
    )
    entry.snippet = "Lakewater Technologies raised weekly active users by 21%."
    session.flush()
    headers = make_key("sales")
    response = client.get("/api/value-repository", params={"q": "Lakewater"}, headers=headers)
    assert response.json()["total"] == 0
    response = client.get("/api/value-repository", params={"q": "raised"}, headers=headers)
    (item,) = [i for i in response.json()["items"] if i["customerId"] == str(w["lakewater"].id)]
    assert item["headline"] == "The customer <mark>raised</mark> weekly active users by 21%."
    assert not leaks(response.text)


@pytest.mark.parametrize("role", EXTERNAL)
def test_achievements_and_customer_goals_describe_hidden_customers(
    client, make_key, session, w, role
):
    headers = make_key(role)
    response = client.get("/api/goals/achievements", headers=headers)
    assert response.status_code == 200 and response.json()["total"] == 3
    assert not leaks(response.text) and "Acme Health" not in response.text
    names = {i["customerName"] for i in response.json()["items"]}
    assert names == {"Acme Care", "A mid-market fintech company"}
    for cust in (w["lakewater"], w["brightline"]):
        response = client.get(f"/api/goals/customer/{cust.id}", headers=headers)
        assert response.status_code == 200
        assert not leaks(response.text), cust.name
        body = response.json()
        assert body["customer"]["name"] == "A mid-market fintech company"
        assert body["goals"][0]["name"] == "Grow the customer weekly active users to 55"


def test_cs_staff_keys_still_read_names(client, make_key, w):
    response = client.get("/api/goals/achievements", headers=make_key("leader"))
    names = {i["customerName"] for i in response.json()["items"]}
    assert names == {"Acme Care", "Lakewater Group", "Brightline Bank"}
    response = client.get(f"/api/goals/customer/{w['lakewater'].id}", headers=make_key("csm"))
    assert response.json()["customer"]["name"] == "Lakewater Group"


def test_a_public_customer_is_named_by_its_current_name(client, make_key, session, w):
    achievement = session.scalar(select(Achievement).where(Achievement.customer_id == w["acme"].id))
    response = client.get(
        "/api/goals/achievements",
        params={"customerId": str(w["acme"].id)},
        headers=make_key("marketing"),
    )
    (item,) = response.json()["items"]
    assert item["id"] == str(achievement.id) and item["customerName"] == "Acme Care"
    assert item["goalName"] == "Grow Acme Care weekly active users to 55"


def test_upsell_progress_scrubs_a_hidden_customers_names(client, make_key, session):
    catalog(session)
    cust = f.customer(session)  # consent: internal only (the default)
    sold = f.upsell(session, cust, ("analytics",), opportunity_id="006CONSENT")
    sold.name = f"{cust.name} analytics expansion"
    csm = f.csm(session)
    headers = make_key("csm")
    url = f"/api/upsell/{sold.id}/success-measurement"
    assert client.post(url, json={}, headers=headers).is_success
    review = {
        "checkpointDay": 30,
        "assessment": "on_track",
        "findings": f"{cust.name} rolled dashboards out to every team.",
        "reviewedBy": csm.email,
    }
    assert client.post(f"/api/upsell/{sold.id}/review", headers=headers, json=review).is_success
    seen = client.get(f"/api/upsell/{sold.id}/progress", headers=make_key("sales"))
    assert seen.status_code == 200 and cust.name not in seen.text
    body = seen.json()
    assert body["upsellDetails"]["name"] == "The customer analytics expansion"
    assert body["reviews"][0]["findings"] == "The customer rolled dashboards out to every team."
    inside = client.get(f"/api/upsell/{sold.id}/progress", headers=headers)
    assert inside.json()["upsellDetails"]["name"] == f"{cust.name} analytics expansion"
