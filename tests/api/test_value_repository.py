"""GET /api/value-repository and POST /api/value-repository/{id}/use."""

from datetime import date
from decimal import Decimal

import pytest

from core.base import Consent
from core.goals.models import GoalType
from tests import factories as f

URL = "/api/value-repository"


@pytest.fixture
def entries(session):
    acme = f.customer(
        session, name="Acme Health", consent=Consent.FULL_PUBLIC, industry="Healthcare"
    )
    hidden = f.customer(session, name="Initech", consent=Consent.ANONYMIZED, industry="Fintech")
    return [
        f.repository_entry(
            session,
            "Support automation halved resolution time",
            "Tickets closed faster.",
            cust=acme,
            products=["ai-assistant"],
            goal_type=GoalType.ROI,
            value_amount=Decimal("120000"),
            value_unit="USD",
            use_case="Support",
            achieved_on=date(2026, 3, 1),
            consent=Consent.LOGO,
        ),
        f.repository_entry(
            session,
            "Onboarding completed",
            "Initech finished onboarding in 30 days.",
            cust=hidden,
            consent=Consent.ANONYMIZED,
            achieved_on=date(2025, 9, 1),
        ),
    ]


def test_search_returns_camel_case_items(client, make_key, entries):
    response = client.get(URL, params={"q": "automating tickets"}, headers=make_key("sales"))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert item["id"] == str(entries[0].id)
    assert item["customerName"] == "Acme Health"
    assert item["title"] == "Support automation halved resolution time"
    assert item["headline"] == "<mark>Tickets</mark> closed faster."
    assert item["useCase"] == "Support" and item["products"] == ["ai-assistant"]
    assert item["goalType"] == "roi" and item["consentLevel"] == "logo"
    assert item["valueAmount"] == 120000 and item["valueUnit"] == "USD"
    assert item["achievedOn"] == "2026-03-01" and item["usageCount"] == 0
    assert 0 < item["rank"] <= 1
    assert item["proofPoint"].startswith("Acme Health — ")


def test_filters_paging_and_hidden_names(client, make_key, entries):
    headers = make_key("csm")
    body = client.get(URL, params={"limit": 1, "offset": 1}, headers=headers).json()
    assert body["total"] == 2 and [i["id"] for i in body["items"]] == [str(entries[1].id)]
    (hidden,) = body["items"]
    assert hidden["customerName"] is None and hidden["rank"] is None
    assert "Initech" not in hidden["snippet"] + hidden["proofPoint"] + hidden["headline"]
    params = [("consent", "anonymized"), ("consent", "internal_only"), ("industry", "Fintech")]
    assert client.get(URL, params=params, headers=headers).json()["total"] == 1
    params = {
        "consent": "logo,full_public",
        "goalType": "roi",
        "product": "ai-assistant",
        "dateFrom": "2026-01-01",
        "dateTo": "2026-12-31",
        "valueMin": "1000",
        "valueMax": "200000",
        "useCase": "Support",
    }
    assert client.get(URL, params=params, headers=headers).json()["total"] == 1


def test_search_needs_a_key(client, entries):
    assert client.get(URL).status_code == 401
    assert client.post(f"{URL}/{entries[0].id}/use", json={"purpose": "qbr"}).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"goalType": "nope"}, "goalType"),
        ({"consent": "public"}, "consent"),
        ({"valueMin": "10", "valueMax": "5"}, "valueMax"),
        ({"dateFrom": "2026-02-01", "dateTo": "2026-01-01"}, "dateTo"),
        ({"dateFrom": "yesterday"}, "dateFrom"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_bad_parameters_answer_422_naming_the_field(client, make_key, params, field):
    response = client.get(URL, params=params, headers=make_key("marketing"))
    assert response.status_code == 422
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}


def test_use_counts_and_returns_the_new_count(client, make_key, entries, session):
    headers = make_key("sales")
    url = f"{URL}/{entries[0].id}/use"
    assert client.post(url, json={"purpose": "qbr"}, headers=headers).json() == {
        "id": str(entries[0].id),
        "usageCount": 1,
    }
    response = client.post(url, json={"purpose": "renewal"}, headers=headers)
    assert response.status_code == 200 and response.json()["usageCount"] == 2
    item = client.get(URL, params={"q": "automation"}, headers=headers).json()["items"][0]
    assert item["usageCount"] == 2


def test_use_of_an_unknown_entry_is_404_and_a_bad_purpose_422(client, make_key, entries):
    headers = make_key("sales")
    unknown = f"{URL}/00000000-0000-0000-0000-000000000000/use"
    response = client.post(unknown, json={"purpose": "qbr"}, headers=headers)
    assert response.status_code == 404 and "No value repository entry" in response.json()["detail"]
    response = client.post(f"{URL}/{entries[0].id}/use", json={"purpose": "fun"}, headers=headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "purpose"
    assert (
        client.post(f"{URL}/not-a-uuid/use", json={"purpose": "qbr"}, headers=headers).status_code
        == 422
    )
