"""Shared AppTest helpers: the one place page tests start app/main.py.

- `new_app()`: the entry point, not yet run (sign-in screen, query-parameter sign-in);
- `signed_in(user_id)`: run once as `user_id` (the role's home page);
- `open_page(user_id, page, **query)`: signed in, then switched to `page` with `query`.
"""

from pathlib import Path

from streamlit.testing.v1 import AppTest

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
TIMEOUT = 30  # seconds per run; generous for a loaded machine (xdist workers share the CPUs)


def new_app() -> AppTest:
    """Return an AppTest of app/main.py that has not run yet."""
    return AppTest.from_file(str(MAIN), default_timeout=TIMEOUT)


def signed_in(user_id) -> AppTest:
    """Run app/main.py once signed in as `user_id`; return it (no exception check)."""
    at = new_app()
    at.session_state["user_id"] = str(user_id)
    return at.run()


def open_page(user_id, page: str, **query: str) -> AppTest:
    """Run app/main.py signed in as `user_id`, switch to `page` (e.g. "../pages/wins.py").

    `query` becomes the page's query parameters (e.g. `plan="..."`). Fails on any exception.
    """
    at = signed_in(user_id)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Return the page's visible prose (markdown, captions and alerts) as one string."""
    parts = [*at.markdown, *at.caption, *at.info, *at.warning, *at.success, *at.error]
    return "\n".join(str(p.value).replace("\\", "") for p in parts)
