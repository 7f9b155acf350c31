"""Sign-in (admin): how people sign in, and who gets a user on their first sign-in."""

from urllib.parse import urlsplit

import streamlit as st

from components import auth, data, forms
from components.auth import require_user
from components.cards import page_header
from components.format import ROLE_LABELS, escape_md, when
from core.accounts.sign_in import DOMAIN_LENGTH, get_policy, set_policy
from core.base import Role
from core.errors import DomainError
from core.settings import get_settings

DOMAIN, ROLE = "sign_in_domain", "sign_in_role"
ERROR, FLASH = "sign_in_error", "sign_in_flash"
LABELS = {"allowedDomain": "Allowed email domain", "defaultRole": "Role for new people"}

user = require_user(Role.ADMIN)
page_header("Sign-in", "How people sign in to Outcomes, and who gets a user without being added.")
state = st.session_state

st.subheader("How people sign in")
if auth.single_sign_on():
    provider = urlsplit(get_settings().oidc_server_metadata_url or "").netloc
    st.success(
        f"**Single sign-on.** People sign in with their company account at "
        f"{escape_md(provider or 'your identity provider')}. Outcomes matches the email address "
        "it sends to an active user here (upper or lower case makes no difference), and that "
        "user's role decides the pages they see. Anyone else is asked to have an admin add them.",
        icon=":material/verified_user:",
    )
else:
    st.warning(
        f"**{auth.DEMO_LABEL}.** Anyone who opens Outcomes picks any user, with no password, so "
        "it only runs on this computer. To let colleagues in, turn on single sign-on with your "
        "identity provider (AUTH_MODE=oidc and the OIDC settings; see Sign-in in the README).",
        icon=":material/warning:",
    )

policy = data.call(get_policy)
if DOMAIN not in state:
    state[DOMAIN] = policy.allowed_domain or ""
    state[ROLE] = policy.default_role or Role.CSM


def _save(domain: str | None) -> None:
    try:
        saved = data.call(set_policy, allowed_domain=domain, default_role=state[ROLE], actor=user)
    except DomainError as exc:
        state[ERROR] = forms.in_words(exc, LABELS)
        return
    if saved.allowed_domain:
        state[DOMAIN] = saved.allowed_domain
        state[FLASH] = f"Saved. People at {saved.allowed_domain} get a user on first sign-in."
    else:
        state[DOMAIN] = ""
        state[FLASH] = "Saved. Nobody gets a user automatically any more."


st.subheader("People who have no user yet")
if policy.allowed_domain and policy.default_role:
    st.markdown(
        f"Anyone who signs in with an address at **{escape_md(policy.allowed_domain)}** gets a "
        f"user on their first sign-in, as **{ROLE_LABELS[policy.default_role]}**. Change their "
        "role or deactivate them like anyone else's; a deactivated person is never let back in "
        "this way."
    )
else:
    st.markdown(
        "Nobody gets a user automatically: an admin adds each person before they sign in. "
        "Name your company's email domain to let everyone there in with a role you choose."
    )
if not auth.single_sign_on():
    st.caption("This applies with single sign-on; demo sign-in offers only people already here.")
if policy.updated_at:
    st.caption(f"Last changed {when(policy.updated_at)}.")

if flash := state.pop(FLASH, None):
    st.success(escape_md(flash), icon=":material/check_circle:")
with st.container(border=True):
    st.text_input(
        LABELS["allowedDomain"],
        key=DOMAIN,
        max_chars=DOMAIN_LENGTH,
        placeholder="example.com",
        help="Exactly this domain (not its subdomains), written like example.com.",
    )
    st.selectbox(LABELS["defaultRole"], list(Role), format_func=ROLE_LABELS.__getitem__, key=ROLE)
    if errors := state.pop(ERROR, None):
        for message in errors:
            st.error(escape_md(f"Not saved. {message}"), icon=":material/error:")
    save, clear = st.columns([1, 2])
    save.button(
        "Save",
        type="primary",
        key="sign_in_save",
        on_click=lambda: _save(state[DOMAIN]),
        width="stretch",
    )
    if policy.allowed_domain:
        clear.button(
            "Stop creating users automatically",
            key="sign_in_clear",
            on_click=lambda: _save(None),
        )
