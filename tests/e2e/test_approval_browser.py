"""A CSM edits a congratulations draft in the browser and approves it; Gmail gets the edit."""

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from core import db
from core.accounts.models import User
from core.documentation.service import document_pending
from core.drafts.models import Draft, DraftStatus
from core.goals.detection import detect
from core.integrations import dispatch
from core.outbox.worker import deliver_due
from jobs.outbox import SENT_HANDLERS
from tests.e2e.harness import TIMEOUT_MS, browser_page, chromium, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser
EDITED = "We are thrilled for your team — this result was earned by everyone involved."


@pytest.fixture(scope="module")
def drafts_url(pg_server):
    """A demo database where detected wins left congratulations drafts in the queue."""
    from data.demo import generate

    url = pg_server.create_database("outcomes_approval_e2e")
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=30, seed=5)
    with Session(engine) as session:
        detect(session=session)
        document_pending(session=session)
        draft = session.scalars(
            select(Draft)
            .where(Draft.status == DraftStatus.PENDING, Draft.to_addresses != [])
            .order_by(Draft.created_at, Draft.id)
        ).first()
        assert draft is not None, "the demo data should produce at least one draft"
        csm = session.get(User, draft.owner_id)
        # Leave this CSM one pending draft, so the page shows exactly one editor.
        session.execute(
            update(Draft)
            .where(Draft.owner_id == csm.id, Draft.id != draft.id)
            .values(status=DraftStatus.REJECTED, rejected_reason="not part of this journey")
        )
        info = {"url": url, "csm": csm.email, "draft": draft.id, "subject": draft.subject}
        session.commit()
    engine.dispose()
    yield info
    pg_server.drop_database("outcomes_approval_e2e")


def test_csm_approves_an_edited_draft_and_gmail_receives_the_edit(
    drafts_url, fake_google, tmp_path, tmp_path_factory, monkeypatch
):
    from playwright.sync_api import expect

    with (
        streamlit_server(drafts_url["url"], tmp_path_factory.mktemp("streamlit")) as ui,
        chromium() as browser,
        browser_page(browser) as page,
    ):
        page.goto(f"{ui}/approvals?user={drafts_url['csm']}")
        card = (
            page.get_by_test_id("stForm")
            .filter(has=page.get_by_role("textbox", name="Subject"))
            .filter(has=page.locator(f'input[value="{drafts_url["subject"]}"]'))
            .first
        )
        card.wait_for(timeout=TIMEOUT_MS)
        body = card.get_by_role("textbox", name="Body")
        body.fill(EDITED)
        card.get_by_role("button", name="Approve & send").click()
        expect(card).to_have_count(0, timeout=TIMEOUT_MS)  # it left the pending queue
        page.screenshot(path=tmp_path / "approvals.png", full_page=True)
    assert _status(drafts_url) == DraftStatus.APPROVED

    monkeypatch.setenv("DATABASE_URL", drafts_url["url"])
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_FILE", str(fake_google.service_account_file))
    monkeypatch.setenv("GOOGLE_API_BASE_URL", fake_google.base_url)
    db.reset()
    dispatch.clear_cache()
    try:
        deliver_due(on_sent=SENT_HANDLERS, configured=lambda: {"gmail": True})
    finally:
        dispatch.clear_cache()
        db.reset()
    sent = [m for m in fake_google.sent if m["subject"] == drafts_url["subject"]]
    assert len(sent) == 1, [(m["subject"], drafts_url["subject"]) for m in fake_google.sent]
    assert EDITED in sent[0]["text"]
    assert drafts_url["csm"] in sent[0]["from"]
    assert _status(drafts_url) == DraftStatus.SENT


def _status(info) -> DraftStatus:
    engine = create_engine(info["url"])
    with Session(engine) as session:
        status = session.get(Draft, info["draft"]).status
    engine.dispose()
    return status
