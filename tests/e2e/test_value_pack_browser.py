"""A CSM opens a customer, downloads its value pack and has it made a Google Doc."""

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from core import db
from core.base import Consent, Direction
from core.integrations import dispatch
from core.outbox.models import Delivery
from core.outbox.worker import deliver_due
from jobs.outbox import SENT_HANDLERS
from tests import factories as f
from tests.core.reporting.test_value_pack import _win
from tests.e2e.harness import TIMEOUT_MS, browser_page, chromium, settle, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser
WIN = "Lakewater Logistics resolves tickets faster"


@pytest.fixture(scope="module")
def book_url(pg_server):
    """A database with one CSM's customer and two documented wins."""
    url = pg_server.create_database("outcomes_value_pack_e2e")
    migrate(url)
    engine = create_engine(url)
    with Session(engine) as session:
        csm = f.csm(session, email="casey@outcomes.example")
        cust = f.customer(
            session, name="Lakewater Logistics", owner=csm, consent=Consent.FULL_PUBLIC
        )
        _win(
            session,
            cust,
            name=WIN,
            key="resolution_hours",
            direction=Direction.LOWER,
            baseline=10,
            achieved=6,
            target=8,
            unit="hours",
            metric_name="Resolution time",
        )
        _win(
            session,
            cust,
            name="Reach 500 weekly users",
            key="weekly_users",
            direction=Direction.HIGHER,
            baseline=None,
            achieved=520,
            target=500,
            unit="users",
        )
        info = {"url": url, "csm": csm.email, "customer": str(cust.id)}
        session.commit()
    engine.dispose()
    yield info
    pg_server.drop_database("outcomes_value_pack_e2e")


def test_csm_downloads_the_value_pack_and_creates_its_google_doc(
    book_url, fake_google, tmp_path, tmp_path_factory, monkeypatch
):
    from playwright.sync_api import expect

    address = f"/customers?user={book_url['csm']}&customer={book_url['customer']}"
    with (
        streamlit_server(book_url["url"], tmp_path_factory.mktemp("streamlit")) as ui,
        chromium() as browser,
        browser_page(browser) as page,
    ):
        page.goto(f"{ui}{address}&section=value-pack")
        page.get_by_text("Who is it for?").wait_for()
        wins = page.get_by_test_id("stMetric").filter(has_text="Verified wins")
        expect(wins.get_by_test_id("stMetricValue")).to_have_text("2", timeout=TIMEOUT_MS)

        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_role("button", name="Download Markdown").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name.startswith("value-pack-lakewater-logistics-")
        text = saved.read_text()
        assert WIN in text
        assert "40% better" in text

        page.get_by_role("button", name="Create Google Doc").click()
        expect(page.get_by_text("Google Doc: Queued")).to_be_visible(timeout=TIMEOUT_MS)

        monkeypatch.setenv("DATABASE_URL", book_url["url"])
        monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_FILE", str(fake_google.service_account_file))
        monkeypatch.setenv("GOOGLE_API_BASE_URL", fake_google.base_url)
        monkeypatch.setenv("GOOGLE_DRIVE_FOLDER_ID", "FOLDER-VALUE-PACKS")
        db.reset()
        dispatch.clear_cache()
        try:
            deliver_due(on_sent=SENT_HANDLERS, configured=lambda: {"google_doc": True})
        finally:
            dispatch.clear_cache()
            db.reset()
        packs = [
            doc
            for doc in fake_google.files.values()
            if doc["appProperties"].get("outcomesRecordId", "").startswith("value_pack:")
        ]
        assert len(packs) == 1, [d["name"] for d in fake_google.files.values()]
        assert packs[0]["name"].startswith("Value pack — Lakewater Logistics")
        assert packs[0]["parents"] == ["FOLDER-VALUE-PACKS"]
        assert WIN in packs[0]["html"] and "40% better" in packs[0]["html"]

        page.goto(f"{ui}{address}&section=value-pack")
        expect(page.get_by_role("link", name="Open the Google Doc")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        expect(wins.get_by_test_id("stMetricValue")).to_have_text("2", timeout=TIMEOUT_MS)
        settle(page)
        page.screenshot(path=tmp_path / "value-pack.png", full_page=True)
    assert (tmp_path / "value-pack.png").stat().st_size > 10_000
    engine = create_engine(book_url["url"])
    with Session(engine) as session:
        sent = session.scalars(select(Delivery).where(Delivery.related_type == "value_pack"))
        assert [d.external_ref for d in sent] == [packs[0]["webViewLink"]]
    engine.dispose()
