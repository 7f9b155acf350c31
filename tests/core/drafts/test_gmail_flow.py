"""End to end: approve an edited draft, run the outbox worker against the fake Google."""

import pytest
from sqlalchemy import select

from core import db
from core.base import Role
from core.customers.models import TimelineEvent
from core.db import session_scope
from core.drafts import service
from core.drafts.models import Draft, DraftStatus
from core.integrations import dispatch
from core.outbox.worker import deliver_due
from jobs.outbox import SENT_HANDLERS
from tests import factories as f
from tests.fakes.google import google_error


@pytest.fixture
def gmail(scratch_db, fake_google, monkeypatch):
    """Gmail settings pointing the real client at the fake Google."""
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_FILE", str(fake_google.service_account_file))
    monkeypatch.setenv("GOOGLE_API_BASE_URL", fake_google.base_url)
    db.reset()
    dispatch.clear_cache()
    yield fake_google
    dispatch.clear_cache()


@pytest.fixture
def approved(gmail):
    """A draft the CSM edited and approved, committed like the page does it."""
    with session_scope() as session:
        csm = f.actor(f.user(session, Role.CSM, "Casey", title="CSM"))
        draft = f.draft(
            session, f.customer(session, owner=csm, name="Acme"), csm, to=("pat@acme.example",)
        )
        draft_id = draft.id
    with session_scope() as session:
        service.approve(
            session=session,
            draft_id=draft_id,
            expected_version=1,
            actor=csm,
            subject="Edited: 3.6 hours, well done",
            body="Hi Pat,\n\nThe edited body & more.\n",
        )
    return draft_id, csm


def test_the_fake_gmail_receives_the_edited_email_and_the_draft_is_sent(gmail, approved):
    draft_id, csm = approved
    assert deliver_due(on_sent=SENT_HANDLERS) == {"sent": 1}
    [mail] = gmail.sent
    assert mail["subject"] == "Edited: 3.6 hours, well done"
    assert mail["text"].replace("\r\n", "\n").startswith("Hi Pat,\n\nThe edited body & more.")
    assert (mail["to"], mail["from"], mail["user"]) == ("pat@acme.example", csm.email, csm.email)
    with session_scope() as session:
        assert session.get(Draft, draft_id).status == DraftStatus.SENT
        event = session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "email_sent"))
        assert event.body.endswith(f"Gmail message id: {mail['id']}")
    assert deliver_due(on_sent=SENT_HANDLERS) == {}  # nothing left: no second email
    assert len(gmail.sent) == 1


def test_a_rejected_delivery_shows_the_draft_as_failed(gmail, approved):
    draft_id, csm = approved
    gmail.script("drafts.create", google_error(400, "invalidArgument", "Invalid To header"))
    assert deliver_due(on_sent=SENT_HANDLERS) == {"dead": 1}
    with session_scope() as session:
        [row] = service.list_drafts(session=session, viewer_id=csm.id, viewer_role=csm.role)
    assert row.id == draft_id and row.status == DraftStatus.FAILED
    assert "invalidArgument" in row.delivery_error
    assert gmail.sent == []
