"""A CSM works the Approvals inbox in the browser: filter, open, edit, look at another draft and
come back to the unsaved edit, approve, the next opens.

Gmail (a local fake) then receives the edited email from the CSM's address, and only that one.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from core import db
from core.accounts.models import User
from core.customers.models import Customer
from core.documentation.service import document_pending
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.drafts.service import create_draft
from core.goals.detection import detect
from core.integrations import dispatch
from core.outbox.worker import deliver_due
from jobs.outbox import SENT_HANDLERS
from tests.e2e.harness import browser_page, chromium, current, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser
EDITED = "We are thrilled for your team — this result was earned by everyone involved."


def _inbox(session: Session) -> dict:
    """Leave one CSM three congratulations emails (oldest first) and one review summary."""
    emails = (
        select(Draft.owner_id)
        .where(
            Draft.status == DraftStatus.PENDING,
            Draft.kind == DraftKind.CUSTOMER_EMAIL,
            Draft.to_addresses != [],
        )
        .group_by(Draft.owner_id)
        .order_by(func.count().desc(), Draft.owner_id)
        .limit(1)
    )
    csm = session.get(User, session.scalar(emails))
    drafts = list(
        session.scalars(
            select(Draft)
            .where(
                Draft.owner_id == csm.id,
                Draft.status == DraftStatus.PENDING,
                Draft.kind == DraftKind.CUSTOMER_EMAIL,
                Draft.to_addresses != [],
            )
            .order_by(Draft.id)
        )
    )
    assert len(drafts) >= 3, "the demo data should give one CSM three congratulations drafts"
    kept = drafts[:3]
    session.execute(  # the rest of the CSM's queue is decided: the journey sees four drafts
        update(Draft)
        .where(Draft.owner_id == csm.id, Draft.id.not_in([d.id for d in kept]))
        .values(status=DraftStatus.REJECTED, rejected_reason="not part of this journey")
    )
    now = datetime.now(UTC)
    for days, draft in zip((3, 2, 1), kept, strict=True):
        session.execute(
            update(Draft).where(Draft.id == draft.id).values(created_at=now - timedelta(days=days))
        )
    customer = session.scalar(select(Customer).where(Customer.owner_csm_id == csm.id).limit(1))
    create_draft(
        session=session,
        kind=DraftKind.REVIEW_SUMMARY,
        customer_id=customer.id,
        owner_id=csm.id,
        related_type="checkpoint",
        related_id=customer.id,  # no such checkpoint: the pane says its origin is gone
        to=[],
        subject="Internal review summary",
        body="Numbers for the review.",
    )
    names = {c.id: c.name for c in session.scalars(select(Customer))}
    return {
        "csm": csm.email,
        "drafts": [
            {"id": d.id, "subject": d.subject, "customer": names[d.customer_id]} for d in kept
        ],
    }


@pytest.fixture(scope="module")
def inbox(pg_server):
    """A demo database where detected wins left congratulations drafts in one CSM's inbox."""
    from data.demo import generate

    url = pg_server.create_database("outcomes_approval_e2e")
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=30, seed=5)
    with Session(engine) as session:
        detect(session=session)
        document_pending(session=session)
        info = {"url": url, **_inbox(session)}
        session.commit()
    engine.dispose()
    yield info
    pg_server.drop_database("outcomes_approval_e2e")


def test_csm_filters_opens_edits_approves_and_the_next_draft_opens(
    inbox, fake_google, tmp_path, tmp_path_factory, monkeypatch
):
    from playwright.sync_api import expect

    first, chosen, following = inbox["drafts"]
    with (
        streamlit_server(inbox["url"], tmp_path_factory.mktemp("streamlit")) as ui,
        chromium() as browser,
        browser_page(browser) as page,
    ):
        page.goto(f"{ui}/approvals?user={inbox['csm']}")
        rows = page.locator("[class*='st-key-approvals_open_']")
        expect(rows).to_have_count(4)
        page.get_by_test_id("stSelectbox").filter(has_text="Kind").click()
        page.get_by_role("option", name="Customer email").click()
        expect(rows).to_have_count(3)  # the review summary is filtered out
        expect(page.get_by_text("3 drafts", exact=True)).to_be_visible()

        pane = page.locator(".st-key-approvals_pane")
        subject = current(pane).get_by_role("textbox", name="Subject")
        expect(subject).to_have_value(first["subject"])  # the oldest opens first
        page.locator(f".st-key-approvals_open_{chosen['id']} button").first.click()
        expect(subject).to_have_value(chosen["subject"])
        expect(pane.get_by_text("From the win:")).to_be_visible()
        body = current(pane).get_by_role("textbox", name="Body")
        body.fill(EDITED)
        # Opening another draft before saving keeps the typing: back on it, the text is there.
        page.locator(f".st-key-approvals_open_{following['id']} button").first.click()
        expect(subject).to_have_value(following["subject"])
        expect(page.locator(f".st-key-approvals_row_{chosen['id']}")).to_contain_text(
            "Unsaved edits"
        )
        page.locator(f".st-key-approvals_open_{chosen['id']} button").first.click()
        expect(subject).to_have_value(chosen["subject"])
        expect(body).to_have_value(EDITED)
        pane.get_by_role("button", name="Approve & send").click()

        expect(subject).to_have_value(following["subject"])  # the next one in the list's order
        expect(pane.get_by_role("heading", name=following["customer"])).to_be_visible()
        expect(page.get_by_test_id("stToast")).to_contain_text("Approved and sending to")
        expect(rows).to_have_count(2)
        shot = tmp_path / "approvals.png"
        page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
    assert _statuses(inbox) == [DraftStatus.PENDING, DraftStatus.APPROVED, DraftStatus.PENDING]

    monkeypatch.setenv("DATABASE_URL", inbox["url"])
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_FILE", str(fake_google.service_account_file))
    monkeypatch.setenv("GOOGLE_API_BASE_URL", fake_google.base_url)
    db.reset()
    dispatch.clear_cache()
    try:
        deliver_due(on_sent=SENT_HANDLERS, configured=lambda: {"gmail": True})
    finally:
        dispatch.clear_cache()
        db.reset()
    [sent] = fake_google.sent
    assert sent["subject"] == chosen["subject"]
    assert EDITED in sent["text"]
    assert inbox["csm"] in sent["from"]
    assert _statuses(inbox)[1] == DraftStatus.SENT


def _statuses(info) -> list[DraftStatus]:
    engine = create_engine(info["url"])
    with Session(engine) as session:
        found = [session.get(Draft, d["id"]).status for d in info["drafts"]]
    engine.dispose()
    return found
