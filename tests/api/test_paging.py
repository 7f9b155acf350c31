"""Keyset pages on the API's lists: `cursor` in, `nextCursor` (or `X-Next-Cursor`) out;
`offset` still works; a capped repository total says so."""

from datetime import date, timedelta

import pytest

from core.base import Consent, Direction, Role
from core.repository import queries as repo
from tests import factories as f


def walk(client, url: str, headers: dict, params: dict, *, header: bool = False) -> list[dict]:
    """Every row of a list, a page at a time, following the cursors."""
    rows, cursor = [], None
    while True:
        answer = client.get(
            url, params=params | ({"cursor": cursor} if cursor else {}), headers=headers
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows += body if header else body["items"]
        cursor = answer.headers.get("x-next-cursor") if header else body["nextCursor"]
        if cursor is None:
            return rows


@pytest.fixture
def wins(session):
    cust = f.customer(session, name="Orchard Labs", consent=Consent.FULL_PUBLIC)
    for i in range(5):
        won = f.goal(session, cust, name=f"Weekly users grew {i}")
        f.achievement(session, won, achieved_at=f.NOW - timedelta(days=i // 2))
        f.repository_entry(
            session, f"Weekly users grew {i}", cust=cust, achieved_on=date(2026, 5, 1)
        )
    return cust


@pytest.mark.parametrize(
    "url, params",
    [
        ("/api/value-repository", {"limit": 2}),
        ("/api/value-repository", {"limit": 2, "q": "users"}),
        ("/api/goals/achievements", {"limit": 2}),
    ],
)
def test_cursor_pages_give_every_row_once_in_the_order_of_one_page(
    client, make_key, wins, url, params
):
    headers = make_key(Role.LEADER)
    whole = client.get(url, params=params | {"limit": 50}, headers=headers).json()
    assert whole["nextCursor"] is None
    paged = walk(client, url, headers, params)
    assert [r["id"] for r in paged] == [r["id"] for r in whole["items"]]
    assert len(paged) == whole["total"] >= 5
    offset = client.get(url, params=params | {"offset": 2}, headers=headers).json()
    assert [r["id"] for r in offset["items"]] == [r["id"] for r in whole["items"][2:4]]


@pytest.mark.parametrize("url", ["/api/value-repository", "/api/goals/achievements"])
def test_a_bad_cursor_or_a_cursor_with_an_offset_answers_422(client, make_key, wins, url):
    headers = make_key(Role.LEADER)
    cursor = client.get(url, params={"limit": 1}, headers=headers).json()["nextCursor"]
    both = client.get(url, params={"limit": 1, "cursor": cursor, "offset": 1}, headers=headers)
    assert both.status_code == 422 and "cursor" in both.text
    bad = client.get(url, params={"cursor": "bm90IG91cnM"}, headers=headers)
    assert bad.status_code == 422 and "cursor" in bad.text


def test_the_customer_feedback_pages_with_a_cursor(client, make_key, session):
    cust = f.customer(session, external_id="crm-orchard")
    for i in range(5):
        f.feedback(session, cust, when=f.NOW - timedelta(hours=i % 2), comment=f"Note {i}")
    headers = make_key(Role.CSM)
    url = "/api/customers/crm-orchard/feedback"
    whole = client.get(url, params={"limit": 50}, headers=headers).json()
    paged = walk(client, url, headers, {"limit": 2})
    assert [r["id"] for r in paged] == [r["id"] for r in whole["items"]] and len(paged) == 5


def test_lists_answering_an_array_page_with_a_header(client, make_key, session):
    for i in range(5):
        f.user(session, Role.CSM, f"Person {i % 2}", email=f"person{i}@outcomes.example")
        f.metric(session, f"paged_metric_{i}", Direction.HIGHER, "users", name=f"Metric {i % 2}")
    headers = make_key(Role.ADMIN)
    for url in ("/api/users", "/api/metrics"):
        whole = client.get(url, headers=headers)
        assert "x-next-cursor" not in whole.headers  # no limit: every row, as before
        paged = walk(client, url, headers, {"limit": 2}, header=True)
        assert [r.get("email") or r["key"] for r in paged] == [
            r.get("email") or r["key"] for r in whole.json()
        ]
        assert len(paged) >= 5


def test_a_capped_repository_total_says_so(client, make_key, wins, monkeypatch):
    monkeypatch.setattr(repo, "CAP", 3)
    body = client.get("/api/value-repository", params={"q": "users"}, headers=make_key()).json()
    assert (body["total"], body["totalCapped"]) == (3, True)
    body = client.get("/api/value-repository", params={"q": "users 4"}, headers=make_key()).json()
    assert (body["total"], body["totalCapped"]) == (1, False)


def test_the_set_up_lists_page_with_a_header_in_their_own_order(client, make_key, session):
    admin = make_key(Role.ADMIN)
    cust = f.customer(session, external_id="crm-paged")
    for i in range(5):
        f.contact(session, cust, f"Pat {'Ä' if i % 2 else 'a'}", primary=i == 3)
        f.metric(session, f"paged_metric_{i}", Direction.HIGHER, "users", name=f"Metric {i}")
        code = f"paged-{i}"
        # Names repeat, so the code (and the id) must break the tie.
        assert client.put(f"/api/products/{code}", json={"name": "Suite"}, headers=admin).is_success
        template = {
            "criteria": [{"name": "Users", "metricKey": f"paged_metric_{i}", "uplift": 0.1}],
            "checkpointDays": [30, 60, 90],
        }
        put = client.put(f"/api/success-templates/{code}", json=template, headers=admin)
        assert put.is_success, put.text
        for segment in ("enterprise", "smb"):
            industry = "retail" if i % 2 else "Retail"
            if i < 2:  # one industry however it is spelled: the second spelling updates
                industry = f"Industry {i}"
            url = f"/api/benchmarks/{industry}/{segment}/paged_metric_{i}"
            made = client.put(url, json={"median": 10, "topQuartile": 20}, headers=admin)
            assert made.is_success, made.text
    make_key(Role.CSM)  # a few keys besides the admin's
    make_key(Role.SALES)
    lists = {
        "/api/products": "code",
        "/api/success-templates": "productCode",
        "/api/benchmarks": "id",
        "/api/keys": "id",
        "/api/customers/crm-paged/contacts": "id",
    }
    for url, key in lists.items():
        whole = client.get(url, headers=admin)
        assert whole.status_code == 200 and "x-next-cursor" not in whole.headers, url
        paged = walk(client, url, admin, {"limit": 2}, header=True)
        assert [r[key] for r in paged] == [r[key] for r in whole.json()], url
        assert len(paged) == len(whole.json()) >= 3, url
    contacts = client.get("/api/customers/crm-paged/contacts", headers=admin).json()
    assert contacts[0]["primary"] and len(contacts) == 5
    filtered = walk(client, "/api/benchmarks", admin, {"limit": 1, "segment": "SMB"}, header=True)
    assert [b["segment"] for b in filtered] == ["smb"] * len(filtered) and len(filtered) >= 3
    stale = client.get("/api/products", params={"cursor": "bm90IG91cnM"}, headers=admin)
    assert stale.status_code == 422 and "cursor" in stale.text
