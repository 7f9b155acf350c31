"""Single sign-on: Streamlit's st.login signs the person in, their email says who they are here."""

import streamlit as st

from components import auth, data
from components.format import escape_md
from core.accounts.schemas import UserSummary
from core.accounts.sign_in import resolve_signed_in


def configured() -> bool:
    """Tell whether Streamlit has the `[auth]` secrets st.login needs."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def _claim(name: str) -> str:
    value = st.user.get(name)
    return value.strip() if isinstance(value, str) else ""


def _signed_in_at_provider() -> bool:
    return bool(st.user.get("is_logged_in"))


def _resolve(*, session, email: str, name: str | None) -> UserSummary | None:
    user = resolve_signed_in(session=session, email=email, name=name)
    return None if user is None else UserSummary.model_validate(user, from_attributes=True)


def signed_in_user() -> UserSummary | None:
    """Return the active user the provider's signed-in email names (any case), or None.

    Checked again whenever the email changes or the remembered user is gone or deactivated; the
    admin's sign-in policy may create the user on their first sign-in.
    """
    if not _signed_in_at_provider():
        auth.forget()
        return None
    email = _claim("email")
    remembered = email and st.session_state.get(auth.EMAIL_KEY) == email.lower()
    if remembered and (user := auth.current_user()):
        return user
    # A provider that says it has not verified the address must not let it stand for anyone.
    if not email or st.user.get("email_verified") is False:
        auth.forget()
        return None
    user = data.call(_resolve, email=email, name=_claim("name") or None)
    if user is None:
        auth.forget()
        return None
    auth.sign_in(user.id, email=email)
    return user


def _not_known() -> None:
    st.title("Outcomes")
    email = _claim("email")
    if not email:
        st.warning(
            "Your identity provider signed you in without an email address, so Outcomes cannot "
            "tell who you are — ask an admin to have it send the email claim.",
            icon=":material/no_accounts:",
        )
    elif st.user.get("email_verified") is False:
        st.warning(
            f"You're signed in as {escape_md(email)}, but your identity provider has not "
            "verified this address — verify it there, then sign in again.",
            icon=":material/no_accounts:",
        )
    else:
        st.warning(
            f"You're signed in as {escape_md(email)}, but Outcomes doesn't know this address "
            "yet — ask an admin to add you.",
            icon=":material/no_accounts:",
        )
    st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=auth.sign_out)


def sign_in_page() -> None:
    """Render the signed-out screen: a button to the identity provider, or why it did not work."""
    if _signed_in_at_provider():
        _not_known()
        return
    st.title("Outcomes")
    st.subheader("Sign in with your company account")
    st.caption("You'll go to your identity provider and come back here, to the page you opened.")
    if st.button("Sign in", key="sign_in", type="primary", icon=":material/login:"):
        st.login()
