"""How drafts read in the approval queue: status words and badges, ages, empty states, toasts."""

from datetime import UTC, datetime

import streamlit as st

from components.cards import empty_state
from components.format import escape_md
from core.drafts.models import DraftStatus

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
TOAST = "approvals_toast"


def age(created_at: datetime, now: datetime | None = None) -> str:
    """Say how long ago a draft was written: 'under an hour', '5 hours', '3 days'."""
    hours = ((now or datetime.now(UTC)) - created_at).total_seconds() / 3600
    if hours < 1:
        return "under an hour"
    if hours < 24:
        return "1 hour" if hours < 2 else f"{int(hours)} hours"
    days = int(hours // 24)
    return "1 day" if days == 1 else f"{days:,} days"


def empty(status: DraftStatus) -> None:
    """Explain why the chosen part of the queue is empty and how drafts arrive."""
    title, hint = EMPTY[status]
    empty_state(title, hint, icon=":material/inbox:")


def announce(message: str) -> None:
    """Keep a confirmation to show as a toast on the next run (actions run in callbacks)."""
    st.session_state[TOAST] = message


def toasts() -> None:
    """Show the confirmation the last action left, once."""
    if message := st.session_state.pop(TOAST, None):
        st.toast(escape_md(message), icon=":material/check_circle:")
