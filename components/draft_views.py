"""The approval queue's pieces: status filter, draft cards with the editor, bulk approval."""

import uuid

import streamlit as st

from components import data, forms
from components.cards import empty_state
from components.format import escape_md, when
from core.accounts.schemas import UserSummary
from core.drafts.models import DraftStatus
from core.drafts.schemas import KIND_LABELS, DraftRow
from core.drafts.service import STALE, approve, bulk_approve, reject, update_draft
from core.drafts.templates import BODY_MAX, SUBJECT_MAX
from core.errors import Conflict, DomainError
from core.schemas import NOTE_LENGTH

FILTERS = {
    DraftStatus.PENDING: "Pending",
    DraftStatus.APPROVED: "Approved",
    DraftStatus.SENT: "Sent",
    DraftStatus.FAILED: "Failed",
    DraftStatus.REJECTED: "Rejected",
}
BADGES = {
    DraftStatus.PENDING: ":orange-badge[Pending]",
    DraftStatus.APPROVED: ":blue-badge[Approved]",
    DraftStatus.SENT: ":green-badge[Sent]",
    DraftStatus.FAILED: ":red-badge[Failed]",
    DraftStatus.REJECTED: ":gray-badge[Rejected]",
}
EMPTY = {
    DraftStatus.PENDING: (
        "Nothing is waiting for approval",
        "Drafts appear here when a customer achieves a goal (a congratulations email) or a "
        "checkpoint review is due (a review summary). Nothing reaches a customer until it is "
        "approved here.",
    ),
    DraftStatus.APPROVED: (
        "No approved drafts on their way",
        "Approved emails wait here briefly until the jobs process sends them.",
    ),
    DraftStatus.SENT: ("Nothing sent yet", "Emails appear here once Gmail has accepted them."),
    DraftStatus.FAILED: ("No failed emails", "Emails Gmail refused for good would appear here."),
    DraftStatus.REJECTED: ("No rejected drafts", "Rejected drafts are kept here with the reason."),
}
DELIVERY_NOTES = {
    "pending": "Queued: the jobs process sends it within seconds.",
    "in_progress": "Sending now.",
    "failed": "Gmail did not accept it yet; retrying automatically.",
    "not_configured": "Waiting: Gmail is not configured yet. It goes out once an admin sets it up.",
}
STALE_HINT = " Their latest text is loaded below; check it and try again."
FLASH, ERRORS = "approvals_flash", "approvals_errors"


def status_filter(stats: dict[str, int]) -> DraftStatus:
    """Render the status filter with counts; return the chosen status (Pending by default)."""
    chosen = st.segmented_control(
        "Show",
        list(FILTERS),
        format_func=lambda s: f"{FILTERS[s]} ({stats.get(s.value, 0)})",
        default=DraftStatus.PENDING,
        key="approvals_status",
    )
    return chosen or DraftStatus.PENDING


def empty(status: DraftStatus) -> None:
    """Explain why the chosen part of the queue is empty and how drafts arrive."""
    title, hint = EMPTY[status]
    empty_state(title, hint, icon=":material/inbox:")


def _keys(draft_id: uuid.UUID) -> dict[str, str]:
    return {part: f"draft_{part}_{draft_id}" for part in ("subject", "body", "reason", "version")}


def _act(action: str, row: DraftRow, user: UserSummary) -> None:
    state, keys = st.session_state, _keys(row.id)
    common = {"draft_id": row.id, "expected_version": state[keys["version"]], "actor": user}
    text = {"subject": state[keys["subject"]], "body": state[keys["body"]]}
    name = row.customer_name
    if problem := (
        forms.line("Reason", state[keys["reason"]], NOTE_LENGTH)
        if action == "reject"
        else forms.line("Subject", text["subject"], SUBJECT_MAX)
        or forms.text("Body", text["body"], BODY_MAX)
    ):
        state.setdefault(ERRORS, {})[row.id] = (name, problem)
        return
    try:
        if action == "save":
            saved = data.call(update_draft, **common, **text)
            state[keys["version"]] = saved.version
            state[FLASH] = f"Saved the draft for {name}."
        elif action == "approve":
            data.call(approve, **common, **text)
            sends = row.to_addresses
            state[FLASH] = f"Approved the draft for {name}." + (
                " The email is queued and goes out within seconds." if sends else ""
            )
        else:
            data.call(reject, **common, reason=state[keys["reason"]])
            state[FLASH] = f"Rejected the draft for {name}; nothing was sent."
    except Conflict as exc:
        hint = STALE_HINT if str(exc) == STALE else ""
        state.setdefault(ERRORS, {})[row.id] = (name, f"{exc}{hint}")
        for key in (keys["subject"], keys["body"], keys["version"]):
            state.pop(key, None)  # the next run fills the editor with the latest text
    except DomainError as exc:
        state.setdefault(ERRORS, {})[row.id] = (name, str(exc))


def _reload(row: DraftRow) -> None:
    for key in _keys(row.id).values():
        st.session_state.pop(key, None)


def notices() -> dict[uuid.UUID | None, tuple[str | None, str]]:
    """Show the last action's confirmation; return the per-draft errors to show in the cards."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(escape_md(flash), icon=":material/check_circle:")
    return st.session_state.pop(ERRORS, {})


def other_errors(errors: dict, rows: list[DraftRow]) -> None:
    """Show errors of bulk approval and of drafts no longer in this view (decided meanwhile)."""
    shown = {r.id for r in rows if r.can_act}
    for draft_id, (name, message) in errors.items():
        if draft_id not in shown:
            st.error(escape_md(f"{name}: {message}" if name else message), icon=":material/error:")


def _header(row: DraftRow) -> None:
    st.markdown(
        f"**{escape_md(row.customer_name)}** &nbsp; :violet-badge[{KIND_LABELS[row.kind]}] "
        f"{BADGES[row.status]}" + (" :gray-badge[Edited]" if row.edited else "")
    )
    to = ", ".join(row.to_addresses) or "nobody (internal, for the CSM only)"
    st.caption(
        f"To: {escape_md(to)} · Owner: {escape_md(row.owner_name or 'unassigned')} · "
        f"Created {when(row.created_at)}"
    )


def _read_only(row: DraftRow) -> None:
    st.markdown(f"**Subject:** {escape_md(row.subject)}")
    # Pending drafts are read in full; decided ones stay folded so the list is easy to scan.
    with st.expander("Email text", expanded=row.status == DraftStatus.PENDING):
        st.text(row.body)


def _outcome(row: DraftRow) -> None:
    decided = f"{escape_md(row.decided_by_name or 'someone')}, {when(row.decided_at)}"
    if row.status == DraftStatus.SENT:
        st.caption(f":material/mark_email_read: Sent {when(row.sent_at)} · approved by {decided}")
    elif row.status == DraftStatus.FAILED:
        st.error(
            f"Gmail refused this email: {escape_md(row.delivery_error or 'unknown error')}  \n"
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


def _editor(row: DraftRow, user: UserSummary, error: str | None) -> None:
    keys = _keys(row.id)
    if keys["subject"] not in st.session_state:  # first view, or reloaded after a conflict
        st.session_state[keys["version"]] = row.version
    if error:
        st.error(escape_md(error), icon=":material/sync_problem:")
    elif st.session_state[keys["version"]] != row.version:
        st.warning("Someone else saved a newer version of this draft.", icon=":material/update:")
        st.button(
            "Load the latest text", key=f"draft_reload_{row.id}", on_click=_reload, args=(row,)
        )
    with st.form(f"draft_{row.id}", border=False):
        st.text_input("Subject", value=row.subject, max_chars=SUBJECT_MAX, key=keys["subject"])
        st.text_area("Body", value=row.body, height=280, max_chars=BODY_MAX, key=keys["body"])
        st.text_input(
            "Reason (needed only to reject)",
            key=keys["reason"],
            max_chars=NOTE_LENGTH,
            placeholder="e.g. The goal is not confirmed with the customer yet",
        )
        send = "Approve & send" if row.to_addresses else "Approve"
        save, go, drop, _ = st.columns([1, 1.3, 1, 2.7])
        for column, label, action, kind in (
            (save, "Save", "save", "secondary"),
            (go, send, "approve", "primary"),
            (drop, "Reject", "reject", "secondary"),
        ):
            with column:
                st.form_submit_button(
                    label,
                    type=kind,
                    width="stretch",
                    on_click=_act,
                    args=(action, row, user),
                    key=f"draft_{action}_{row.id}",
                )


def draft_card(row: DraftRow, user: UserSummary, errors: dict | None = None) -> None:
    """Render one draft: who and what, then the editor (if the viewer may act) or the outcome."""
    _, error = (errors or {}).get(row.id, (None, None))
    with st.container(border=True):
        _header(row)
        if row.can_act:
            _editor(row, user, error)
            return
        _read_only(row)
        _outcome(row)
        if row.status == DraftStatus.PENDING:
            st.caption("Only the owning CSM or an admin can approve this draft.")


def _bulk(rows: list[DraftRow], user: UserSummary) -> None:
    chosen = st.session_state.get("approvals_bulk") or []
    # The versions the open editors are based on: what the person has actually read.
    versions = {r.id: st.session_state.get(_keys(r.id)["version"], r.version) for r in rows}
    try:
        result = data.call(bulk_approve, draft_ids=chosen, actor=user, expected_versions=versions)
    except DomainError as exc:
        st.session_state[ERRORS] = {None: (None, str(exc))}
        return
    st.session_state.pop("approvals_bulk", None)
    st.session_state[FLASH] = (
        f"Approved {result.approved} drafts; {result.emails_queued} emails are queued."
    )


def bulk_approval(rows: list[DraftRow], user: UserSummary) -> None:
    """Let the viewer approve several pending drafts, as last saved, in one go."""
    actable = [r for r in rows if r.can_act]
    if len(actable) < 2:
        return
    labels = {r.id: f"{r.customer_name} — {r.subject}" for r in actable}
    with st.expander(
        f"Approve several at once ({len(actable)} pending)", icon=":material/done_all:"
    ):
        st.multiselect(
            "Drafts to approve",
            list(labels),
            format_func=labels.get,
            key="approvals_bulk",
            placeholder="Choose drafts",
        )
        st.caption(
            "Drafts are approved as last saved: unsaved edits in the cards are not included."
        )
        st.button(
            "Approve selected",
            type="primary",
            on_click=_bulk,
            args=(actable, user),
            key="approvals_bulk_go",
        )
