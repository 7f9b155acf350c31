"""The admin pages' pieces: the people and key tables, asking before a change, the new key."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components.format import ROLE_LABELS, escape_md, when
from core.accounts.schemas import KeyView, UserView

# The API's field names -> the labels the people and key forms show.
PERSON_LABELS = {
    "email": "Email",
    "name": "Name",
    "role": "Role",
    "title": "Title",
    "slackUserId": "Slack member ID",
}
KEY_LABELS = {"name": "Name", "role": "Role", "as": "Person", "actsAs": "Person"}
SHOW = {"active": "Active", "inactive": "Deactivated", "all": "Everyone"}
NONE = "—"


def people_frame(views: list[UserView]) -> pd.DataFrame:
    """Return people as the People table shows them (role and status in words)."""
    rows = [
        {
            "Name": v.name,
            "Email": v.email,
            "Role": ROLE_LABELS[v.role],
            "Title": v.title or NONE,
            "Slack member ID": v.slack_user_id or NONE,
            "Status": "Active" if v.active else "Deactivated",
            "API keys": v.bound_keys,
        }
        for v in views
    ]
    return pd.DataFrame(rows)


def person_option(view: UserView) -> str:
    """Return how a person reads in a picker: name, email and whether they are deactivated."""
    return f"{view.name} ({view.email})" + ("" if view.active else " · deactivated")


def key_status(view: KeyView) -> str:
    """Return whether a key works, in words."""
    if view.revoked:
        return "Revoked"
    if view.user_email and not view.user_active:
        return "Not working: its person is deactivated"
    return "Active"


def keys_frame(views: list[KeyView]) -> pd.DataFrame:
    """Return keys as the API keys table shows them: never the key or its hash."""
    rows = [
        {
            "Name": v.name,
            "Starts with": f"{v.prefix}…",
            "Role": ROLE_LABELS[v.role],
            "Acts as": v.user_email or "Anyone its role allows",
            "Created": when(v.created_at),
            "Last used": when(v.last_used_at) if v.last_used_at else "Never",
            "Status": key_status(v),
        }
        for v in views
    ]
    return pd.DataFrame(rows)


def key_option(view: KeyView) -> str:
    """Return how a key reads in a picker."""
    return f"{view.name} · {view.prefix}… · {ROLE_LABELS[view.role]}"


def new_key_box(name: str, token: str) -> None:
    """Show a key just created, once, in a copyable block with a warning."""
    with st.container(border=True):
        st.success(f"Created the key **{escape_md(name)}**.", icon=":material/key:")
        st.warning(
            "Copy this key now: it is shown only this once. Outcomes stores only a hash of it, "
            "so nobody can show it again; the next click on this page hides it. If it is lost, "
            "revoke it and create another.",
            icon=":material/warning:",
        )
        st.code(token, language=None)
        st.caption("Other systems send it as `Authorization: Bearer <key>`.")


def messages(errors: list[str] | None) -> None:
    """Show a refused form's messages (inside the form's container)."""
    for message in errors or ():
        st.error(escape_md(message), icon=":material/error:")


def flash(key: str) -> None:
    """Show, once, the success message a callback left under `key`."""
    if text := st.session_state.pop(key, None):
        st.success(escape_md(text), icon=":material/check_circle:")


def ask_first(
    key: str, *, start: str, prompt: str, confirm: str, on_confirm: Callable[[], None]
) -> None:
    """Render a button that asks before acting: a warning with a confirm and a cancel button.

    `key` names what is asked about (e.g. the person), so choosing another target asks again.
    """
    state = st.session_state
    if not state.get(key):
        st.button(start, key=f"{key}_ask", on_click=state.__setitem__, args=(key, True))
        return
    st.warning(prompt, icon=":material/warning:")
    yes, no = st.columns(2)
    yes.button(
        confirm, key=f"{key}_yes", type="primary", on_click=_confirmed, args=(key, on_confirm)
    )
    no.button("Cancel", key=f"{key}_no", on_click=state.pop, args=(key, None))


def _confirmed(key: str, on_confirm: Callable[[], None]) -> None:
    st.session_state.pop(key, None)
    on_confirm()
