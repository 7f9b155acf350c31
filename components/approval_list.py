"""The approval inbox's list: status, filters, sort and search, one page of drafts, paging.

Picking a row opens that draft in the detail pane; changing a filter or the page starts again
from the first row. What is open and which page is shown live in session state.
"""

import uuid

import streamlit as st

from components import forms
from components.draft_views import BADGES, FILTERS, age
from components.format import escape_md, without_customer
from core.drafts.models import DraftKind, DraftStatus
from core.drafts.schemas import KIND_LABELS, DraftListRow, DraftOptions, DraftPage, DraftSort
from core.schemas import NAME_LENGTH, as_uuid

PAGE_SIZE = 25
OPEN, OFFSET = "approvals_open", "approvals_offset"
SEARCH, KIND, CUSTOMER, OWNER, AGE, SORT = (
    "approvals_search",
    "approvals_kind",
    "approvals_customer",
    "approvals_owner",
    "approvals_age",
    "approvals_sort",
)
CHOICES = (KIND, CUSTOMER, OWNER, AGE)
SORTS = {
    DraftSort.OLDEST: "Oldest first",
    DraftSort.NEWEST: "Newest first",
    DraftSort.CUSTOMER: "Customer A–Z",
}
ANY = "any"  # the "no filter" choice (a None option would show as a clearable selection)
AGES = {1: "Over a day old", 3: "Over 3 days old", 7: "Over a week old", 30: "Over 30 days old"}
LIST_HEIGHT, SCROLL_FROM = 620, 8
UNSAVED_BADGE = ":yellow-badge[Unsaved edits]"
LABEL_SHOWN = 46  # characters of "customer · subject" a list row shows: one line


def start_over() -> None:
    """Show the first page and open its first draft (after a filter or the status changed)."""
    st.session_state[OFFSET] = 0
    st.session_state.pop(OPEN, None)


def status_filter(stats: dict[str, int]) -> DraftStatus:
    """Render the status choice with counts; return it (Pending by default)."""
    chosen = st.segmented_control(
        "Show",
        list(FILTERS),
        format_func=lambda s: f"{FILTERS[s]} ({stats.get(s.value, 0):,})",
        default=DraftStatus.PENDING,
        key="approvals_status",
        on_change=start_over,
    )
    return chosen or DraftStatus.PENDING


def _named(choices) -> dict[uuid.UUID, str]:
    return {c.id: c.name for c in choices}


def filter_bar(status: DraftStatus, options: DraftOptions) -> dict:
    """Render search, filters and sort; return them as the queue query's keyword arguments."""
    customers, owners = _named(options.customers), _named(options.owners)
    if linked := as_uuid(st.query_params.pop("owner", "")):  # a link to one owner's drafts
        st.session_state[OWNER] = linked if linked in owners else ANY
        start_over()
    search, kind, customer, owner, older, sort = st.columns([2, 1.6, 1.6, 1.3, 1.3, 1.3])
    common = {"on_change": start_over}
    with search:
        st.text_input(
            "Search",
            key=SEARCH,
            max_chars=NAME_LENGTH,
            placeholder="Customer or subject",
            **common,
        )
    with kind:
        st.selectbox(
            "Kind", [ANY, *DraftKind], key=KIND, format_func=_or("Any kind", KIND_LABELS), **common
        )
    with customer:
        if st.session_state.get(CUSTOMER, ANY) not in (ANY, *customers):
            st.session_state.pop(CUSTOMER)  # no longer one of the choices (its drafts decided)
        st.selectbox(
            "Customer",
            [ANY, *customers],
            key=CUSTOMER,
            format_func=_or("Any customer", customers),
            **common,
        )
    with owner:
        if st.session_state.get(OWNER, ANY) not in (ANY, *owners):
            st.session_state.pop(OWNER)
        st.selectbox(
            "Owner", [ANY, *owners], key=OWNER, format_func=_or("Anyone", owners), **common
        )
    with older:
        st.selectbox("Age", [ANY, *AGES], key=AGE, format_func=_or("Any age", AGES), **common)
    with sort:
        st.selectbox("Sort", list(SORTS), key=SORT, format_func=SORTS.get, **common)
    state = st.session_state
    chosen = {key: None if state.get(key, ANY) == ANY else state[key] for key in CHOICES}
    return {
        "status": status.value,
        "kind": chosen[KIND],
        "customer_id": chosen[CUSTOMER],
        "owner_id": chosen[OWNER],
        "older_than_days": chosen[AGE],
        "search": state.get(SEARCH) or None,
        "sort": state.get(SORT) or DraftSort.OLDEST,
        "offset": state.get(OFFSET, 0),
        "limit": PAGE_SIZE,
    }


FIELD_LABELS = {
    "search": "Search",
    "kind": "Kind",
    "customerId": "Customer",
    "ownerId": "Owner",
    "olderThanDays": "Age",
    "sort": "Sort",
}


def refused(problem: Exception) -> str:
    """Say why the queue refused the filters, naming each field by its label on screen."""
    return "; ".join(forms.in_words(problem, FIELD_LABELS))


def _or(anything: str, names: dict):
    return lambda value: anything if value == ANY else names[value]


def filtered(filters: dict) -> bool:
    """Say whether any filter or search narrows the list (beyond the status)."""
    narrowing = ("kind", "customer_id", "owner_id", "older_than_days", "search")
    return any(filters.get(k) for k in narrowing)


def clear_filters() -> None:
    """Forget every filter and the search (the sort stays)."""
    for key in (SEARCH, KIND, CUSTOMER, OWNER, AGE):
        st.session_state.pop(key, None)
    start_over()


def _open(draft_id: uuid.UUID) -> None:
    st.session_state[OPEN] = draft_id


def _row(row: DraftListRow, is_open: bool, unsaved: bool) -> None:
    # Subjects often start with the customer's name, which the row already shows.
    subject = without_customer(row.subject, row.customer_name)
    room = max(LABEL_SHOWN - len(row.customer_name) - 6 * is_open, 12)
    subject = subject if len(subject) <= room else subject[: room - 1] + "…"
    label = f"**{escape_md(row.customer_name)}** · {escape_md(subject)}"
    # The open draft's row is framed and coloured: the pane beside it shows this one.
    with st.container(gap=None, border=is_open, key=f"approvals_row_{row.id}"):
        st.button(
            f":primary[{label}]" if is_open else label,
            key=f"approvals_open_{row.id}",
            type="tertiary",
            icon=":material/drafts:" if is_open else ":material/mail:",
            on_click=_open,
            args=(row.id,),
            help=escape_md(row.subject),  # the row shows one line of it: hovering shows it all
        )
        owner = escape_md(row.owner_name or "no owner")
        facts = [BADGES[row.status], KIND_LABELS[row.kind], age(row.created_at), owner]
        if unsaved:  # text typed here and not saved yet: reopening the draft brings it back
            facts.insert(1, UNSAVED_BADGE)
        if row.edited:
            facts.append("edited")
        st.caption(" · ".join(facts))


def draft_list(page: DraftPage, open_id: uuid.UUID | None, unsaved: set[uuid.UUID]) -> None:
    """Render one page of drafts as rows to open (marking `unsaved` ones), count and pager."""
    first, last = page.offset + 1, page.offset + len(page.rows)
    if page.total == 1:
        st.caption("1 draft")
    elif first == 1 and last == page.total:
        st.caption(f"{page.total:,} drafts")
    else:
        st.caption(f"{first:,}–{last:,} of {page.total:,} drafts")
    # A long page scrolls inside its box, so the pane beside it stays in view.
    height = LIST_HEIGHT if len(page.rows) > SCROLL_FROM else "content"
    with st.container(height=height, gap="small", key="approvals_list"):
        for row in page.rows:
            _row(row, row.id == open_id, row.id in unsaved)
    if page.total <= page.limit:
        return
    earlier, later = st.columns(2)
    with earlier:
        st.button(
            "Previous",
            icon=":material/chevron_left:",
            disabled=page.offset == 0,
            on_click=_turn,
            args=(max(page.offset - page.limit, 0),),
            key="approvals_previous",
            width="stretch",
        )
    with later:
        st.button(
            "Next",
            icon=":material/chevron_right:",
            icon_position="right",
            disabled=last >= page.total,
            on_click=_turn,
            args=(page.offset + page.limit,),
            key="approvals_next",
            width="stretch",
        )


def _turn(offset: int) -> None:
    st.session_state[OFFSET] = offset
    st.session_state.pop(OPEN, None)
