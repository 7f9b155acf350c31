"""Streamlit entry point: page config, demo sign-in, role-based navigation, then the page."""

import sys
from pathlib import Path

# `streamlit run app/main.py` puts app/ on sys.path, not the repo root that holds core/.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from psycopg.errors import UndefinedTable  # noqa: E402
from sqlalchemy.exc import OperationalError, ProgrammingError  # noqa: E402

from components import auth, navigation  # noqa: E402

st.set_page_config(
    page_title="Outcomes",
    page_icon=":material/insights:",
    layout="wide",
    initial_sidebar_state="expanded",
)


def main() -> None:
    """Sign the person in (or show sign-in), build their navigation and run the chosen page."""
    try:
        auth.sign_in_from_query()
        user = auth.current_user()
        if user is None:
            pages = [
                st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:", default=True)
            ]
        else:
            auth.sidebar_user(user)
            pages = navigation.navigation_for(user.role)
        st.navigation(pages, position="sidebar" if user else "hidden").run()
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
