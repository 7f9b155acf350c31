"""Take a person to the page they opened, with its query, once they have signed in.

While nobody is signed in, every page is in the navigation but hidden, so a link such as
`/achievement?id=…` still resolves to its page; instead of running it, the sign-in screen shows and
the page and query are remembered. Demo sign-in happens in the same browser session, so session
state carries them. Single sign-on leaves the app for the identity provider and Streamlit brings
the person back to the app's root in a new session, so they also go into a short-lived cookie
(written by the browser: Streamlit cannot set cookies from Python), read once after sign-in and
then deleted. Only a registered page the person's role may open is followed.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode

import streamlit as st

from components.navigation import PAGES, ROOT, PageSpec, page_file, spec_at
from core.base import Role

TARGET_KEY = "_after_sign_in"
COOKIE_READ_KEY = "_after_sign_in_cookie_read"
COOKIE_CLEARED_KEY = "_after_sign_in_cookie_cleared"
COOKIE = "outcomes_after_sign_in"
COOKIE_SECONDS = 600  # long enough to sign in at the provider, short enough to go stale
MAX_LENGTH = 2000
DROPPED = frozenset({"user"})  # demo sign-in's own parameter is never carried along


@dataclass(frozen=True)
class Target:
    """A page (its url path) and the query it was opened with."""

    url_path: str
    query: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        """Return the target as one cookie-safe string."""
        return quote(f"{self.url_path}?{urlencode(self.query)}", safe="")

    @classmethod
    def decode(cls, raw: str | None) -> "Target | None":
        """Return the target `encode` wrote, or None for anything else."""
        if not raw or len(raw) > MAX_LENGTH:
            return None
        path, _, query = unquote(raw).partition("?")
        if spec_for(path) is None:
            return None
        return cls(path, dict(parse_qsl(query)))


def spec_for(url_path: str) -> PageSpec | None:
    """Return the registered page at `url_path` (its own path, never the root), or None."""
    return spec_at(url_path) if url_path else None


def signed_out_pages(sign_in_screen: Callable[[], None]) -> list[st.Page]:
    """Return the sign-in screen (the default) and every other page, hidden."""
    return [
        st.Page(sign_in_screen, title="Sign in", icon=":material/login:", default=True),
        *[
            st.Page(ROOT / s.path, title=s.title, url_path=s.url_path, visibility="hidden")
            for s in PAGES
        ],
    ]


def request_cookie(name: str) -> str | None:
    """Return the cookie `name` this browser session opened with, or None."""
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) else None  # AppTest has no real request


def _write_cookie(value: str, seconds: int) -> None:
    cookie = f"{COOKIE}={value}; Max-Age={seconds}; Path=/; SameSite=Lax"
    script = f"<script>document.cookie = {json.dumps(cookie)};</script>"
    st.html(script, unsafe_allow_javascript=True)


def remember(page: st.Page, *, across_sign_in: bool) -> None:
    """Note the page a signed-out person opened; `across_sign_in`: also in the cookie."""
    if page.url_path and spec_for(page.url_path):
        query = {k: v for k, v in st.query_params.to_dict().items() if k not in DROPPED}
        st.session_state[TARGET_KEY] = Target(page.url_path, query)
    target = st.session_state.get(TARGET_KEY)
    if across_sign_in and target is not None and len(target.encode()) <= MAX_LENGTH:
        _write_cookie(target.encode(), COOKIE_SECONDS)


def _cookie_target() -> Target | None:
    # st.context.cookies are those the session opened with; read them once per session.
    if st.session_state.get(COOKIE_READ_KEY):
        return None
    st.session_state[COOKIE_READ_KEY] = True
    return Target.decode(request_cookie(COOKIE))


def _clear_cookie() -> None:
    if request_cookie(COOKIE) is not None and not st.session_state.get(COOKIE_CLEARED_KEY):
        st.session_state[COOKIE_CLEARED_KEY] = True
        with st.sidebar:  # an empty element; the sidebar keeps it out of the page's layout
            _write_cookie("", 0)


def follow(page: st.Page, role: Role) -> None:
    """After sign-in, switch to the remembered page (when `role` may open it) with its query."""
    target = st.session_state.pop(TARGET_KEY, None) or _cookie_target()
    if target is not None and target.url_path != page.url_path:
        spec = spec_for(target.url_path)
        if spec is not None and role in spec.roles:
            # The cookie is deleted on the run of the page this lands on.
            st.switch_page(page_file(spec.path), query_params=target.query)
    _clear_cookie()
