"""The Approvals page on a scratch database: edit, approve, conflicts, reject and bulk."""

import uuid

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.accounts.schemas import UserSummary
from core.base import Role
from core.db import session_scope
from core.drafts import service
from core.drafts.models import Draft, DraftStatus
from core.outbox.models import Delivery
from tests import factories as f
from tests.pages import apptest

BODY = "Hi Pat,\n\nYou cut resolution time to 3.6 hours.\n\nCasey"


def _people() -> dict[str, UserSummary]:
    with session_scope() as session:
        users = {
            "csm": f.csm(session, "Casey CSM", email="casey@outcomes.example"),
            "admin": f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example"),
            "leader": f.user(session, Role.LEADER, "Lee Leader", email="lee@outcomes.example"),
        }
        return {k: f.actor(u) for k, u in users.items()}


def _draft(owner: UserSummary, name: str = "Acme Corp") -> uuid.UUID:
    with session_scope() as session:
        customer = f.customer(session, name=name, owner=owner)
        return f.draft(session, customer, owner, subject=f"Congratulations, {name}", body=BODY).id


def _open(user: UserSummary) -> AppTest:
    return apptest.open_page(user.id, "../pages/approvals.py")


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.info, *at.success, *at.error, *at.warning]
    return "\n".join(str(p.value) for p in parts).replace("\\", "")  # drop markdown escapes


def _stored(draft_id) -> Draft:
    with session_scope() as session:
        return session.get(Draft, draft_id)


def test_empty_queue_explains_where_drafts_come_from(scratch_db):
    at = _open(_people()["csm"])
    assert "Nothing is waiting for approval" in _texts(at)
    assert "achieves a goal" in _texts(at) and "checkpoint review is due" in _texts(at)


def test_csm_edits_and_approves_and_the_edited_email_is_queued(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    at = _open(people["csm"])
    assert "Acme Corp" in _texts(at) and "pat@acme.example" in _texts(at)
    at.text_input(key=f"draft_subject_{draft_id}").input("Well done, Acme: 3.6 hours")
    at.text_area(key=f"draft_body_{draft_id}").input("Hi Pat,\n\nEdited in the queue.")
    at.button(key=f"draft_approve_{draft_id}").click().run()
    assert not at.exception
    assert "Approved the draft for Acme Corp" in _texts(at)
    with session_scope() as session:
        [delivery] = session.scalars(select(Delivery))
    assert delivery.payload["subject"] == "Well done, Acme: 3.6 hours"
    assert delivery.payload["text"] == "Hi Pat,\n\nEdited in the queue."
    assert delivery.payload["sender"] == "casey@outcomes.example"
    assert _stored(draft_id).status == DraftStatus.APPROVED
    assert "Nothing is waiting for approval" in _texts(at)


def test_a_stale_save_shows_the_conflict_and_loads_the_latest_text(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    at = _open(people["csm"])
    with session_scope() as session:  # the admin saves while Casey is still typing
        service.update_draft(
            session=session,
            draft_id=draft_id,
            subject="Admin subject",
            body="Admin's text",
            expected_version=1,
            actor=people["admin"],
        )
    at.text_area(key=f"draft_body_{draft_id}").input("Casey's text")
    at.button(key=f"draft_save_{draft_id}").click().run()
    assert not at.exception
    assert any("Someone else saved this draft since you opened it" in e.value for e in at.error)
    assert at.text_area(key=f"draft_body_{draft_id}").value == "Admin's text"
    assert at.text_input(key=f"draft_subject_{draft_id}").value == "Admin subject"
    assert _stored(draft_id).body == "Admin's text"

    at.text_area(key=f"draft_body_{draft_id}").input("Casey's text, on top of the admin's")
    at.button(key=f"draft_save_{draft_id}").click().run()
    assert "Saved the draft for Acme Corp" in _texts(at)
    assert _stored(draft_id).body == "Casey's text, on top of the admin's"


def test_reject_needs_a_reason(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    at = _open(people["csm"])
    at.button(key=f"draft_reject_{draft_id}").click().run()
    assert any("Give a reason to reject" in e.value for e in at.error)
    assert _stored(draft_id).status == DraftStatus.PENDING
    at.text_input(key=f"draft_reason_{draft_id}").input("Goal not confirmed yet")
    at.button(key=f"draft_reject_{draft_id}").click().run()
    assert "Rejected the draft for Acme Corp; nothing was sent" in _texts(at)
    stored = _stored(draft_id)
    assert (stored.status, stored.rejected_reason) == (
        DraftStatus.REJECTED,
        "Goal not confirmed yet",
    )


def test_leaders_see_the_queue_read_only(scratch_db):
    people = _people()
    _draft(people["csm"])
    at = _open(people["leader"])
    assert "Acme Corp" in _texts(at) and "Congratulations, Acme Corp" in _texts(at)
    assert "Only the owning CSM or an admin can approve" in _texts(at)
    assert not [b for b in at.button if str(b.key).startswith("draft_")]


def test_bulk_approve_approves_the_chosen_drafts(scratch_db):
    people = _people()
    first, second = _draft(people["csm"], "Acme Corp"), _draft(people["csm"], "Globex")
    at = _open(people["admin"])
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_go").click().run()
    assert not at.exception
    assert "Approved 2 drafts; 2 emails are queued." in _texts(at)
    assert {_stored(first).status, _stored(second).status} == {DraftStatus.APPROVED}


def test_a_draft_decided_meanwhile_explains_itself(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    at = _open(people["csm"])
    with session_scope() as session:
        service.approve(
            session=session, draft_id=draft_id, expected_version=1, actor=people["admin"]
        )
    at.button(key=f"draft_approve_{draft_id}").click().run()
    assert not at.exception
    assert "Acme Corp: This draft was already approved" in _texts(at)
    with session_scope() as session:
        assert len(list(session.scalars(select(Delivery)))) == 1


def test_bulk_approve_names_a_draft_changed_meanwhile_and_approves_nothing(scratch_db):
    people = _people()
    first, second = _draft(people["csm"], "Acme Corp"), _draft(people["csm"], "Globex")
    at = _open(people["csm"])
    with session_scope() as session:
        service.update_draft(
            session=session,
            draft_id=second,
            subject="Changed by Ada",
            body="New text",
            expected_version=1,
            actor=people["admin"],
        )
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_go").click().run()
    assert "Globex — “Changed by Ada”: Someone else saved this draft" in _texts(at)
    assert "Nothing was approved" in _texts(at)
    assert {_stored(first).status, _stored(second).status} == {DraftStatus.PENDING}
    assert any("Someone else saved a newer version" in w.value for w in at.warning)
    at.button(key=f"draft_reload_{second}").click().run()
    assert at.text_area(key=f"draft_body_{second}").value == "New text"
    assert not at.warning
