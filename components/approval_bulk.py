"""Bulk approval in the inbox: choose drafts, review exactly what will be sent, then approve."""

import streamlit as st

from components import approval_data, approval_unsaved, data
from components.approval_list import OPEN
from components.draft_views import announce
from components.format import escape_md
from core.accounts.schemas import UserSummary
from core.drafts.schemas import DraftListRow
from core.drafts.service import bulk_approve
from core.errors import DomainError

CHOSEN, CONFIRM, ERROR = "approvals_bulk", "approvals_bulk_confirm", "approvals_bulk_error"
LISTED = 10  # drafts named one by one in the confirmation; the rest are counted


def _review() -> None:
    st.session_state[CONFIRM] = list(st.session_state.get(CHOSEN) or [])


def _cancel() -> None:
    st.session_state.pop(CONFIRM, None)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _approve(rows: list[DraftListRow], user: UserSummary) -> None:
    state = st.session_state
    # The versions the person read: the pane's if they opened the draft, else the list's.
    versions = {r.id: state.get(f"draft_version_{r.id}", r.version) for r in rows}
    try:
        result = data.call(
            bulk_approve, draft_ids=[r.id for r in rows], actor=user, expected_versions=versions
        )
    except DomainError as exc:
        state[ERROR] = str(exc)
        state.pop(CONFIRM, None)
        approval_data.forget()
        return
    approval_data.forget()
    for draft_id in versions:  # approved as last saved: what was typed on them is discarded
        approval_unsaved.forget(draft_id)
    for key in (CHOSEN, CONFIRM):
        state.pop(key, None)
    if state.get(OPEN) in versions:
        state.pop(OPEN)  # the first draft left in the list opens instead
    names = ", ".join(dict.fromkeys(r.customer_name for r in rows))
    announce(
        f"Approved {_plural(result.approved, 'draft')} ({names}); "
        f"{_plural(result.emails_queued, 'email')} queued."
    )


def _confirmation(rows: list[DraftListRow], user: UserSummary) -> None:
    emails, unsaved = sum(1 for r in rows if r.to_addresses), approval_unsaved.held()
    lines = [
        f"- **{escape_md(r.customer_name)}** — {escape_md(r.subject)} → "
        + escape_md(", ".join(r.to_addresses) or "nobody (internal summary)")
        + (" (its unsaved edits are not included and will be discarded)" if r.id in unsaved else "")
        for r in rows[:LISTED]
    ]
    if len(rows) > LISTED:
        lines.append(f"- and {_plural(len(rows) - LISTED, 'more draft')}")
    st.warning(
        f"Approve {_plural(len(rows), 'draft')} and send {_plural(emails, 'email')}, "
        "as last saved?\n\n" + "\n".join(lines),
        icon=":material/outgoing_mail:",
    )
    go, cancel, _ = st.columns([2, 1, 2])
    with go:
        st.button(
            f"Approve {len(rows):,} and send {_plural(emails, 'email')}",
            type="primary",
            on_click=_approve,
            args=(rows, user),
            key="approvals_bulk_go",
            width="stretch",
        )
    with cancel:
        st.button("Cancel", on_click=_cancel, key="approvals_bulk_cancel", width="stretch")


def bulk_approval(rows: list[DraftListRow], user: UserSummary) -> None:
    """Let the viewer approve several pending drafts of this page, after a review step."""
    actable = {r.id: r for r in rows if r.can_act}
    state = st.session_state
    error = state.pop(ERROR, None)
    if len(actable) < 2 and not error:
        return
    labels = {i: f"{r.customer_name} — {r.subject}" for i, r in actable.items()}
    if any(i not in actable for i in state.get(CHOSEN) or []):
        state[CHOSEN] = [i for i in state[CHOSEN] if i in actable]  # decided meanwhile
    title = f"Approve several at once ({len(actable):,} pending on this page)"
    with st.expander(title, icon=":material/done_all:", expanded=bool(error)):
        st.multiselect(
            "Drafts to approve",
            list(labels),
            format_func=labels.get,
            key=CHOSEN,
            placeholder="Choose drafts",
            on_change=_cancel,
        )
        st.caption(
            "Drafts are approved as last saved: unsaved edits in the pane are not included and "
            "are discarded."
        )
        if error:
            st.error(escape_md(error), icon=":material/error:")
        confirm = [actable[i] for i in state.get(CONFIRM) or [] if i in actable]
        if confirm:
            _confirmation(confirm, user)
            return
        st.button(
            "Review and approve…",
            icon=":material/fact_check:",
            on_click=_review,
            disabled=not state.get(CHOSEN),
            key="approvals_bulk_review",
        )
