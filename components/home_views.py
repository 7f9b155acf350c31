"""The home page's blocks: figure cards, the chart grid and the needs-attention list."""

import streamlit as st

from components import charts
from components.cards import Card, empty_state, metric_row
from components.format import BAND_BADGES, escape_md, money, score
from components.navigation import page_file
from core.reporting.schemas import HomeFigures

CUSTOMERS_PAGE = "pages/customers.py"


def figure_cards(figures: HomeFigures) -> None:
    """Render the book (or company) figures and the work waiting on people, each explained."""
    mine = figures.scope == "book"
    whose = "you own" if mine else "of every CSM"
    metric_row(
        [
            Card("Customers", figures.customers, f"Customers {whose}, now"),
            Card("ARR", money(figures.arr), f"Annual recurring revenue of the customers {whose}"),
            Card(
                "Average health",
                score(figures.avg_health),
                f"Mean health score (0-100) of the customers {whose} that have one",
            ),
            Card("Active goals", figures.active_goals, f"Goals of customers {whose} still open"),
        ]
    )
    metric_row(
        [
            Card(
                "Open upsell plans",
                figures.open_plans,
                f"Success-measurement plans running now for customers {whose}",
            ),
            Card(
                "Upsells without a plan",
                figures.upsells_without_plan,
                f"Closed upsells of customers {whose} that the jobs process has not planned yet "
                "(all time)",
            ),
            Card(
                "Drafts to approve",
                figures.pending_approvals,
                "Drafts waiting for your approval now"
                if mine
                else "Drafts of every CSM waiting for approval now (leaders and admins may "
                "approve any)",
            ),
        ]
    )
    if not figures.open_plans:
        st.caption(
            ":material/info: No plans yet — plans appear when the jobs process picks up "
            "closed upsells."
        )


def _chart(title: str, figure, key: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.plotly_chart(figure, key=key)


def chart_grid(figures: HomeFigures) -> None:
    """Render ARR by segment, health, industries and monthly upsells in a 2x2 grid."""
    left, right = st.columns(2, gap="medium")
    with left:
        _chart("ARR by segment", charts.money_bars(figures.arr_by_segment), "arr_by_segment")
    with right:
        _chart("Health distribution", charts.health_donut(figures.health_bands), "health")
    left, right = st.columns(2, gap="medium")
    with left:
        _chart(
            "Customers by industry", charts.count_bars(figures.customers_by_industry), "industry"
        )
    with right:
        if any(p.count for p in figures.upsells_by_month):
            _chart(
                "Upsells closed per month",
                charts.monthly_upsells(figures.upsells_by_month),
                "upsells",
            )
        else:
            with st.container(border=True):
                st.markdown("**Upsells closed per month**")
                empty_state(
                    "No upsells closed in the last 12 months",
                    "Closed-won expansions arrive through the Salesforce sync or manual entry.",
                )


def attention_list(figures: HomeFigures) -> None:
    """Render the lowest-health customers, each linking to its detail view."""
    mine = figures.scope == "book"
    st.subheader("Needs attention")
    if not figures.attention:
        empty_state("Nothing needs attention", "No customer in scope has a health score yet.")
        return
    st.caption("Lowest health scores " + ("in your book." if mine else "across the company."))
    for item in figures.attention:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.page_link(
                page_file(CUSTOMERS_PAGE),
                label=escape_md(item.name),
                icon=":material/warning:",
                query_params={"customer": str(item.customer_id)},
            )
            owner = escape_md(item.csm_name or "unassigned")
            st.markdown(
                f":{BAND_BADGES[item.health_band]}-badge[{item.reason}] "
                f":gray-badge[{money(item.arr)} ARR]"
                + ("" if mine else f" :gray-badge[CSM: {owner}]"),
                width="content",
            )


def no_customers(figures: HomeFigures) -> None:
    """Explain an empty book or an empty company and point at the customer list."""
    mine = figures.scope == "book"
    empty_state(
        "No customers yet",
        "Customers you own show up here once they are assigned to you."
        if mine
        else "Load the demo data with `python -m data.demo`, or start everything with `make run`.",
        icon=":material/apartment:",
    )
    st.page_link(page_file(CUSTOMERS_PAGE), label="Browse all customers", icon=":material/search:")
