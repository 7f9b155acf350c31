"""Win details: one achievement's success record, before/after chart, evidence and follow-up."""

import uuid

import streamlit as st

from components import data
from components.achievement_views import chart, evidence, follow_up, header, marketing, record, slug
from components.auth import require_user
from components.cards import empty_state, page_header
from components.format import escape_md
from components.navigation import page_file
from core.base import Role
from core.documentation.detail import AchievementDetail, achievement_detail
from core.errors import NotFound

TITLE = "Win details"
WINS_PAGE = "pages/wins.py"


def load(achievement_id: str, role: Role) -> AchievementDetail:
    """Return one win's detail as `role` may see it, always fresh (a held win may have just
    been confirmed)."""
    return data.call(achievement_detail, achievement_id=uuid.UUID(achievement_id), viewer=role)


def back_link() -> None:
    """Link back to the Wins page."""
    st.page_link(page_file(WINS_PAGE), label="Back to Wins", icon=":material/arrow_back:")


user = require_user()
chosen = st.query_params.get("achievement")
detail = None
if chosen:
    try:
        detail = load(chosen, user.role)
    except (NotFound, ValueError):
        detail = None
if detail is None:
    page_header(TITLE, "The success record, evidence and announcements of one win.")
    if chosen:
        st.warning("That win does not exist (any more). Pick one from the recent wins.")
    else:
        empty_state(
            "No win selected",
            "Open a win from the recent-wins feed on the Wins page to see its success record, "
            "before/after chart and evidence.",
            icon=":material/emoji_events:",
        )
    back_link()
    st.stop()

back_link()
st.title(escape_md(detail.record.title))
header(detail)
chart(detail)
left, right = st.columns([3, 2], gap="medium")
with left:
    record(detail.record, slug(detail.record.title))
with right:
    evidence(detail)
    follow_up(detail, user.role)
    marketing(detail)
