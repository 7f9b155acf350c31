"""Setting up a customer's goals and success plans, under its "Goals, plans & wins" section.

CSMs, CS leaders and admins see it; other roles read a customer's goals in the section's
tables, which show them as consent allows.
"""

import uuid
from collections.abc import Callable

import streamlit as st

from components import data
from components.format import escape_md
from components.goal_forms import goals_list, new_goal_form
from components.plan_forms import new_plan_form, plans_list
from core.accounts.schemas import UserSummary
from core.base import Role
from core.goals.page_queries import goals_and_plans

EDITORS = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})
FLASH = "goals_plans_flash"


def goals_and_plans_section(
    customer_id: str, user: UserSummary, on_change: Callable[[], None] = lambda: None
) -> None:
    """Render the section for CS staff; `on_change()` runs after every saved change."""
    if user.role not in EDITORS:
        return
    view = data.call(goals_and_plans, customer_id=uuid.UUID(customer_id))
    st.divider()
    st.markdown("#### Set up goals and plans")
    if flash := st.session_state.pop(FLASH, None):
        st.success(escape_md(flash), icon=":material/check_circle:")

    def saved(message: str) -> None:
        st.session_state[FLASH] = message
        on_change()
        st.rerun()

    def ticked(message: str) -> None:  # from a checkbox's callback: the page runs next anyway
        st.session_state[FLASH] = message
        on_change()

    st.markdown("**Edit goals**")
    goals_list(view, user, saved)
    new_goal_form(view, user, saved)
    st.markdown("**Edit success plans**")
    plans_list(view, user, saved, ticked)
    new_plan_form(view, user, saved)
