"""The approval inbox's detail pane: one draft, where it comes from, its edits, its decision.

Errors show inside the pane, right above the buttons that caused them, and the editor keeps what
was typed. After approving or rejecting, the next draft in the list's order opens.

The editor is plain widgets, not a form (a form sends text only on submit, so opening another
draft lost it): each field commits on blur, and its on_change keeps the text with the version it
was typed on under session-state keys of its own (components/approval_unsaved.py), which outlive
the widgets; reopening the draft starts the widgets from there (as their `value`) and the list
marks it "Unsaved edits". Text typed on a version someone else has since replaced takes the
conflict path: the latest loads, the typing shows under "Your unsaved text". Saving, approving or
rejecting clears what was kept.
"""

import difflib
import uuid

import streamlit as st

from components import approval_data, approval_unsaved, data, forms
from components.approval_list import OPEN
from components.draft_views import BADGES, age, announce
from components.format import escape_md, when
from components.navigation import page_file
from core.accounts.schemas import UserSummary
from core.base import Role
from core.drafts.models import DraftStatus
from core.drafts.queries import next_draft
from core.drafts.schemas import KIND_LABELS, DraftDetail
from core.drafts.service import STALE, approve, reject, update_draft
from core.drafts.templates import BODY_MAX, SUBJECT_MAX
from core.errors import Conflict, DomainError
from core.reporting.draft_sources import DraftSource, SourceKind
from core.schemas import NOTE_LENGTH

WIN_PAGE, PLAN_PAGE = "pages/achievement.py", "pages/upsells.py"
ERRORS = "approvals_errors"
DELIVERY_NOTES = {
    "pending": "Queued: the jobs process sends it within seconds.",
    "in_progress": "Sending now.",
    "failed": "Gmail did not accept it yet; retrying automatically.",
    "not_configured": "Waiting: Gmail is not configured yet. It goes out once an admin sets it up.",
}
OUTDATED = "Someone else saved a newer version of this draft after you typed your edits."
UNSAVED_NOTE = "Unsaved edits: kept while you open other drafts. Save to store them in the draft."
STALE_HINT = " Their latest text is loaded below; your text is kept under “Your unsaved text”."


def _fail(draft_id: uuid.UUID, message: str) -> None:
    st.session_state.setdefault(ERRORS, {})[draft_id] = message


def _decide(action: str, row: DraftDetail, user: UserSummary, typed: dict) -> str | None:
    """Run the action; return the confirmation, or None after saving (the draft stays open)."""
    state, keys = st.session_state, approval_unsaved.keys(row.id)
    common = {"draft_id": row.id, "expected_version": state[keys["version"]], "actor": user}
    if action == "save":
        saved = data.call(update_draft, **common, **typed)
        approval_unsaved.saved(row.id, saved.version)  # what was typed is now saved
        announce(f"Saved the draft for {row.customer_name}.")
        return None
    if action == "approve":
        data.call(approve, **common, **typed)
        if not row.to_addresses:
            kind = KIND_LABELS[row.kind].lower()
            return f"Approved the {kind} for {row.customer_name}; nothing is emailed."
        to, subject = ", ".join(row.to_addresses), typed["subject"].strip()
        return f"Approved and sending to {to}: “{subject}”"
    data.call(reject, **common, reason=state[keys["reason"]])
    return f"Rejected the draft for {row.customer_name}; nothing was sent."


def _act(action: str, row: DraftDetail, user: UserSummary, filters: dict) -> None:
    state, keys = st.session_state, approval_unsaved.keys(row.id)
    state[OPEN] = row.id  # an error shows in this draft's pane, whatever the list shows next
    typed = {"subject": state[keys["subject"]], "body": state[keys["body"]]}
    if problem := (
        forms.line("Reason", state[keys["reason"]], NOTE_LENGTH)
        if action == "reject"
        else forms.line("Subject", typed["subject"], SUBJECT_MAX)
        or forms.text("Body", typed["body"], BODY_MAX)
    ):
        _fail(row.id, problem)
        return
    try:
        done = _decide(action, row, user, typed)
    except Conflict as exc:
        approval_data.forget()
        _fail(row.id, f"{exc}{STALE_HINT}" if str(exc) == STALE else str(exc))
        if str(exc) == STALE:  # the next run fills the editor with the latest text
            approval_unsaved.reload(row.id)  # nothing typed is lost meanwhile
        return
    except DomainError as exc:
        _fail(row.id, str(exc))
        return
    approval_data.forget()
    if done is None:
        return
    approval_unsaved.forget(row.id)
    state[OPEN] = data.call(
        next_draft, viewer_id=user.id, viewer_role=user.role, after=row.id, **filters
    )
    announce(done)


def _header(row: DraftDetail, source: DraftSource | None) -> None:
    badges = f":violet-badge[{KIND_LABELS[row.kind]}] {BADGES[row.status]}"
    if row.edited:
        badges += " :gray-badge[Edited]"
    st.markdown(f"#### {escape_md(row.customer_name)}\n{badges}")
    _source(source)
    to = ", ".join(row.to_addresses) or "nobody (an internal summary for the CSM)"
    st.caption(
        f"To: {escape_md(to)}  \nOwner: {escape_md(row.owner_name or 'no owner')} · "
        f"written {age(row.created_at)} ago ({when(row.created_at)})"
    )


def _source(source: DraftSource | None) -> None:
    if source is None:
        st.caption("The win or upsell plan this draft was written for is no longer in Outcomes.")
        return
    if source.kind == SourceKind.WIN:
        st.page_link(
            page_file(WIN_PAGE),
            label=f"From the win: {escape_md(source.title)}",
            icon=":material/emoji_events:",
            query_params={"achievement": str(source.target_id)},
        )
        return
    day = f" (day {source.checkpoint_day} check)" if source.checkpoint_day else ""
    st.page_link(
        page_file(PLAN_PAGE),
        label=f"From the upsell plan: {escape_md(source.title)}{day}",
        icon=":material/trending_up:",
        query_params={"plan": str(source.target_id)},
    )


def _changes(row: DraftDetail) -> None:
    if not row.edited:
        st.caption("Not edited: this is the text Outcomes generated.")
        return
    before = [f"Subject: {row.original_subject}", "", *row.original_body.splitlines()]
    after = [f"Subject: {row.subject}", "", *row.body.splitlines()]
    diff = difflib.unified_diff(before, after, "Generated", "Saved", lineterm="", n=2)
    with st.expander("What changed from the generated text", icon=":material/difference:"):
        st.code("\n".join(list(diff)[2:]), language="diff", wrap_lines=True)


def _mine(row: DraftDetail) -> None:
    if mine := approval_unsaved.superseded(row.id):
        with st.expander("Your unsaved text", icon=":material/content_copy:"):
            st.code(f"{mine['subject']}\n\n{mine['body']}", language=None, wrap_lines=True)


def _editor(row: DraftDetail, user: UserSummary, filters: dict, error: str | None) -> None:
    keys = approval_unsaved.keys(row.id)
    text = approval_unsaved.restore(row)
    if user.role == Role.ADMIN:
        st.caption(
            f"You act for {escape_md(row.owner_name or 'the owning CSM')}: the email goes out "
            "from their address."
        )
    if approval_unsaved.superseded(row.id) and not error:  # until saved or decided
        st.warning(f"{OUTDATED}{STALE_HINT}", icon=":material/update:")
    stale = st.session_state[keys["version"]] != row.version
    if stale and not error:
        st.warning("Someone else saved a newer version of this draft.", icon=":material/update:")
        st.button(
            "Load the latest text",
            key=f"draft_reload_{row.id}",
            on_click=approval_unsaved.reload,
            args=(row.id,),
        )
    _mine(row)
    if row.id in approval_unsaved.held() and not approval_unsaved.superseded(row.id):
        st.caption(f":material/edit_note: {UNSAVED_NOTE}")
    # Plain widgets, not a form: each edit reaches the server on blur and is kept from there.
    keep = {"on_change": approval_unsaved.keep, "args": (row.id,)}
    with st.container(key=f"draft_{row.id}"):
        st.text_input(
            "Subject", text["subject"], max_chars=SUBJECT_MAX, key=keys["subject"], **keep
        )
        st.text_area("Body", text["body"], height=300, max_chars=BODY_MAX, key=keys["body"], **keep)
        st.text_input(
            "Reason (needed only to reject)",
            text["reason"],
            key=keys["reason"],
            max_chars=NOTE_LENGTH,
            placeholder="e.g. The goal is not confirmed with the customer yet",
            **keep,
        )
        if error:  # right above the buttons that caused it
            st.error(escape_md(error), icon=":material/error:")
        send = "Approve & send" if row.to_addresses else "Approve"
        save, go, drop, _ = st.columns([1, 1.4, 1, 1.6])
        for column, label, action, kind in (
            (save, "Save", "save", "secondary"),
            (go, send, "approve", "primary"),
            (drop, "Reject", "reject", "secondary"),
        ):
            with column:
                st.button(
                    label,
                    type=kind,
                    width="stretch",
                    on_click=_act,
                    args=(action, row, user, filters),
                    key=f"draft_{action}_{row.id}",
                )


def _outcome(row: DraftDetail) -> None:
    decided = f"{escape_md(row.decided_by_name or 'someone')}, {when(row.decided_at)}"
    if row.status == DraftStatus.SENT:
        st.caption(f":material/mark_email_read: Sent {when(row.sent_at)} · approved by {decided}")
    elif row.status == DraftStatus.FAILED:
        st.error(
            f"Gmail refused this email: {escape_md(row.delivery_error or 'no reason given')}  \n"
            "Fix the cause (recipient address, Gmail settings); an admin can then retry it on the "
            "Integrations page.",
            icon=":material/error:",
        )
    elif row.status == DraftStatus.REJECTED:
        reason = escape_md(row.rejected_reason or "")
        st.caption(f":material/block: Rejected by {decided}: {reason}")
    elif row.status == DraftStatus.APPROVED:
        note = DELIVERY_NOTES.get(row.delivery_status or "", "Internal summary: nothing to send.")
        if row.delivery_status == "failed" and row.delivery_error:
            note += f" Last error: {row.delivery_error}"
        st.caption(f":material/schedule_send: Approved by {decided}. {escape_md(note)}")


def _read_only(row: DraftDetail, error: str | None) -> None:
    if error:
        st.error(escape_md(error), icon=":material/error:")
    _outcome(row)
    _mine(row)
    if row.status == DraftStatus.PENDING:
        st.info("Only the owning CSM or an admin can approve this draft.", icon=":material/lock:")
    st.markdown(f"**Subject:** {escape_md(row.subject)}")
    with st.container(border=True):
        st.text(row.body)


def has_error(draft_id: uuid.UUID) -> bool:
    """Say whether the last action on this draft failed (its pane must show why)."""
    return draft_id in st.session_state.get(ERRORS, {})


def pane(row: DraftDetail, source: DraftSource | None, user: UserSummary, filters: dict) -> None:
    """Render the open draft: header, origin, edits, then the editor or its outcome."""
    error = st.session_state.pop(ERRORS, {}).get(row.id)
    with st.container(border=True, key="approvals_pane"):
        _header(row, source)
        _changes(row)
        if row.can_act:
            _editor(row, user, filters, error)
        else:
            approval_unsaved.set_aside(row.id)  # decided meanwhile: its text can only be read
            _read_only(row, error)
