"""Customers: filter and export the customer list, open one customer's page (its 360).

Sales and marketing see each customer as its consent allows (core.reporting.customers). The
customer's sections render one at a time (the section picker), so only the chosen one reads
more than the cached page read.
"""

import uuid

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import empty_state, page_header
from components.customer_activity import goals_view, timeline_view, upsells_view
from components.customer_contacts import contacts_and_feedback
from components.customer_detail import (
    GOALS,
    HEALTH,
    PEOPLE,
    SECTION_KEY,
    UPSELLS,
    USAGE,
    VALUE_PACK,
    header,
    health_section,
    section_picker,
    sections,
    usage_section,
)
from components.customer_form import add_customer_form
from components.customer_table import PAGE_SIZE, Filters, customer_table, filter_bar, to_csv
from components.goals_section import goals_and_plans_section
from components.upsell_form import manual_upsell_form
from components.value_pack import value_pack_section
from core.base import Role
from core.errors import NotFound
from core.reporting.customers import customer_detail, filter_options, list_customers, metric_series
from core.reporting.schemas import CustomerDetail, CustomerFilters, CustomerPage, MetricSeries

FRESH = "customer_fresh"  # set by a change made here: the next run reads the primary


@st.cache_data(ttl=60, show_spinner=False)
def load_options() -> CustomerFilters:
    """Return the filter choices, cached for a minute."""
    return data.call(filter_options)


@st.cache_data(ttl=60, show_spinner=False)
def load_page(filters: Filters, offset: int, role: Role) -> CustomerPage:
    """Return one page of customers matching `filters`, named as `role` may see them."""
    return data.call(
        list_customers, **filters.as_kwargs(), limit=PAGE_SIZE, offset=offset, viewer=role
    )


@st.cache_data(ttl=60, show_spinner=False)
def load_detail(customer_id: str, role: Role) -> CustomerDetail:
    """Return one customer's page as `role` may see it (the viewer's role decides the view)."""
    return data.read(customer_detail, customer_id=uuid.UUID(customer_id), viewer=role)


def fresh_detail(customer_id: str, role: Role) -> CustomerDetail:
    """Return the page from the primary, right after this person's own change."""
    return data.call(customer_detail, customer_id=uuid.UUID(customer_id), viewer=role)


def changed() -> None:
    """Forget cached reads after a change made on this page; the next run reads the primary."""
    load_detail.clear()
    load_series.clear()
    load_page.clear()
    st.session_state[FRESH] = True


def export_rows(filters: Filters, role: Role) -> bytes:
    """Return every customer matching `filters` as CSV, named as `role` may see them."""
    return to_csv(data.call(list_customers, **filters.as_kwargs(), limit=None, viewer=role).rows)


@st.cache_data(ttl=60, show_spinner=False)
def load_series(customer_id: str, metric_key: str) -> MetricSeries:
    """Return one metric's last 12 months for one customer."""
    return data.read(metric_series, customer_id=uuid.UUID(customer_id), metric_key=metric_key)


LINKED_SECTION = "customer_section_linked"  # the ?section= last applied to the picker


def section_from_link(options: list[str]) -> None:
    """Open the section a new address asks for (value_pack and value-pack alike)."""
    asked = st.query_params.get(SECTION_KEY, "").replace("_", "-")
    if asked == st.session_state.get(LINKED_SECTION):
        return  # applied already: a later click in the picker stands
    st.session_state[LINKED_SECTION] = asked
    if asked in options:
        st.session_state[SECTION_KEY] = asked


user = require_user()
page_header("Customers", "Search and filter customers; select a row to open its details.")
added = add_customer_form(user)
if added:
    changed()
    load_options.clear()
    st.query_params["customer"] = added
filters = filter_bar(load_options(), default_owner=user.id if user.role == Role.CSM else None)

total = load_page(filters, 0, user.role).total
if not total and not load_page(Filters(), 0, user.role).total:
    empty_state(
        "No customers yet",
        "Add the first one with **Add a customer** above, or let your CRM send them to the API "
        "(`PUT /api/customers/{id}`).",
        icon=":material/apartment:",
    )
elif not total:
    empty_state(
        "No customers match these filters",
        "Clear the search or pick 'All' in a filter to see more.",
        icon=":material/filter_alt_off:",
    )
else:
    pages = -(-total // PAGE_SIZE)
    info, pager, export = st.columns([3, 3, 1.4], vertical_alignment="center")
    with pager:
        number = st.pagination(pages, key=f"page_{filters.key()}") if pages > 1 else 1
    result = load_page(filters, (number - 1) * PAGE_SIZE, user.role)
    first = (number - 1) * PAGE_SIZE + 1
    info.caption(f"Showing {first:,}–{first + len(result.rows) - 1:,} of {total:,} customers")
    export.download_button(
        "Download CSV",
        data=lambda: export_rows(filters, user.role),
        file_name="customers.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )
    picked = customer_table(result.rows, key=f"table_{filters.key()}_{number}")
    if picked:
        st.query_params["customer"] = str(picked)

selected = st.query_params.get("customer")
if selected:
    st.divider()
    try:
        fresh = st.session_state.pop(FRESH, False)
        detail = (fresh_detail if fresh else load_detail)(selected, user.role)
    except (NotFound, ValueError):
        st.warning("That customer does not exist (any more). Pick another row above.")
    else:
        header(detail)
        shown = sections(user.role, value_pack=True)
        section_from_link(shown)
        section = section_picker(shown)
        with st.container(key=f"customer_{section}"):
            if section == HEALTH:
                health_section(detail)
            elif section == GOALS:
                goals_view(detail)
                goals_and_plans_section(selected, user, on_change=changed)
            elif section == UPSELLS:
                upsells_view(detail, user.role)
                manual_upsell_form(selected, user, on_change=changed)
            elif section == PEOPLE:
                contacts_and_feedback(detail, on_change=changed)
            elif section == USAGE:
                usage_section(detail, lambda key: load_series(selected, key))
            elif section == VALUE_PACK:
                value_pack_section(selected, user)
            else:
                timeline_view(detail, user.role)
elif total:
    st.caption(":material/touch_app: Select a row to see health, goals, upsells and timeline.")
