"""API keys (admin): the keys other systems call the API with; create one, revoke one."""

from functools import partial

import streamlit as st
from pydantic import ValidationError

from components import data
from components.admin_views import (
    KEY_LABELS,
    ask_first,
    flash,
    key_option,
    keys_frame,
    messages,
    new_key_box,
    person_option,
)
from components.auth import require_user
from components.cards import empty_state, page_header
from components.format import ROLE_LABELS, escape_md
from components.forms import in_words
from core.accounts.queries import user_views
from core.accounts.schemas import KEY_NAME_LENGTH, Actor, KeyIn
from core.accounts.service import create_api_key, list_api_keys, revoke_api_key
from core.base import Role
from core.errors import DomainError

user = require_user(Role.ADMIN)
me = Actor(label=user.email, user_id=user.id)
state = st.session_state
BINDING = {"unbound": "Any person its role allows", "bound": "One person only"}

page_header(
    "API keys",
    "Other systems call the Outcomes API with these keys. A key bound to a person takes their "
    "role, may act only as them, and stops working while they are deactivated.",
)
if new := state.pop("apikey_new", None):  # shown in this run only: it is never stored
    new_key_box(*new)
flash("apikey_flash")


def _create() -> None:
    bound = state["apikey_binding"] == "bound"
    person = state.get("apikey_person") if bound else None
    role = None if bound else state.get("apikey_role")
    problems = []
    try:
        body = KeyIn(name=state["apikey_name"], role=role, acts_as=person)
    except ValidationError as exc:
        problems = in_words(exc, KEY_LABELS)
    if not problems and bound and person is None:
        problems = ["Person: choose the person the key acts as."]
    if not problems and not bound and role is None:
        problems = ["Role: choose the role the key acts with."]
    if not problems:
        try:
            key, token = data.call(
                create_api_key,
                name=body.name,
                role=body.role,
                user_email=body.acts_as,
                actor=me,
                user_field="actsAs",
            )
        except DomainError as exc:
            problems = in_words(exc, KEY_LABELS)
    if problems:
        state["apikey_errors"] = problems
        return
    state["apikey_name"] = ""
    state["apikey_new"] = (key.name, token)


def _revoke(key_id, name: str) -> None:
    try:
        data.call(revoke_api_key, key_id=key_id, actor=me)
    except DomainError as exc:
        state["apikey_revoke_errors"] = [str(exc)]
        return
    state["apikey_flash"] = f"Revoked {name}: it no longer works."


keys = data.call(list_api_keys)
if keys:
    st.dataframe(keys_frame(keys), hide_index=True, width="stretch", height="content")
else:
    empty_state(
        "No API keys yet",
        "Create one below for each system that calls the API.",
        icon=":material/key_off:",
    )

create, revoke = st.columns(2, gap="large")
with create:
    st.subheader("Create a key")
    binding = st.segmented_control(
        "The key acts as",
        list(BINDING),
        format_func=BINDING.__getitem__,
        default="unbound",
        required=True,
        key="apikey_binding",
    )
    with st.form("apikey_create"):
        st.text_input(
            "Name",
            key="apikey_name",
            max_chars=KEY_NAME_LENGTH,
            placeholder="e.g. Salesforce sync",
            help="The system that will use it.",
        )
        if binding == "bound":
            people = {v.email: v for v in data.call(user_views, status="active")}
            st.selectbox(
                "Person",
                list(people),
                format_func=lambda e: f"{person_option(people[e])} · {ROLE_LABELS[people[e].role]}",
                index=None,
                placeholder="Choose a person",
                key="apikey_person",
            )
            st.caption("The key takes this person's role and may act only as them.")
        else:
            st.selectbox(
                "Role",
                list(Role),
                format_func=ROLE_LABELS.__getitem__,
                index=None,
                placeholder="Choose a role",
                key="apikey_role",
            )
            st.caption("The key may name any active person whose role allows the action.")
        messages(state.pop("apikey_errors", None))
        st.form_submit_button("Create key", type="primary", on_click=_create, key="apikey_submit")

with revoke:
    st.subheader("Revoke a key")
    live = {str(k.id): k for k in keys if not k.revoked}
    messages(state.pop("apikey_revoke_errors", None))
    if not live:
        st.caption("No key is in use.")
        st.stop()
    chosen = st.selectbox(
        "Key",
        list(live),
        format_func=lambda i: key_option(live[i]),
        index=None,
        placeholder="Choose a key",
        key="apikey_revoke",
    )
    if chosen is not None:
        key = live[chosen]
        ask_first(
            f"apikey_revoke_{chosen}",
            start="Revoke…",
            prompt=f"Revoke {escape_md(key.name)}? Every system using it is refused from now on. "
            "A revoked key cannot be used again; create a new one instead.",
            confirm="Yes, revoke",
            on_confirm=partial(_revoke, key.id, key.name),
        )
