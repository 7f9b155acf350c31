"""Streamlit entry point: page config, sign-in (demo or single sign-on), navigation, the page."""

import sys
from pathlib import Path

# `streamlit run app/main.py` puts app/ on sys.path, not the repo root that holds core/.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from psycopg.errors import UndefinedTable  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from sqlalchemy.exc import OperationalError, ProgrammingError  # noqa: E402
from streamlit import config  # noqa: E402

from app.sign_in_setup import invalid_setting, refusal  # noqa: E402
from components import (  # noqa: E402
    auth,
    deep_link,
    demo_sign_in,
    navigation,
    oidc_sign_in,
    role_guard,
)
from core.settings import get_settings  # noqa: E402

st.set_page_config(
    page_title="Outcomes",
    page_icon=str(ROOT / "app" / "static" / "favicon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)

NO_AUTH_SECRETS = (
    "Refusing to start: AUTH_MODE=oidc, but Streamlit has no [auth] secrets for st.login; start "
    "the UI with `make run`, which writes them from the OIDC_* settings."
)


def start_problem() -> str | None:
    """Return the one sentence saying why this server may not show the app, or None.

    `make run` refuses these before starting; this guard covers `streamlit run` by hand.
    """
    try:
        settings = get_settings()
    except ValidationError as exc:
        return invalid_setting(exc)
    # streamlit.config, not st.get_option: AppTest patches the module's function.
    address = config.get_option("server.address")
    if not address and config.get_option("global.appTest"):
        address = "127.0.0.1"  # AppTest serves nothing; unset otherwise means every interface
    problem = refusal(settings, address)
    if problem is None and settings.auth_mode == "oidc" and not oidc_sign_in.configured():
        problem = NO_AUTH_SECRETS
    return problem


def main() -> None:
    """Sign the person in (or show sign-in), build their navigation and run the chosen page."""
    if problem := start_problem():
        st.error(problem, icon=":material/block:")
        return
    try:
        if auth.single_sign_on():
            # ?user= is demo sign-in's; here it is ignored and signs nobody in.
            user = oidc_sign_in.signed_in_user()
            screen = oidc_sign_in.sign_in_page
        else:
            demo_sign_in.sign_in_from_query()
            user = auth.current_user()
            screen = demo_sign_in.sign_in_page
        if user is None:
            page = st.navigation(deep_link.signed_out_pages(screen), position="hidden")
            screen()
            deep_link.remember(page, across_sign_in=auth.single_sign_on())
            return
        auth.sidebar_user(user)
        # expanded: an admin's many pages stay listed instead of hiding behind "View more".
        pages = navigation.navigation_for(user.role)
        page = st.navigation(pages, position="sidebar", expanded=True)
        deep_link.follow(page, user.role)
        role_guard.run(page, user.role)  # a page the role lacks explains itself
    except OperationalError:
        st.error(
            "Cannot reach the database. Check `DATABASE_URL`, or start everything with `make run`.",
            icon=":material/cloud_off:",
        )
    except ProgrammingError as exc:
        if not isinstance(exc.orig, UndefinedTable):
            raise
        st.error(
            "The database has no tables yet. Run `alembic upgrade head` (or `make run`).",
            icon=":material/database:",
        )


main()
