"""Home: a CSM's Today (what needs them, then their book) or the team's wins and outcomes."""

import uuid
from datetime import UTC, date, datetime

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import page_header
from components.deltas import day_words
from components.format import escape_md
from components.home_views import attention_list, chart_grid, figure_cards, no_customers
from components.team_views import outcome_headlines, wins_headlines
from components.today_views import today_list
from core.base import Role
from core.reporting.home import home_figures
from core.reporting.landing_schemas import OutcomePeriods, TeamHeadlines, Today
from core.reporting.outcome_periods import outcome_periods
from core.reporting.schemas import HomeFigures
from core.reporting.team import team_headlines
from core.reporting.today import today_for
from core.upsell.analysis_schemas import Analysis
from core.upsell.outcome_report import analysis


@st.cache_data(ttl=60, show_spinner="Loading figures…")
def load(user_id: str) -> HomeFigures:
    """Return the home figures of one user, cached for a minute."""
    return data.read(home_figures, user_id=uuid.UUID(user_id))


@st.cache_data(ttl=60, show_spinner=False)
def load_today(user_id: str, day: date) -> Today:
    """Return what waits for one CSM on `day`, cached for a minute."""
    return data.read(today_for, user_id=uuid.UUID(user_id), today=day)


@st.cache_data(ttl=60, show_spinner="Loading the team's figures…")
def load_team(role: Role, day: date) -> tuple[TeamHeadlines, Analysis, OutcomePeriods]:
    """Return the team's wins headlines and the outcome report's, as `role` may see them."""
    # Keyed by role, not person: every leader (or admin) sees the same team, read once a minute.
    team = data.read(team_headlines, today=day, viewer=role)
    # The stored report (written by the tracking job; the first reader stores it when none is).
    return team, data.call(analysis), data.read(outcome_periods, today=day)


user = require_user(Role.CSM, Role.LEADER, Role.ADMIN)
day = datetime.now(UTC).date()
figures = load(str(user.id))
mine = figures.scope == "book"
if mine:
    page_header(
        "Today",
        f"{escape_md(figures.user_name)} · {day_words(day)} — what needs you today, then your "
        "book: the customers you own. Refreshed every minute.",
    )
    today_list(load_today(str(user.id), day))
    st.subheader("Your book")
else:
    page_header(
        "Team wins and outcomes",
        f"{escape_md(figures.user_name)} · {day_words(day)} — the team's wins and how upsells "
        "turned out, then every customer of every CSM. Refreshed every minute.",
    )
    team, report, periods = load_team(user.role, day)
    wins_headlines(team)
    outcome_headlines(report, periods)
    st.subheader("Every customer")
if not figures.customers:
    no_customers(figures)
    st.stop()
figure_cards(figures)
chart_grid(figures)
attention_list(figures)
