"""The Marketing candidates page's cached reads, keyed by its filters, forgotten after a flag.

They read the primary, not the replica: a win just flagged must already be on the board.
"""

import streamlit as st

from components import data
from components.marketing_views import CandidateFilters
from core.marketing.models import FlagStatus
from core.marketing.queries import (
    MAX_LIMIT,
    candidate_industries,
    flag_board,
    list_candidates,
    utilization,
)
from core.marketing.schemas import BoardCard, CandidatePage, Utilization


@st.cache_data(ttl=60, show_spinner=False)
def usage() -> Utilization:
    """Return how many wins there are, how many are flagged and used, and flags per status."""
    return data.call(utilization)


@st.cache_data(ttl=60, show_spinner=False)
def industries() -> list[str]:
    """Return the industries of customers with documented wins."""
    return data.call(candidate_industries)


@st.cache_data(ttl=60, show_spinner="Loading candidates…")
def candidates(filters: CandidateFilters) -> CandidatePage:
    """Return the wins matching `filters`, up to the export limit (Invalid for a bad filter)."""
    return data.call(list_candidates, **filters.as_kwargs(), limit=MAX_LIMIT)


@st.cache_data(ttl=60, show_spinner=False)
def board() -> dict[FlagStatus, list[BoardCard]]:
    """Return the flags per status for the board."""
    return data.call(flag_board)


def forget() -> None:
    """Drop every cached read of the page: a flag or a move changes counts, cards and the board."""
    for loader in (usage, industries, candidates, board):
        loader.clear()
