"""The Approvals inbox on a scratch database: list, filters, the detail pane, decisions, bulk."""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from components import approval_data
from core.accounts.schemas import UserSummary
from core.base import Role
from core.db import session_scope
from core.drafts import service
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.outbox.models import Delivery
from core.upsell.models import Checkpoint
from tests import factories as f
from tests.pages import apptest
from tests.pages.visible_text import problems

BODY = "Hi Pat,\n\nYou cut resolution time to 3.6 hours.\n\nCasey"
NOW = datetime.now(UTC)


def _people() -> dict[str, UserSummary]:
    with session_scope() as session:
        users = {
            "csm": f.csm(session, "Casey CSM", email="casey@outcomes.example"),
            "other": f.csm(session, "Robin CSM", email="robin@outcomes.example"),
            "admin": f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example"),
            "leader": f.user(session, Role.LEADER, "Lee Leader", email="lee@outcomes.example"),
        }
        return {k: f.actor(u) for k, u in users.items()}


def _draft(
    owner: UserSummary,
    name: str = "Acme Corp",
    *,
    days_old: float = 0,
    kind: DraftKind = DraftKind.CUSTOMER_EMAIL,
    to: tuple[str, ...] = ("pat@acme.example",),
) -> uuid.UUID:
    with session_scope() as session:
        customer = f.customer(session, name=name, owner=owner)
        row = f.draft(
            session,
            customer,
            owner,
            subject=f"Congratulations, {name}",
            body=BODY,
            kind=kind,
            to=to,
        )
        # A plain UPDATE: an ORM change would count as an edit (a new version).
        session.execute(
            update(Draft)
            .where(Draft.id == row.id)
            .values(created_at=NOW - timedelta(days=days_old, minutes=1))
            .execution_options(synchronize_session=False)
        )
        return row.id


def _win_draft(owner: UserSummary, name: str = "Acme Corp") -> tuple[uuid.UUID, uuid.UUID]:
    """A congratulations draft written for a real win; return (draft id, achievement id)."""
    with session_scope() as session:
        customer = f.customer(session, name=name, owner=owner)
        win = f.achievement(session, f.goal(session, customer, name="Cut resolution time"))
        draft = service.create_draft(
            session=session,
            kind=DraftKind.CUSTOMER_EMAIL,
            customer_id=customer.id,
            owner_id=owner.id,
            related_type="achievement",
            related_id=win.id,
            to=["pat@acme.example"],
            subject=f"Congratulations, {name}",
            body=BODY,
        )
        return draft.id, win.id


def _open(user: UserSummary, **query: str) -> AppTest:
    return apptest.open_page(user.id, "../pages/approvals.py", **query)


def _texts(at: AppTest) -> str:
    toasts = [t.value for t in at.toast]
    return apptest.texts(at) + "\n" + "\n".join(toasts).replace("\\", "")


def _listed(at: AppTest) -> list[uuid.UUID]:
    """The drafts of the list, in order."""
    prefix = "approvals_open_"
    return [uuid.UUID(b.key.removeprefix(prefix)) for b in at.button if b.key.startswith(prefix)]


def _opened(at: AppTest) -> uuid.UUID | None:
    """The draft the detail pane shows (its editor, or its row framed as open)."""
    pane = at.get_by_key("approvals_pane")
    editors = [w.key for w in pane.get("text_input") if str(w.key).startswith("draft_subject_")]
    if editors:
        return uuid.UUID(editors[0].removeprefix("draft_subject_"))
    framed = [b for b in at.button if b.key.startswith("approvals_open_") and "primary[" in b.label]
    return uuid.UUID(framed[0].key.removeprefix("approvals_open_")) if framed else None


def _stored(draft_id) -> Draft:
    with session_scope() as session:
        return session.get(Draft, draft_id)


def _two_drafts_open(people):
    """Casey's inbox with an older draft (Acme Corp) and a newer one (Globex), Acme open."""
    first = _draft(people["csm"], "Acme Corp", days_old=2)
    second = _draft(people["csm"], "Globex", days_old=1)
    return first, second, _open(people["csm"])


def _saved_by(actor, draft_id, subject: str, body: str) -> None:
    """Save the first version of a draft as `actor` would, outside the page."""
    with session_scope() as session:
        service.update_draft(
            session=session,
            draft_id=draft_id,
            subject=subject,
            body=body,
            expected_version=1,
            actor=actor,
        )


def test_empty_queue_explains_where_drafts_come_from(scratch_db):
    at = _open(_people()["csm"])
    assert "Nothing is waiting for approval" in _texts(at)
    assert "achieves a goal" in _texts(at) and "checkpoint review is due" in _texts(at)


def test_the_list_is_compact_oldest_first_and_opens_the_first_draft(scratch_db):
    people = _people()
    newer = _draft(people["csm"], "Globex", days_old=1)
    oldest = _draft(people["csm"], "Acme Corp", days_old=3)
    newest = _draft(people["csm"], "Initech", days_old=0, kind=DraftKind.REVIEW_SUMMARY, to=())
    at = _open(people["csm"])
    assert _listed(at) == [oldest, newer, newest]
    text = _texts(at)
    assert "3 drafts" in text and "1–3 of" not in text
    assert ":orange-badge[Pending] · Customer email · 3 days · Casey CSM" in text
    assert "Review summary · under an hour · Casey CSM" in text
    assert _opened(at) == oldest
    assert not problems(at), problems(at)

    at.selectbox(key="approvals_sort").select("newest").run()
    assert _listed(at) == [newest, newer, oldest]
    assert _opened(at) == newest
    at.selectbox(key="approvals_sort").select("customer").run()
    assert _listed(at) == [oldest, newer, newest]


def test_filters_and_search_narrow_the_list(scratch_db):
    people = _people()
    acme = _draft(people["csm"], "Acme Corp", days_old=8)
    globex = _draft(people["csm"], "Globex", days_old=2)
    summary = _draft(people["csm"], "Initech", kind=DraftKind.REVIEW_SUMMARY, to=())
    robins = _draft(people["other"], "Umbrella", days_old=4)
    at = _open(people["admin"])
    assert set(_listed(at)) == {acme, globex, summary, robins}

    at.text_input(key="approvals_search").input("glob").run()
    assert _listed(at) == [globex]
    assert "1 draft" in _texts(at) and "1–1 of" not in _texts(at)
    at.text_input(key="approvals_search").input("Congratulations, Init").run()  # the subject
    assert _listed(at) == [summary]
    at.text_input(key="approvals_search").input("").run()

    at.selectbox(key="approvals_kind").select(DraftKind.REVIEW_SUMMARY).run()
    assert _listed(at) == [summary]
    at.selectbox(key="approvals_kind").select("any").run()
    at.selectbox(key="approvals_age").select(3).run()
    assert _listed(at) == [acme, robins]
    at.selectbox(key="approvals_owner").select(people["other"].id).run()
    assert _listed(at) == [robins]
    at.selectbox(key="approvals_owner").select("any").run()
    with session_scope() as session:
        customer_id = session.get(Draft, acme).customer_id
    at.selectbox(key="approvals_customer").select(customer_id).run()
    assert _listed(at) == [acme]

    at.text_input(key="approvals_search").input("nobody like this").run()
    assert "No drafts match" in _texts(at)
    at.button[0].click().run()  # "Clear the filters"
    assert len(_listed(at)) == 4
    assert not at.exception


def test_opening_a_draft_shows_its_win_recipients_and_edits(scratch_db):
    people = _people()
    _draft(people["csm"], "Globex", days_old=5)
    draft_id, win_id = _win_draft(people["csm"])
    _saved_by(people["csm"], draft_id, "Well done, Acme", BODY.replace("3.6 hours", "3.5 hours"))
    at = _open(people["csm"])
    at.button(key=f"approvals_open_{draft_id}").click().run()
    assert _opened(at) == draft_id
    [link] = at.get_by_key("approvals_pane").get("page_link")
    assert link.label == "From the win: Cut resolution time"
    assert (link.proto.page, link.proto.query_string) == ("achievement", f"achievement={win_id}")
    assert "To: pat@acme.example" in _texts(at)
    [diff] = at.get_by_key("approvals_pane").get("code")
    assert "-Subject: Congratulations, Acme Corp" in diff.value
    assert "+Subject: Well done, Acme" in diff.value
    assert "+You cut resolution time to 3.5 hours." in diff.value
    assert not problems(at), problems(at)


def test_approve_sends_the_edit_and_the_next_draft_opens(scratch_db):
    people = _people()
    first = _draft(people["csm"], "Acme Corp", days_old=3)
    second = _draft(people["csm"], "Globex", days_old=2)
    third = _draft(people["csm"], "Initech", days_old=1)
    at = _open(people["csm"])
    at.button(key=f"approvals_open_{second}").click().run()
    at.text_input(key=f"draft_subject_{second}").input("Well done, Globex: 3.6 hours")
    at.text_area(key=f"draft_body_{second}").input("Hi Pat,\n\nEdited in the inbox.")
    at.button(key=f"draft_approve_{second}").click().run()
    assert not at.exception
    [toast] = [t.value.replace("\\", "") for t in at.toast]
    assert toast == "Approved and sending to pat@acme.example: “Well done, Globex: 3.6 hours”"
    with session_scope() as session:
        [delivery] = session.scalars(select(Delivery))
    assert delivery.payload["subject"] == "Well done, Globex: 3.6 hours"
    assert delivery.payload["text"] == "Hi Pat,\n\nEdited in the inbox."
    assert delivery.payload["sender"] == "casey@outcomes.example"
    assert _stored(second).status == DraftStatus.APPROVED
    assert _listed(at) == [first, third]
    assert _opened(at) == third  # the next one in the list's order, not the first

    at.button(key=f"draft_approve_{third}").click().run()
    assert _opened(at) == first  # the last one decided: the one before it opens
    at.button(key=f"draft_approve_{first}").click().run()
    assert "Nothing is waiting for approval" in _texts(at)


def test_an_empty_subject_is_refused_in_the_pane_and_the_typing_is_kept(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"], "Acme Corp", days_old=2)
    after = _draft(people["csm"], "Globex", days_old=1)
    at = _open(people["csm"])
    at.text_input(key=f"draft_subject_{draft_id}").input("")
    at.text_area(key=f"draft_body_{draft_id}").input("Hi Pat,\n\nMy careful edit.")
    at.button(key=f"draft_approve_{draft_id}").click().run()
    assert not at.exception
    form = at.get_by_key(f"draft_{draft_id}")
    [error] = form.get("error")
    assert "The subject must not be empty" in error.value
    nodes = list(form)
    approve = next(n for n in nodes if getattr(n, "key", None) == f"draft_approve_{draft_id}")
    assert nodes.index(error) < nodes.index(approve)  # right above the button that caused it
    assert len(at.error) == 1
    assert at.text_area(key=f"draft_body_{draft_id}").value == "Hi Pat,\n\nMy careful edit."
    assert _opened(at) == draft_id and after in _listed(at)
    assert _stored(draft_id).status == DraftStatus.PENDING


def test_reject_needs_a_reason_then_the_next_draft_opens(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"], "Acme Corp", days_old=2)
    after = _draft(people["csm"], "Globex", days_old=1)
    at = _open(people["csm"])
    at.button(key=f"draft_reject_{draft_id}").click().run()
    [error] = at.get_by_key(f"draft_{draft_id}").get("error")
    assert "Give a reason to reject" in error.value
    assert _stored(draft_id).status == DraftStatus.PENDING
    at.text_input(key=f"draft_reason_{draft_id}").input("Goal not confirmed yet")
    at.button(key=f"draft_reject_{draft_id}").click().run()
    assert "Rejected the draft for Acme Corp; nothing was sent" in _texts(at)
    stored = _stored(draft_id)
    assert (stored.status, stored.rejected_reason) == (
        DraftStatus.REJECTED,
        "Goal not confirmed yet",
    )
    assert _opened(at) == after


def test_a_stale_save_loads_the_latest_text_and_keeps_what_was_typed(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    at = _open(people["csm"])
    # The admin saves while Casey is still typing.
    _saved_by(people["admin"], draft_id, "Admin subject", "Admin's text")
    at.text_area(key=f"draft_body_{draft_id}").input("Casey's text")
    at.button(key=f"draft_save_{draft_id}").click().run()
    assert not at.exception
    assert any("Someone else saved this draft since you opened it" in e.value for e in at.error)
    assert at.text_area(key=f"draft_body_{draft_id}").value == "Admin's text"
    assert at.text_input(key=f"draft_subject_{draft_id}").value == "Admin subject"
    assert any("Casey's text" in c.value for c in at.get_by_key("approvals_pane").get("code"))

    at.text_area(key=f"draft_body_{draft_id}").input("Casey's text, on top of the admin's")
    at.button(key=f"draft_save_{draft_id}").click().run()
    assert "Saved the draft for Acme Corp" in _texts(at)
    assert _stored(draft_id).body == "Casey's text, on top of the admin's"


def _marked(at: AppTest) -> set[uuid.UUID]:
    """The drafts the list marks as holding unsaved edits."""
    return {
        draft_id
        for draft_id in _listed(at)
        if any(
            "Unsaved edits" in c.value
            for c in at.get_by_key(f"approvals_row_{draft_id}").get("caption")
        )
    }


def test_unsaved_typing_survives_opening_other_drafts_and_saving_clears_the_mark(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    assert _opened(at) == first and not _marked(at)
    at.text_input(key=f"draft_subject_{first}").input("Well done, Acme")
    at.text_area(key=f"draft_body_{first}").input("Hi Pat,\n\nTyped, not saved.")
    at.button(key=f"approvals_open_{second}").click().run()
    assert _opened(at) == second
    assert _marked(at) == {first}
    assert not problems(at), problems(at)

    at.text_input(key="approvals_search").input("Globex").run()  # the first leaves the list
    assert _listed(at) == [second]
    at.text_input(key="approvals_search").input("").run()
    at.button(key=f"approvals_open_{first}").click().run()
    assert _opened(at) == first
    assert at.text_input(key=f"draft_subject_{first}").value == "Well done, Acme"
    assert at.text_area(key=f"draft_body_{first}").value == "Hi Pat,\n\nTyped, not saved."
    assert "Unsaved edits" in _texts(at)
    assert not at.warning
    assert _stored(first).body == BODY

    at.button(key=f"draft_save_{first}").click().run()
    assert "Saved the draft for Acme Corp" in _texts(at)
    assert _stored(first).body == "Hi Pat,\n\nTyped, not saved."
    assert not _marked(at)
    at.button(key=f"approvals_open_{second}").click().run()
    at.button(key=f"approvals_open_{first}").click().run()
    assert at.text_area(key=f"draft_body_{first}").value == "Hi Pat,\n\nTyped, not saved."
    assert not _marked(at) and "Unsaved edits" not in _texts(at)


def test_unsaved_typing_on_an_older_version_is_kept_apart_from_the_latest(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    at.text_area(key=f"draft_body_{first}").input("Casey's unsaved text")
    at.button(key=f"approvals_open_{second}").click().run()
    # The admin saves the first draft meanwhile.
    _saved_by(people["admin"], first, "Admin subject", "Admin's text")
    approval_data.forget()  # the inbox's cached reads expire
    at.button(key=f"approvals_open_{first}").click().run()
    assert not at.exception
    assert at.text_area(key=f"draft_body_{first}").value == "Admin's text"
    assert at.text_input(key=f"draft_subject_{first}").value == "Admin subject"
    assert any("after you typed your edits" in w.value for w in at.warning)
    assert any(
        "Casey's unsaved text" in c.value for c in at.get_by_key("approvals_pane").get("code")
    )
    assert _marked(at) == {first}

    at.button(key=f"draft_save_{first}").click().run()  # nothing typed on the latest yet
    assert _stored(first).body == "Admin's text"
    assert not _marked(at)
    assert not any("Casey's" in c.value for c in at.get_by_key("approvals_pane").get("code"))


def test_loading_the_latest_text_keeps_what_was_typed_apart(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    at = _open(people["csm"])
    at.text_area(key=f"draft_body_{draft_id}").input("Casey's text").run()
    _saved_by(people["admin"], draft_id, "Admin subject", "Admin's text")
    approval_data.forget()  # the inbox's cached reads expire
    at.run()
    assert any("Someone else saved a newer version" in w.value for w in at.warning)
    assert at.text_area(key=f"draft_body_{draft_id}").value == "Casey's text"
    at.button(key=f"draft_reload_{draft_id}").click().run()
    assert at.text_area(key=f"draft_body_{draft_id}").value == "Admin's text"
    assert any("Casey's text" in c.value for c in at.get_by_key("approvals_pane").get("code"))
    assert _marked(at) == {draft_id}


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
    [error] = at.get_by_key("approvals_pane").get("error")
    assert "This draft was already approved" in error.value
    with session_scope() as session:
        assert len(list(session.scalars(select(Delivery)))) == 1


def test_leaders_see_the_inbox_read_only(scratch_db):
    people = _people()
    first = _draft(people["csm"], "Acme Corp", days_old=2)
    second = _draft(people["other"], "Globex", days_old=1)
    at = _open(people["leader"])
    assert _listed(at) == [first, second]
    assert "Congratulations, Acme Corp" in _texts(at)
    assert "Only the owning CSM or an admin can approve this draft" in _texts(at)
    assert not [b for b in at.button if str(b.key).startswith(("draft_", "approvals_bulk"))]
    assert not at.text_area
    at.button(key=f"approvals_open_{second}").click().run()
    assert "Robin CSM" in _texts(at) and "Congratulations, Globex" in _texts(at)
    assert not problems(at), problems(at)


def test_admins_act_for_the_owning_csm(scratch_db):
    people = _people()
    draft_id = _draft(people["other"], "Umbrella")
    at = _open(people["admin"])
    assert "You act for Robin CSM: the email goes out from their address" in _texts(at)
    at.button(key=f"draft_approve_{draft_id}").click().run()
    with session_scope() as session:
        [delivery] = session.scalars(select(Delivery))
    assert delivery.payload["sender"] == "robin@outcomes.example"


def test_bulk_approve_names_what_will_be_sent_before_sending(scratch_db):
    people = _people()
    first, second = _draft(people["csm"], "Acme Corp"), _draft(people["csm"], "Globex")
    third = _draft(people["csm"], "Initech")
    at = _open(people["admin"])
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_review").click().run()
    [confirm] = at.warning
    assert "Approve 2 drafts and send 2 emails" in confirm.value
    assert "Acme Corp" in confirm.value and "Congratulations, Globex" in confirm.value
    assert "Initech" not in confirm.value
    assert {_stored(first).status, _stored(second).status} == {DraftStatus.PENDING}

    at.button(key="approvals_bulk_cancel").click().run()
    assert not at.warning and _stored(first).status == DraftStatus.PENDING
    at.button(key="approvals_bulk_review").click().run()
    at.button(key="approvals_bulk_go").click().run()
    assert not at.exception
    assert "Approved 2 drafts (Acme Corp, Globex); 2 emails queued." in _texts(at)
    assert {_stored(first).status, _stored(second).status} == {DraftStatus.APPROVED}
    assert _listed(at) == [third]


def test_bulk_approve_says_which_drafts_leave_unsaved_edits_out(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    at.text_area(key=f"draft_body_{first}").input("Typed, not saved.")
    at.button(key=f"approvals_open_{second}").click().run()
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_review").click().run()
    [confirm] = at.warning
    [acme, globex] = [line for line in confirm.value.splitlines() if line.startswith("- ")]
    assert "Acme Corp" in acme and "its unsaved edits are not included" in acme
    assert "unsaved" not in globex


def test_bulk_approve_names_a_draft_changed_meanwhile_and_approves_nothing(scratch_db):
    people = _people()
    first, second = _draft(people["csm"], "Acme Corp"), _draft(people["csm"], "Globex")
    at = _open(people["csm"])
    _saved_by(people["admin"], second, "Changed by Ada", "New text")
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_review").click().run()
    at.button(key="approvals_bulk_go").click().run()
    assert "Globex — “Changed by Ada”: Someone else saved this draft" in _texts(at)
    assert "Nothing was approved" in _texts(at)
    assert {_stored(first).status, _stored(second).status} == {DraftStatus.PENDING}


def test_the_list_is_paged_honestly(scratch_db):
    people = _people()
    ids = [_draft(people["csm"], f"Customer {i:02}", days_old=40 - i) for i in range(30)]
    at = _open(people["csm"])
    assert "1–25 of 30 drafts" in _texts(at)
    assert _listed(at) == ids[:25]
    at.button(key="approvals_next").click().run()
    assert "26–30 of 30 drafts" in _texts(at)
    assert _listed(at) == ids[25:]
    assert _opened(at) == ids[25]
    for draft_id in ids[25:]:  # deciding the whole last page goes back to the one before
        at.button(key=f"draft_approve_{draft_id}").click().run()
    assert "25 drafts" in _texts(at) and "of 25" not in _texts(at)
    assert "approvals_next" not in [b.key for b in at.button]  # one page: no pager


def test_a_link_opens_one_draft(scratch_db):
    people = _people()
    _draft(people["csm"], "Acme Corp", days_old=2)
    linked = _draft(people["csm"], "Globex", days_old=1)
    at = _open(people["csm"], draft=str(linked))
    assert _opened(at) == linked


def test_decided_drafts_show_their_outcome(scratch_db):
    people = _people()
    draft_id = _draft(people["csm"])
    with session_scope() as session:
        service.reject(
            session=session,
            draft_id=draft_id,
            reason="Too early",
            expected_version=1,
            actor=people["csm"],
        )
    at = _open(people["csm"])
    at.segmented_control(key="approvals_status").set_value(DraftStatus.REJECTED).run()
    assert _listed(at) == [draft_id]
    assert "Rejected by Casey CSM" in _texts(at) and "Too early" in _texts(at)
    assert not problems(at), problems(at)


def test_a_review_summary_links_to_its_upsell_plan(scratch_db):
    people = _people()
    with session_scope() as session:
        customer = f.customer(session, name="Acme Corp", owner=people["csm"])
        plan = f.plan(session, customer, started_on=date(2026, 9, 1), name="Analytics expansion")
        day_30 = session.scalar(
            select(Checkpoint).where(Checkpoint.measurement_id == plan.id, Checkpoint.day == 30)
        )
        service.create_draft(
            session=session,
            kind=DraftKind.REVIEW_SUMMARY,
            customer_id=customer.id,
            owner_id=people["csm"].id,
            related_type="checkpoint",
            related_id=day_30.id,
            to=[],
            subject="Acme Corp: day 30 review of Analytics expansion",
            body="Numbers for the review.",
        )
        plan_id = plan.id
    at = _open(people["csm"])
    [link] = at.get_by_key("approvals_pane").get("page_link")
    assert link.label == "From the upsell plan: Analytics expansion (day 30 check)"
    assert (link.proto.page, link.proto.query_string) == ("upsells", f"plan={plan_id}")
    assert "To: nobody (an internal summary for the CSM)" in _texts(at)
    assert at.button(key=f"draft_approve_{_opened(at)}").label == "Approve"
    at.button(key=f"draft_approve_{_opened(at)}").click().run()
    assert "Approved the review summary for Acme Corp; nothing is emailed." in _texts(at)


def test_a_refused_search_says_why_in_plain_words(scratch_db):
    people = _people()
    _draft(people["csm"])
    at = _open(people["csm"])
    at.text_input(key="approvals_search").input("Acme\x07").run()
    assert not at.exception
    assert "Search: must not contain control characters" in _texts(at)
    assert not problems(at), problems(at)


def test_a_link_for_one_owner_lists_only_their_drafts_with_each_subject_in_full(scratch_db):
    people = _people()
    mine = _draft(people["csm"], "Cobaltpoint Shipping")
    with session_scope() as session:  # a colleague's draft for Casey's customer: Casey sees it
        customer = f.customer(session, name="Acme Corp", owner=people["csm"])
        theirs = f.draft(session, customer, people["other"], subject="Acme Corp renewal").id
    at = _open(people["csm"])
    assert set(_listed(at)) == {mine, theirs}
    (row,) = [b for b in at.button if b.key == f"approvals_open_{theirs}"]
    assert row.label.endswith("**Acme Corp** · renewal")  # the name once
    assert row.help == "Acme Corp renewal"
    at = _open(people["csm"], owner=str(people["csm"].id))
    assert _listed(at) == [mine]
    assert "1 draft" in _texts(at)


def test_signing_out_leaves_nothing_typed_for_the_next_person(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    at.text_input(key=f"draft_subject_{first}").input("Casey's subject")
    at.text_area(key=f"draft_body_{first}").input("Casey's unsaved text")
    at.button(key=f"approvals_open_{second}").click().run()  # Casey read the second's version 1
    assert _marked(at) == {first}
    with session_scope() as session:
        sam = f.actor(f.user(session, Role.ADMIN, "Sam Admin", email="sam@outcomes.example"))
    _saved_by(sam, second, "Sam's subject", "Sam's text")  # version 2
    approval_data.forget()  # the inbox's cached reads expire
    at.button(key="sign_out").click().run()
    assert "approvals_unsaved" not in at.session_state
    assert f"draft_version_{second}" not in at.session_state

    at.session_state["user_id"] = str(people["admin"].id)  # Ada signs in on the same tab
    at.switch_page("../pages/approvals.py").run()
    assert not at.exception
    assert _opened(at) == first and not _marked(at)
    assert at.text_input(key=f"draft_subject_{first}").value == "Congratulations, Acme Corp"
    assert at.text_area(key=f"draft_body_{first}").value == BODY
    assert "Unsaved edits" not in _texts(at) and "Casey's" not in _texts(at)
    at.button(key=f"draft_save_{first}").click().run()
    assert _stored(first).body == BODY

    # Ada approves what she sees: the second draft's version 2, not the one Casey read.
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_review").click().run()
    assert "unsaved" not in at.warning[0].value
    at.button(key="approvals_bulk_go").click().run()
    assert "Approved 2 drafts" in _texts(at)
    assert {_stored(first).status, _stored(second).status} == {DraftStatus.APPROVED}


def test_bulk_approve_discards_the_typing_on_the_approved_drafts(scratch_db):
    people = _people()
    first = _draft(people["csm"], "Acme Corp", days_old=3)
    second = _draft(people["csm"], "Globex", days_old=2)
    _draft(people["csm"], "Initech", days_old=1)
    at = _open(people["csm"])
    at.text_area(key=f"draft_body_{first}").input("Typed, not saved.")
    at.button(key=f"approvals_open_{second}").click().run()
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_review").click().run()
    [acme] = [line for line in at.warning[0].value.splitlines() if "Acme Corp" in line]
    assert "its unsaved edits are not included and will be discarded" in acme
    at.button(key="approvals_bulk_go").click().run()
    assert "Approved 2 drafts" in _texts(at)
    assert _stored(first).body == BODY
    assert not _marked(at)

    at.segmented_control(key="approvals_status").set_value(DraftStatus.APPROVED).run()
    assert set(_listed(at)) == {first, second} and not _marked(at)
    at.button(key=f"approvals_open_{first}").click().run()
    assert _opened(at) == first
    assert not at.get_by_key("approvals_pane").get("code")  # no "Your unsaved text"
    assert "Typed, not saved." not in _texts(at)


def test_a_reason_alone_is_kept_but_is_no_unsaved_edit(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    at.text_input(key=f"draft_reason_{first}").input("Goal not confirmed yet")
    at.button(key=f"approvals_open_{second}").click().run()
    assert not _marked(at)
    at.multiselect(key="approvals_bulk").select(first).select(second).run()
    at.button(key="approvals_bulk_review").click().run()
    assert "unsaved" not in at.warning[0].value
    at.button(key="approvals_bulk_cancel").click().run()

    at.button(key=f"approvals_open_{first}").click().run()
    assert at.text_input(key=f"draft_reason_{first}").value == "Goal not confirmed yet"
    assert "Unsaved edits" not in _texts(at) and not _marked(at)
    at.text_area(key=f"draft_body_{first}").input("Typed, not saved.").run()
    assert _marked(at) == {first} and "Unsaved edits" in _texts(at)


def test_the_newer_version_warning_stays_while_the_older_text_is_kept(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    at.text_area(key=f"draft_body_{first}").input("Casey's unsaved text")
    at.button(key=f"approvals_open_{second}").click().run()
    _saved_by(people["admin"], first, "Admin subject", "Admin's text")
    approval_data.forget()  # the inbox's cached reads expire
    at.button(key=f"approvals_open_{first}").click().run()
    assert any("after you typed your edits" in w.value for w in at.warning)
    at.run()
    assert any("after you typed your edits" in w.value for w in at.warning)
    at.button(key=f"approvals_open_{second}").click().run()
    at.button(key=f"approvals_open_{first}").click().run()
    assert any("after you typed your edits" in w.value for w in at.warning)
    at.button(key=f"draft_save_{first}").click().run()
    assert not any("after you typed your edits" in w.value for w in at.warning)


def test_the_list_marks_what_the_pane_leaves_in_the_same_run(scratch_db):
    people = _people()
    first, second, at = _two_drafts_open(people)
    at.text_input(key=f"draft_reason_{first}").input("Goal not confirmed yet")
    at.button(key=f"approvals_open_{second}").click().run()
    at.text_area(key=f"draft_body_{second}").input("Typed on Globex")
    at.button(key=f"approvals_open_{first}").click().run()
    assert second in _marked(at)
    with session_scope() as session:  # Ada decides both meanwhile
        for draft_id in (first, second):
            service.approve(
                session=session, draft_id=draft_id, expected_version=1, actor=people["admin"]
            )
    approval_data.forget()  # the inbox's cached reads expire
    at.segmented_control(key="approvals_status").set_value(DraftStatus.APPROVED).run()
    assert _opened(at) == first  # its reason is dropped here: the list must not lag behind
    assert not _marked(at) - {second}
    at.button(key=f"approvals_open_{second}").click().run()
    assert any("Typed on Globex" in c.value for c in at.get_by_key("approvals_pane").get("code"))
    assert _marked(at) == {second}
