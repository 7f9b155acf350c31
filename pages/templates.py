"""Message templates (admin): edit the text drafts start from, with a live preview."""

import pandas as pd
import streamlit as st

from components import data, forms
from components.auth import require_user
from components.cards import page_header
from components.form_messages import form_messages
from components.format import escape_md, when
from core.base import Role
from core.drafts.templates import (
    BODY_MAX,
    DEFAULT_TEMPLATES,
    SUBJECT_MAX,
    list_templates,
    preview,
    sample_context,
    save_template,
)
from core.errors import Conflict, DomainError, Invalid

user = require_user(Role.ADMIN)
page_header(
    "Message templates",
    "The text new drafts start from. CSMs still read, edit and approve every draft before "
    "anything is sent; drafts already in the queue keep their text.",
)
templates = {t.key: t for t in data.call(list_templates)}
key = st.selectbox(
    "Template", list(templates), format_func=lambda k: templates[k].name, key="tpl_key"
)
current = templates[key]
SUBJECT, BODY, VERSION = f"tpl_subject_{key}", f"tpl_body_{key}", f"tpl_version_{key}"
state = st.session_state
LABELS = {"subject": "Subject", "body": "Body"}
if SUBJECT not in state:  # first open, or reloaded after someone else's save
    state[SUBJECT], state[BODY], state[VERSION] = current.subject, current.body, current.version


def _save() -> None:
    if problem := forms.line("Subject", state[SUBJECT], SUBJECT_MAX) or forms.text(
        "Body", state[BODY], BODY_MAX
    ):
        state["tpl_error"] = f"Not saved. {problem}"
        return
    try:
        saved = data.call(
            save_template,
            key=key,
            subject=state[SUBJECT],
            body=state[BODY],
            expected_version=state[VERSION],
            actor=user,
        )
    except Conflict as exc:
        state["tpl_error"] = str(exc)
        for name in (SUBJECT, BODY, VERSION):
            state.pop(name, None)
    except DomainError as exc:
        state["tpl_error"] = "Not saved. " + " ".join(form_messages(exc, LABELS))
    else:
        state[VERSION] = saved.version
        state["tpl_flash"] = f"Saved {saved.name}. New drafts use this text from now on."


def _use_default() -> None:
    default = DEFAULT_TEMPLATES[key]
    state[SUBJECT], state[BODY] = default.subject, default.body


if flash := state.pop("tpl_flash", None):
    st.success(escape_md(flash), icon=":material/check_circle:")
if error := state.pop("tpl_error", None):
    st.error(escape_md(error), icon=":material/sync_problem:")

edit, show = st.columns(2, gap="large")
with edit:
    st.subheader("Edit")
    st.text_input("Subject", key=SUBJECT, max_chars=SUBJECT_MAX)
    st.text_area("Body", key=BODY, height=460, max_chars=BODY_MAX)
    unsaved = (state[SUBJECT], state[BODY]) != (current.subject, current.body)
    saved_at = "never saved (built-in text)" if current.is_default else when(current.updated_at)
    st.caption(("**Unsaved changes** · " if unsaved else "") + f"Last saved: {saved_at}")
    save, reset = st.columns([1, 2])
    save.button("Save", type="primary", on_click=_save, width="stretch", key="tpl_save")
    if key in DEFAULT_TEMPLATES:
        reset.button(
            "Use the built-in text",
            on_click=_use_default,
            key="tpl_default",
            help="Puts the text Outcomes ships with in the editor; nothing changes until you save.",
        )
with show:
    st.subheader("Preview with sample data")
    try:
        subject, body = preview(
            subject=state[SUBJECT], body=state[BODY], context=sample_context(key)
        )
    except Invalid as exc:
        for message in form_messages(exc, LABELS):
            st.error(escape_md(message), icon=":material/error:")
        st.caption("Fix the template; it cannot be saved while the preview fails.")
    else:
        with st.container(border=True):
            st.markdown(f"**Subject:** {escape_md(subject)}")
            st.text(body)

    st.subheader("Variables")
    st.caption(
        "Write `{{ name }}` to insert a value; `{% if name %}…{% endif %}`, "
        "`{% for item in list %}` and filters such as `| join(', ')` work too. Templates run in "
        "a sandbox, values go in as plain text, and an unknown name is an error, not a blank."
    )
    rows = [
        {"Variable": v.name, "What it holds": v.description, "Sample": v.sample}
        for v in current.variables
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
