"""The person signed in to this browser session: kept in session state, checked by every page.

How they got signed in is the sign-in mode's business (`components.demo_sign_in`,
`components.oidc_sign_in`); this module keeps the result and signs them out again.
"""

import uuid

import streamlit as st

from components import data
from components.format import ROLE_LABELS, escape_md
from core.accounts.queries import get_user
from core.accounts.schemas import UserSummary
from core.base import Role
from core.errors import NotFound
from core.settings import get_settings

USER_KEY = "user_id"
EMAIL_KEY = "_signed_in_email"
DEMO_LABEL = "Demo sign-in — not for production"


@st.cache_data(ttl=60, show_spinner=False)
def _load_user(user_id: str) -> UserSummary | None:
    try:
        return data.call(get_user, user_id=uuid.UUID(user_id))
    except (NotFound, ValueError):
        return None


def single_sign_on() -> bool:
    """Tell whether people sign in through the identity provider (AUTH_MODE=oidc)."""
    return get_settings().auth_mode == "oidc"


def sign_in(user_id: uuid.UUID | str, *, email: str | None = None) -> None:
    """Remember `user_id` (signed in as `email`, with single sign-on) for this browser session."""
    st.session_state[USER_KEY] = str(user_id)
    if email is not None:
        st.session_state[EMAIL_KEY] = email.strip().lower()


def forget() -> None:
    """Forget the signed-in person and all they left in this session (not the provider's).

    Filters, open items and text typed on any page (a draft's unsaved edits, a half-filled form)
    are theirs: the next person to sign in on the same tab starts clean. Keys starting with "_"
    belong to signing in itself (where to go next, a notice) and stay.
    """
    state = st.session_state
    state.pop(EMAIL_KEY, None)
    if USER_KEY not in state:
        return  # nobody was signed in: what is on screen (the sign-in form) is nobody's yet
    for key in [k for k in state if not str(k).startswith("_")]:
        del state[key]


def sign_out() -> None:
    """Forget the signed-in person; with single sign-on also end the provider's sign-in."""
    forget()
    if single_sign_on():
        st.logout()


def current_user() -> UserSummary | None:
    """Return the signed-in user, or None (also when the stored id no longer exists)."""
    user_id = st.session_state.get(USER_KEY)
    if not user_id:
        return None
    user = _load_user(str(user_id))
    if user is None:
        forget()
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
        if not single_sign_on():
            st.caption(f":material/warning: {DEMO_LABEL}")
