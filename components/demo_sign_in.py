"""Demo sign-in, for local use only: pick a seeded user (or pass ?user=<email>), no password."""

from itertools import groupby

import streamlit as st

from components import auth, data
from components.cards import empty_state
from components.format import ROLE_BLURBS, ROLE_LABELS, escape_md
from core.accounts.queries import find_user_by_email, list_users
from core.accounts.schemas import UserSummary
from core.base import Role
from core.errors import NotFound

NOTICE_KEY = "_sign_in_notice"
QUERY_PARAM = "user"


def sign_in_from_query() -> None:
    """Sign in the user named by ?user=<email>, then drop the parameter from the URL."""
    email = st.query_params.get(QUERY_PARAM)
    if not email:
        return
    del st.query_params[QUERY_PARAM]
    try:
        auth.sign_in(data.call(find_user_by_email, email=email).id)
    except NotFound:
        st.session_state[NOTICE_KEY] = f"No active user with email {email!r}; choose one below."


def _role_card(role: Role, people: list[UserSummary]) -> None:
    with st.container(border=True):
        st.markdown(f"**{ROLE_LABELS[role]}**")
        st.caption(ROLE_BLURBS[role])
        chosen = st.selectbox(
            "Person",
            people,
            format_func=lambda u: f"{u.name} — {u.title}" if u.title else u.name,
            key=f"sign_in_pick_{role.value}",
            label_visibility="collapsed",
        )
        st.button(
            "Sign in",
            key=f"sign_in_{role.value}",
            type="primary",
            width="stretch",
            on_click=auth.sign_in,
            args=(chosen.id,),
        )


def sign_in_page() -> None:
    """Render the demo sign-in screen: seeded users grouped by role."""
    st.title("Outcomes")
    st.caption(f":material/warning: {auth.DEMO_LABEL}")
    st.subheader("Demo sign-in — choose a seeded user (no password in demo mode)")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(escape_md(notice))
    users = data.call(list_users)
    if not users:
        empty_state(
            "No users yet",
            "The database is empty. Load the demo data with `python -m data.demo` "
            "(or start everything with `make run`, which seeds it), then reload this page.",
            icon=":material/person_off:",
        )
        return
    order = {role: i for i, role in enumerate(Role)}
    grouped = groupby(sorted(users, key=lambda u: (order[u.role], u.name)), key=lambda u: u.role)
    groups = [(role, list(people)) for role, people in grouped]
    for start in range(0, len(groups), 3):
        columns = st.columns(3)
        for column, (role, people) in zip(columns, groups[start : start + 3], strict=False):
            with column:
                _role_card(role, people)
