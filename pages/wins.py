"""Wins: verified customer wins, the success measures, recent wins and what waits for a CSM."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import streamlit as st

from components import data, forms
from components.auth import require_user
from components.cards import empty_state, page_header
from components.wins_metrics import success_metrics
from components.wins_views import (
    FLASH,
    WinsFilters,
    chart_grid,
    confirm_panel,
    filter_bar,
    headline,
    recent_feed,
    recognition,
)
from core.accounts.schemas import UserSummary
from core.base import Role
from core.documentation.service import CONFIRMERS, confirm_pending
from core.errors import DomainError
from core.reporting.wins import (
    PendingConfirmation,
    WinsOverview,
    pending_confirmations,
    wins_overview,
)
from core.repository.overview import filter_options
from core.repository.schemas import RepositoryOptions
from core.schemas import NOTE_LENGTH


@st.cache_data(ttl=60, show_spinner=False)
def load_options() -> RepositoryOptions:
    """Return the industries with documented wins and how many there are."""
    return data.call(filter_options)


@st.cache_data(ttl=60, show_spinner="Loading wins…")
def load_overview(csm_id: str | None, filters: WinsFilters, role: Role) -> WinsOverview:
    """Return the wins of one book (or the team) matching `filters` as `role` may see them."""
    owner = uuid.UUID(csm_id) if csm_id else None
    return data.call(wins_overview, csm_id=owner, **filters.as_kwargs(), viewer=role)


@st.cache_data(ttl=60, show_spinner=False)
def load_pending(csm_id: str | None) -> list[PendingConfirmation]:
    """Return held wins and custom goals waiting for one CSM (or anyone)."""
    return data.call(pending_confirmations, csm_id=uuid.UUID(csm_id) if csm_id else None)


DATES, LINKED = "wins_dates", "wins_dates_linked"  # the period widget's key; the link applied


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None  # a mistyped link falls back to the default period


def period_from_link() -> None:
    """Set the period from `?from=YYYY-MM-DD&to=YYYY-MM-DD` when the address brings a new one."""
    link = (st.query_params.get("from"), st.query_params.get("to"))
    if link == st.session_state.get(LINKED):
        return  # already applied: the person's own choice since then stands
    st.session_state[LINKED] = link
    first, last = _day(link[0]), _day(link[1])
    if first and last and first <= last:
        st.session_state[DATES] = (first, last)


def period_to_link(filters: WinsFilters) -> None:
    """Keep the chosen period in the address, so a shared link shows the same figures."""
    link = (
        filters.date_from.isoformat() if filters.date_from else None,
        filters.date_to.isoformat() if filters.date_to else None,
    )
    for key, value in zip(("from", "to"), link, strict=True):
        if value:
            st.query_params[key] = value
        else:
            st.query_params.pop(key, None)
    st.session_state[LINKED] = (st.query_params.get("from"), st.query_params.get("to"))


def confirm(goal_id: str, user: UserSummary) -> None:
    """Confirm one waiting win with the note and value from its form (a submit callback)."""
    note = st.session_state.get(f"confirm_note_{goal_id}") or ""
    value = st.session_state.get(f"confirm_value_{goal_id}")
    if problem := forms.text("How did you verify it?", note, NOTE_LENGTH):
        st.session_state[FLASH] = ("error", f"Not confirmed: {problem}", None)
        return
    try:
        achievement_id = data.call(
            confirm_pending,
            goal_id=uuid.UUID(goal_id),
            actor_email=user.email,
            note=note,
            achieved_value=None if value is None else Decimal(str(value)),
        )
    except DomainError as exc:
        st.session_state[FLASH] = ("error", f"Not confirmed: {exc}", None)
        return
    for loader in (load_options, load_overview, load_pending):
        loader.clear()
    message = "Confirmed. The success record is written; Slack and the email draft are queued."
    st.session_state[FLASH] = ("success", message, str(achievement_id))


def confirmations(user: UserSummary) -> None:
    """Render the confirmation panel for people who may confirm wins (CSMs: their own book)."""
    if user.role in CONFIRMERS:
        mine = user.role == Role.CSM
        pending = load_pending(str(user.id) if mine else None)
        confirm_panel(pending, lambda goal_id: confirm(goal_id, user), mine=mine)


user = require_user()
is_csm = user.role == Role.CSM
page_header(
    "Wins",
    "Verified customer wins, how well we capture, communicate and reuse them, and what waits "
    "for a CSM. Refreshed every minute.",
)
options = load_options()
whole_team = not is_csm or st.toggle(
    "Whole team", key="wins_team", help="Off: only the customers you own. On: every CSM's wins."
)
period_from_link()
filters = filter_bar(options.industries, datetime.now(UTC).date())
period_to_link(filters)
mine = not whole_team
overview = load_overview(None if whole_team else str(user.id), filters, user.role)

if overview.wins:
    headline(overview)
    success_metrics(overview.metrics, mine=mine)
    chart_grid(overview)
elif not options.entries:
    empty_state(
        "No wins yet",
        "The detection job checks every goal against fresh usage data every few minutes. Each win "
        "it verifies is documented, announced in Slack and listed here with its evidence. Held "
        "wins and custom goals wait for their CSM to confirm them.",
        icon=":material/emoji_events:",
    )
else:
    empty_state(
        "No wins match these filters",
        "Widen the period, pick 'Any' industry or goal type"
        + (", or switch on 'Whole team' to see every CSM's wins." if mine else "."),
        icon=":material/filter_alt_off:",
    )

if overview.wins:
    feed, side = st.columns([3, 2], gap="large")
    with feed:
        recent_feed(overview, mine=mine)
    with side:
        if not mine:
            recognition(overview)
        confirmations(user)
else:
    confirmations(user)
