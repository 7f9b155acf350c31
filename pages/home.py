"""Home: live figures for the signed-in person's book (CSM) or the whole company."""

import uuid

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import page_header
from components.format import escape_md
from components.home_views import attention_list, chart_grid, figure_cards, no_customers
from core.reporting.home import home_figures
from core.reporting.schemas import HomeFigures


@st.cache_data(ttl=60, show_spinner="Loading figures…")
def load(user_id: str) -> HomeFigures:
    """Return the home figures of one user, cached for a minute."""
    return data.read(home_figures, user_id=uuid.UUID(user_id))


user = require_user()
figures = load(str(user.id))
mine = figures.scope == "book"
page_header(
    "Your book" if mine else "Company overview",
    f"Live figures for {escape_md(figures.user_name)}"
    + (" — the customers you own." if mine else " — every customer, all CSMs.")
    + " Refreshed every minute.",
)
if not figures.customers:
    no_customers(figures)
    st.stop()
figure_cards(figures)
chart_grid(figures)
attention_list(figures)
