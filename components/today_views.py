"""The CSM's Today list: what waits for them, each item linking to where it is handled."""

import uuid

import streamlit as st

from components.auth import current_user
from components.deltas import day_words
from components.format import escape_md, without_customer
from components.navigation import page_file
from core.reporting.landing_schemas import Today, TodayGroup, TodayItem

APPROVALS_PAGE = "pages/approvals.py"
WINS_PAGE = "pages/wins.py"
UPSELLS_PAGE = "pages/upsells.py"
# Each kind: title, what it counts, where it is handled and the link's words there.
GROUPS = {
    "drafts": (
        "Drafts to approve",
        "Emails and messages drafted for your customers, waiting for your approval (all of "
        "them, oldest first).",
        APPROVALS_PAGE,
        "Open Approvals",
    ),
    "confirmations": (
        "Wins to confirm",
        "Wins the checks held for you to confirm, and custom goals past their due date (all of "
        "them, oldest first).",
        WINS_PAGE,
        "Confirm them on the Wins page",
    ),
    "checkpoints": (
        "Overdue reviews",
        "Checkpoint reviews of your active upsell plans whose review day has passed (all of "
        "them, oldest first).",
        UPSELLS_PAGE,
        "Open Upsell progress",
    ),
    "lagging": (
        "Lagging plans",
        "Your active upsell plans whose adoption is behind or at risk of missing the expected "
        "curve now (behind first).",
        UPSELLS_PAGE,
        "Open Upsell progress",
    ),
}


def _link(item: TodayItem, page: str, params: dict | None) -> None:
    if item.plan_id:
        params = {"plan": str(item.plan_id)}
    own_words = without_customer(item.subject, item.customer_name)
    st.page_link(
        page_file(page),
        label=f"**{escape_md(item.customer_name)}** — {escape_md(own_words)}",
        query_params=params,
        icon=":material/chevron_right:",
        help=escape_md(item.subject),  # a long subject is cut to one line: hovering shows it
    )
    st.caption(f"{escape_md(item.detail)} · since {day_words(item.since)}")


def _group(name: str, group: TodayGroup, user_id: uuid.UUID) -> None:
    title, counts, page, go = GROUPS[name]
    with st.container(border=True, height="stretch"):
        st.markdown(f"**{title}** · {group.total}", help=counts)
        if not group.total:
            st.caption("Nothing waiting.")
            return
        # Approvals also lists drafts of the CSM's customers owned by others: narrow it to theirs.
        params = {"owner": str(user_id)} if page == APPROVALS_PAGE else None
        for item in group.items:
            _link(item, page, params)
        more = f" ({group.total - len(group.items)} more)" if group.total > len(group.items) else ""
        st.page_link(
            page_file(page),
            label=f"{go}{more}",
            icon=":material/arrow_forward:",
            query_params=params,
        )


def today_list(today: Today) -> None:
    """Render the four kinds of waiting work in a 2x2 grid, or say that nothing waits."""
    if not today.waiting:
        st.success(
            "Nothing waits for you today: no drafts to approve, no wins to confirm, no overdue "
            "reviews and no lagging plans.",
            icon=":material/check_circle:",
        )
        return
    names, user = list(GROUPS), current_user()
    for row in (names[:2], names[2:]):
        for column, name in zip(st.columns(2, gap="medium"), row, strict=True):
            with column:
                _group(name, getattr(today, name), user.id)
