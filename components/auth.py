"""Demo sign-in: pick a seeded user (or pass ?user=<email>), keep the id in session state."""

import uuid
from itertools import groupby

import streamlit as st

from components import data
from components.cards import empty_state
from components.format import ROLE_BLURBS, ROLE_LABELS, escape_md
from core.accounts.queries import find_user_by_email, get_user, list_users
from core.accounts.schemas import UserSummary
from core.base import Role
from core.errors import NotFound

USER_KEY = "user_id"
NOTICE_KEY = "_sign_in_notice"
QUERY_PARAM = "user"


@st.cache_data(ttl=60, show_spinner=False)
def _load_user(user_id: str) -> UserSummary | None:
    try:
        return data.call(get_user, user_id=uuid.UUID(user_id))
    except (NotFound, ValueError):
        return None


def sign_in(user_id: uuid.UUID | str) -> None:
    """Remember `user_id` as the signed-in person for this browser session."""
    st.session_state[USER_KEY] = str(user_id)


def sign_out() -> None:
    """Forget the signed-in person."""
    st.session_state.pop(USER_KEY, None)


def sign_in_from_query() -> None:
    """Sign in the user named by ?user=<email>, then drop the parameter from the URL."""
    email = st.query_params.get(QUERY_PARAM)
    if not email:
        return
    del st.query_params[QUERY_PARAM]
    try:
        sign_in(data.call(find_user_by_email, email=email).id)
    except NotFound:
        st.session_state[NOTICE_KEY] = f"No active user with email {email!r}; choose one below."


def current_user() -> UserSummary | None:
    """Return the signed-in user, or None (also when the stored id no longer exists)."""
    user_id = st.session_state.get(USER_KEY)
    if not user_id:
        return None
    user = _load_user(str(user_id))
    if user is None:
        sign_out()
    return user


def require_user(*roles: Role) -> UserSummary:
    """Return the signed-in user, or stop the page when nobody (or a wrong role) is signed in."""
    user = current_user()
    if user is None:
        st.warning("Please sign in first.")
        st.stop()
    if roles and user.role not in roles:
        st.error("This page is not available for your role.")
        st.stop()
    return user


def sidebar_user(user: UserSummary) -> None:
    """Show who is signed in, their role and a sign-out button in the sidebar."""
    with st.sidebar:
        with st.container(border=True):
            st.markdown(f"**{escape_md(user.name)}**")
            st.caption(f"{ROLE_LABELS[user.role]}  \n{escape_md(user.email)}")
            st.button(
                "Sign out",
                key="sign_out",
                icon=":material/logout:",
                on_click=sign_out,
                width="stretch",
            )
        st.caption("Demo mode: sign-in has no password.")


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
            on_click=sign_in,
            args=(chosen.id,),
        )


def sign_in_page() -> None:
    """Render the demo sign-in screen: seeded users grouped by role."""
    st.title("Outcomes")
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
