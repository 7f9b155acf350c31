"""GET and POST /api/customers/{externalId}/value-pack."""

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.outbox.models import Delivery
from tests.core.reporting.test_value_pack import book  # noqa: F401  (the customer's wins)

URL = "/api/customers/{}/value-pack"


@pytest.fixture
def url(session, book):  # noqa: F811
    book["customer"].external_id = "crm-lakewater"
    session.flush()
    return URL.format("crm-lakewater")


def test_the_markdown_download_lists_the_wins_for_cs_staff(client, make_key, url):
    response = client.get(url, params={"audience": "internal"}, headers=make_key("csm"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert "attachment" in response.headers["content-disposition"]
    assert "Lakewater Logistics resolves tickets faster" in response.text
    assert "40% better" in response.text


def test_html_and_pdf_downloads(client, make_key, url):
    headers = make_key("leader")
    page = client.get(url, params={"format": "html"}, headers=headers)
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>") and "<svg" in page.text
    pdf = client.get(url, params={"format": "PDF"}, headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_a_sales_download_follows_consent(client, make_key, url):
    headers = make_key("sales")
    shared = client.get(url, headers=headers)
    assert shared.status_code == 200
    assert "Lakewater" not in shared.text
    assert "A mid\\-market logistics company" in shared.text
    internal = client.get(url, params={"audience": "internal"}, headers=headers)
    assert internal.status_code == 403
    assert internal.json()["detail"].startswith("audience: ")


def test_unknown_customer_is_404_and_a_bad_format_422(client, make_key, url):
    headers = make_key("csm")
    assert client.get(URL.format("nobody"), headers=headers).status_code == 404
    bad = client.get(url, params={"format": "docx"}, headers=headers)
    assert bad.status_code == 422
    assert "format" in str(bad.json()["detail"])
    assert client.post(URL.format("nobody"), json={}, headers=headers).status_code == 404
    assert client.get(url).status_code == 401


def test_asking_for_the_google_doc_twice_queues_one(client, make_key, url, session, book):  # noqa: F811
    headers = make_key("csm")
    first = client.post(url, json={"audience": "internal", "purpose": "QBR"}, headers=headers)
    assert first.status_code == 202
    body = first.json()
    assert body["queued"] is True and body["status"] == "pending"
    assert body["wins"] == 3 and body["entriesUsed"] == 3
    assert body["title"].startswith("Value pack — Lakewater Logistics")
    again = client.post(url, json={"audience": "internal"}, headers=headers).json()
    assert again["queued"] is False and again["deliveryId"] == body["deliveryId"]
    assert again["entriesUsed"] == 0
    rows = session.scalars(select(Delivery).where(Delivery.related_type == "value_pack")).all()
    assert len(rows) == 1
    actors = set(
        session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "value_pack.use"))
    )
    assert actors == {"api:test-csm"}


def test_the_doc_request_body_is_checked(client, make_key, url):
    headers = make_key("marketing")
    assert client.post(url, json={"audience": "internal"}, headers=headers).status_code == 403
    wrong = client.post(url, json={"audience": "everyone"}, headers=headers)
    assert wrong.status_code == 422
    assert client.post(url, json={"colour": "red"}, headers=headers).status_code == 422
    shared = client.post(url, json={}, headers=headers)
    assert shared.status_code == 202
    assert "Lakewater" not in shared.json()["title"]
