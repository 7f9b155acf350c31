"""Shared AppTest helpers: open a page from the entry point as a signed-in user."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"


def open_page(user_id, page: str) -> AppTest:
    """Run app/main.py signed in as `user_id`, switch to `page` (e.g. "../pages/wins.py")."""
    at = AppTest.from_file(str(MAIN), default_timeout=30)
    at.session_state["user_id"] = str(user_id)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Return the page's visible prose (markdown, captions and alerts) as one string."""
    parts = [*at.markdown, *at.caption, *at.info, *at.warning, *at.success, *at.error]
    return "\n".join(str(p.value).replace("\\", "") for p in parts)
