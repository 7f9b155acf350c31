"""People (admin): who can sign in, with which role; invite, change, deactivate, reactivate."""

from functools import partial

import streamlit as st
from pydantic import ValidationError

from components import data
from components.admin_views import (
    PERSON_LABELS,
    SHOW,
    ask_first,
    flash,
    messages,
    people_frame,
    person_option,
)
from components.auth import require_user
from components.cards import empty_state, page_header
from components.format import ROLE_LABELS, escape_md
from components.forms import in_words
from core.accounts.people import (
    deactivate_user,
    invite_user,
    normalise_email,
    reactivate_user,
    slack_member_id,
    update_user,
)
from core.accounts.queries import user_view, user_views
from core.accounts.schemas import (
    SLACK_ID_LENGTH,
    SLACK_ID_RULE,
    TITLE_LENGTH,
    USER_NAME_LENGTH,
    Actor,
    UserIn,
)
from core.base import Role
from core.errors import DomainError
from core.schemas import EMAIL_LENGTH

user = require_user(Role.ADMIN)
me = Actor(label=user.email, user_id=user.id)
state = st.session_state

page_header(
    "People",
    "Who can sign in and what their role lets them do. A deactivated person cannot sign in, "
    "and the API keys bound to them stop working until they are reactivated.",
)
flash("people_flash")


def _problems(email: str | None, slack: str, make_body) -> tuple[UserIn | None, list[str]]:
    """Check a form with the API's rules; return its body and every problem, in plain words."""
    problems, body = [], None
    checks = [(slack_member_id, slack)]
    if email is not None:
        checks.insert(0, (normalise_email, email))
    for rule, value in checks:
        try:
            rule(value)
        except DomainError as exc:
            problems += in_words(exc, PERSON_LABELS)
    try:
        body = make_body()
    except ValidationError as exc:
        problems += in_words(exc, PERSON_LABELS)
    return body, problems


def _invite() -> None:
    body, problems = _problems(
        state["people_invite_email"],
        state["people_invite_slack"],
        lambda: UserIn(
            name=state["people_invite_name"],
            role=state["people_invite_role"],
            title=state["people_invite_title"],
            slack_user_id=state["people_invite_slack"],
        ),
    )
    if not problems:
        try:
            view = data.call(invite_user, email=state["people_invite_email"], body=body, actor=me)
        except DomainError as exc:
            problems = in_words(exc, PERSON_LABELS)
    if problems:
        state["people_invite_errors"] = problems
        return
    for key in (
        "people_invite_email",
        "people_invite_name",
        "people_invite_title",
        "people_invite_slack",
    ):
        state[key] = ""
    state["people_flash"] = (
        f"Invited {view.name} as {ROLE_LABELS[view.role]}: they can sign in as {view.email} now."
    )


def _load(email: str) -> None:
    """Put the saved values of the person with `email` into the edit form."""
    chosen = data.call(user_view, email=email)
    state["people_edit_for"], state["people_edit_version"] = chosen.email, chosen.updated_at
    state["people_edit_name"], state["people_edit_role"] = chosen.name, chosen.role
    state["people_edit_title"], state["people_edit_slack"] = (
        chosen.title or "",
        chosen.slack_user_id or "",
    )


def _save() -> None:
    email = state["people_edit_for"]
    body, problems = _problems(
        None,  # the person's email is not edited here
        state["people_edit_slack"],
        lambda: UserIn(
            name=state["people_edit_name"],
            role=state["people_edit_role"],
            title=state["people_edit_title"],
            slack_user_id=state["people_edit_slack"],
            expected_updated_at=state["people_edit_version"],
        ),
    )
    if not problems:
        try:
            view = data.call(update_user, email=email, body=body, actor=me)
        except DomainError as exc:
            problems = in_words(exc, PERSON_LABELS)
    if problems:
        state["people_edit_errors"] = problems  # what was typed stays in the form
        return
    _load(view.email)
    state["people_flash"] = f"Saved {view.name}."


def _set_active(email: str, active: bool) -> None:
    change = reactivate_user if active else deactivate_user
    try:
        view = data.call(change, email=email, actor=me)
    except DomainError as exc:
        state["people_active_errors"] = [str(exc)]
        return
    _load(view.email)
    state["people_flash"] = f"{view.name} is {'active' if active else 'deactivated'} now."


left, right = st.columns([1, 2], vertical_alignment="bottom")
show = left.segmented_control(
    "Show",
    list(SHOW),
    format_func=SHOW.__getitem__,
    default="active",
    required=True,
    key="people_show",
)
role = right.selectbox(
    "Role",
    [None, *Role],
    format_func=lambda r: "All roles" if r is None else ROLE_LABELS[r],
    key="people_role",
)
views = data.call(user_views, status=show, role=role)
if views:
    st.dataframe(people_frame(views), hide_index=True, width="stretch", height="content")
else:
    empty_state("Nobody here", "Nobody matches these filters.", icon=":material/person_off:")

invite, edit = st.columns(2, gap="large")
with invite:
    st.subheader("Invite a person")
    with st.form("people_invite_person"):
        st.text_input(
            "Email",
            key="people_invite_email",
            max_chars=EMAIL_LENGTH,
            placeholder="name@company.com",
        )
        st.text_input("Name", key="people_invite_name", max_chars=USER_NAME_LENGTH)
        st.selectbox(
            "Role", list(Role), format_func=ROLE_LABELS.__getitem__, key="people_invite_role"
        )
        st.text_input("Title (optional)", key="people_invite_title", max_chars=TITLE_LENGTH)
        st.text_input(
            "Slack member ID (optional)",
            key="people_invite_slack",
            max_chars=SLACK_ID_LENGTH,
            help=f"{SLACK_ID_RULE}. Outcomes sends this person's Slack messages to it.",
        )
        messages(state.pop("people_invite_errors", None))
        st.form_submit_button(
            "Invite", type="primary", on_click=_invite, key="people_invite_submit"
        )
    st.caption("They sign in with this email; nothing is sent to them.")

with edit:
    st.subheader("Change a person")
    everyone = {v.email: v for v in data.call(user_views, status="all")}
    email = st.selectbox(
        "Person",
        list(everyone),
        format_func=lambda e: person_option(everyone[e]),
        index=None,
        placeholder="Choose a person",
        key="people_edit_email",
    )
    if email is None:
        st.caption("Choose someone to change their name, role, title or Slack member ID.")
        st.stop()
    chosen = everyone[email]
    if state.get("people_edit_for") != email:
        _load(email)
    with st.form("people_edit_person"):
        st.text_input("Name", key="people_edit_name", max_chars=USER_NAME_LENGTH)
        st.selectbox(
            "Role", list(Role), format_func=ROLE_LABELS.__getitem__, key="people_edit_role"
        )
        st.text_input("Title (optional)", key="people_edit_title", max_chars=TITLE_LENGTH)
        st.text_input(
            "Slack member ID (optional)",
            key="people_edit_slack",
            max_chars=SLACK_ID_LENGTH,
            help=f"{SLACK_ID_RULE}.",
        )
        errors = state.pop("people_edit_errors", None)
        messages(errors)
        st.form_submit_button(
            "Save changes", type="primary", on_click=_save, key="people_edit_submit"
        )
    if errors:
        st.button(
            "Load the saved version",
            key="people_edit_reload",
            on_click=_load,
            args=(email,),
            help="Replaces what you typed with what is saved now (someone else's change too).",
        )

    messages(state.pop("people_active_errors", None))
    name = escape_md(chosen.name)
    keys = chosen.bound_keys
    if chosen.active:
        stopped = (
            f", and their {keys} API key{'s' if keys != 1 else ''} stop working" if keys else ""
        )
        you = " That is you: you will be signed out." if chosen.id == user.id else ""
        ask_first(
            f"people_deactivate_{chosen.id}",
            start="Deactivate…",
            prompt=f"Deactivate {name}? They can no longer sign in{stopped} until someone "
            f"reactivates them.{you}",
            confirm="Yes, deactivate",
            on_confirm=partial(_set_active, email, False),
        )
    else:
        working = f", and their {keys} API key{'s' if keys != 1 else ''} work again" if keys else ""
        st.caption(f"{name} is deactivated: they cannot sign in and their API keys do not work.")
        ask_first(
            f"people_reactivate_{chosen.id}",
            start="Reactivate…",
            prompt=f"Reactivate {name}? They can sign in again{working}.",
            confirm="Yes, reactivate",
            on_confirm=partial(_set_active, email, True),
        )
