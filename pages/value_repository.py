"""Value repository: search documented wins, copy consent-aware proof points, export, see trends.

Copying a snippet counts one use of that win; downloading CSV or Markdown counts one use of every
win in the download (up to the export limit), under the purpose picked above the results. Entries,
snippets and exports show what consent allows, whoever looks; a win's success record names the
customer only for CS staff (`core.repository.consent`).
"""

import uuid

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import empty_state, page_header
from components.form_messages import form_messages
from components.format import escape_md
from components.repository_views import (
    FILTER_LABELS,
    PURPOSE_LABELS,
    RepoFilters,
    clear_filters,
    entry_card,
    filter_panel,
    insights,
    purpose_picker,
)
from core.accounts.schemas import UserSummary
from core.base import Role
from core.errors import Invalid, NotFound
from core.repository.consent import Audience, audience
from core.repository.exports import export_csv, export_markdown
from core.repository.overview import aggregates, filter_options
from core.repository.queries import (
    MAX_LIMIT,
    record_markdown,
    search_entries,
)
from core.repository.schemas import RepositoryAggregates, RepositoryOptions, RepositoryPage
from core.repository.schemas import UsePurpose as Purpose
from core.repository.service import record_use, record_uses

PAGE_SIZE = 10
REVEALED = "repo_revealed"
ROLE_PURPOSE = {
    Role.SALES: Purpose.SALES,
    Role.MARKETING: Purpose.MARKETING,
    Role.CSM: Purpose.QBR,
    Role.LEADER: Purpose.QBR,
    Role.ADMIN: Purpose.OTHER,
}


@st.cache_data(ttl=60, show_spinner=False)
def load_options() -> RepositoryOptions:
    """Return the filter choices and how many wins exist, cached for a minute."""
    return data.read(filter_options)


@st.cache_data(ttl=60, show_spinner=False)
def load_page(filters: RepoFilters, offset: int) -> RepositoryPage:
    """Return one page of wins matching `filters`."""
    return data.call(search_entries, **filters.as_kwargs(), limit=PAGE_SIZE, offset=offset)


@st.cache_data(ttl=60, show_spinner=False)
def load_insights(filters: RepoFilters) -> RepositoryAggregates:
    """Return counts and dollar value of the matching wins by industry, quarter and goal type."""
    return data.read(aggregates, **filters.as_kwargs())


@st.cache_data(ttl=60, show_spinner=False)
def load_records(entry_ids: tuple[str, ...], role: Role) -> dict:
    """Return the success-record markdown of the wins that have one, as `role` may read it."""
    return data.read(record_markdown, entry_ids=[uuid.UUID(i) for i in entry_ids], viewer=role)


def export_items(filters: RepoFilters) -> list:
    """Return every matching win up to the export limit."""
    return data.call(search_entries, **filters.as_kwargs(), limit=MAX_LIMIT).items


def copy_snippet(entry_id: str, purpose: Purpose, user: UserSummary) -> None:
    """Count a use of one win and reveal its proof point (button callback)."""
    try:
        data.call(
            record_use,
            entry_id=uuid.UUID(entry_id),
            purpose=purpose,
            actor=user.email,
            actor_user_id=user.id,
        )
    except NotFound:
        st.toast("That win no longer exists.", icon=":material/error:")
        return
    st.session_state.setdefault(REVEALED, set()).add(entry_id)
    load_page.clear()
    st.toast(f"Counted as a use for {PURPOSE_LABELS[purpose]}.", icon=":material/check:")


def count_export(filters: RepoFilters, purpose: Purpose, user: UserSummary) -> None:
    """Count one use of every downloaded win (download button callback)."""
    ids = [item.id for item in export_items(filters)]
    data.call(record_uses, entry_ids=ids, purpose=purpose, actor=user.email, actor_user_id=user.id)
    load_page.clear()
    st.toast(f"Counted one use of each of {len(ids)} downloaded wins.", icon=":material/check:")


def results(filters: RepoFilters, first: RepositoryPage, purpose: Purpose, user: UserSummary):
    """Render the pager, downloads and result cards."""
    if first.total_capped:
        ranked = "are ranked here" if filters.q else "are listed on these pages"
        st.caption(
            f"More than {first.total:,} wins match, so the {first.total:,} most recent of them "
            f"{ranked}. Add words or filters to narrow them down."
        )
    pages = -(-first.total // PAGE_SIZE)
    info, pager, downloads = st.columns([3, 3, 2.2], vertical_alignment="center")
    with pager:
        chosen = st.pagination(pages, key=f"repo_page_{filters.key()}") if pages > 1 else 1
    start = (chosen - 1) * PAGE_SIZE
    page = load_page(filters, start)
    order = "best match first" if filters.q else "newest first"
    shown = f"{start + 1:,}–{start + len(page.items):,}"
    info.caption(f"Showing {shown} of {first.total_text} wins · {order}")
    with downloads, st.container(horizontal=True, horizontal_alignment="right"):
        for title, render, name, mime in (
            ("CSV", export_csv, "value-repository.csv", "text/csv"),
            ("Markdown", export_markdown, "value-repository.md", "text/markdown"),
        ):
            st.download_button(
                title,
                data=lambda render=render: render(export_items(filters)),
                file_name=name,
                mime=mime,
                icon=":material/download:",
                on_click=count_export,
                args=(filters, purpose, user),
                key=f"export_{title}",
                help=f"Download up to {MAX_LIMIT} matching wins; counts one use of each.",
            )
    records = load_records(tuple(str(item.id) for item in page.items), user.role)
    named = audience(user.role) == Audience.INTERNAL
    revealed = st.session_state.get(REVEALED, set())
    for item in page.items:
        entry_card(
            item,
            record=records.get(item.id),
            record_names=named,
            revealed=str(item.id) in revealed,
            on_copy=copy_snippet,
            args=(str(item.id), purpose, user),
        )


user = require_user()
page_header(
    "Value repository",
    "Documented wins to reuse in QBRs, renewals, sales conversations and case studies.",
)
options = load_options()
if not options.entries:
    empty_state(
        "No wins in the repository yet",
        "Every win the detection job verifies and documents is filed here automatically, with "
        "its value, products and the customer's consent level. Once the jobs process has "
        "documented a win (`python -m jobs run-once`), you can search, copy and export it here.",
        icon=":material/inventory_2:",
    )
else:
    filters = filter_panel(options)
    purpose = purpose_picker(ROLE_PURPOSE.get(user.role, Purpose.OTHER))
    try:
        first = load_page(filters, 0)
        trends = load_insights(filters)
    except Invalid as exc:
        for message in form_messages(exc, FILTER_LABELS):
            st.warning(f"Please check the filters — {escape_md(message)}", icon=":material/rule:")
    else:
        found, charts = st.tabs([f"Results ({first.total_text})", "Insights"])
        with found:
            if first.total:
                results(filters, first, purpose, user)
            else:
                empty_state(
                    "No wins match these filters",
                    "Loosen them: shorten or clear the search, widen the date or value range, "
                    "pick 'Any' in a filter or allow more consent levels.",
                    icon=":material/filter_alt_off:",
                )
                st.button(
                    "Clear all filters",
                    key="rf_clear",
                    on_click=clear_filters,
                    icon=":material/undo:",
                )
        with charts:
            if trends.total:
                insights(trends)
            else:
                st.caption("Nothing to chart: no wins match these filters.")
