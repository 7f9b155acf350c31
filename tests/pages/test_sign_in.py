"""Sign-in from the entry point: demo label and deep links, single sign-on, the Sign-in page."""

import pytest
from sqlalchemy import create_engine, select
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

from app.main import NO_AUTH_SECRETS
from app.sign_in_setup import DEMO_EXPOSED
from components import deep_link
from components.navigation import specs_for
from core.accounts.models import SignInPolicy, User
from core.base import Role
from core.models import SuccessRecord
from core.settings import get_settings
from tests.pages.apptest import new_app, open_page, signed_in
from tests.pages.apptest import texts as prose

ACHIEVEMENT = "../pages/achievement.py"
SIGN_IN_PAGE = "../pages/sign_in_settings.py"
AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret",
    "client_id": "outcomes",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}


@pytest.fixture(scope="module")
def seeded(demo_url):
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        people = {
            role: conn.execute(
                select(User.id, User.email, User.name)
                .where(User.role == role, User.active.is_(True))
                .order_by(User.name)
                .limit(1)
            ).one()
            for role in Role
        }
        win = conn.execute(
            select(SuccessRecord.achievement_id, SuccessRecord.title).order_by(SuccessRecord.title)
        ).first()
    engine.dispose()
    return {"people": people, "win": win}


@pytest.fixture
def oidc(app_db, monkeypatch):
    """Single sign-on settings for the app under test (nothing talks to a provider)."""
    monkeypatch.setenv("AUTH_MODE", "oidc")
    for key, value in AUTH_SECRETS.items():
        name = "OIDC_REDIRECT_URL" if key == "redirect_uri" else f"OIDC_{key.upper()}"
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def sso_app(**user) -> AppTest:
    """The entry point with Streamlit's [auth] secrets; `user` is what st.user holds."""
    at = new_app()
    at.secrets["auth"] = dict(AUTH_SECRETS)
    at.user = {"is_logged_in": bool(user), **user}
    return at


def texts(at: AppTest) -> str:
    """Return the page's headings and prose, Markdown escapes removed."""
    headings = [str(h.value).replace("\\", "") for h in (*at.title, *at.subheader)]
    return "\n".join([*headings, prose(at)])


def title(at: AppTest) -> str:
    return str(at.title[0].value).replace("\\", "")


# --- Demo sign-in --------------------------------------------------------------------------------


def test_demo_sign_in_says_it_is_not_for_production(app_db):
    at = new_app().run()
    assert not at.exception
    assert "Demo sign-in — not for production" in texts(at)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_page_of_every_role_carries_the_demo_label(app_db, seeded, role):
    at = signed_in(seeded["people"][role].id)
    for spec in specs_for(role):
        at.switch_page(f"../{spec.path}").run()
        captions = [c.value for c in at.sidebar.caption]
        assert any("Demo sign-in — not for production" in c for c in captions), spec.path


def test_demo_deep_link_survives_choosing_a_user(app_db, seeded):
    win = seeded["win"]
    at = new_app().run()
    at.query_params["achievement"] = str(win.achievement_id)
    at.switch_page(ACHIEVEMENT).run()
    assert "Demo sign-in — choose a seeded user" in texts(at)  # signed out: no win shown
    assert win.title not in texts(at)
    at.button(key="sign_in_csm").click().run()
    assert not at.exception
    assert at.session_state["user_id"] == str(seeded["people"][Role.CSM].id)
    assert title(at) == win.title
    assert at.query_params["achievement"] == str(win.achievement_id)


def test_demo_query_sign_in_keeps_the_deep_link(app_db, seeded):
    win, leader = seeded["win"], seeded["people"][Role.LEADER]
    at = new_app().run()
    at.query_params["achievement"] = str(win.achievement_id)
    at.query_params["user"] = leader.email
    at.switch_page(ACHIEVEMENT).run()
    assert at.session_state["user_id"] == str(leader.id)
    assert title(at) == win.title
    assert "user" not in at.query_params


def test_demo_sign_in_refuses_to_serve_every_interface(app_db, seeded):
    at = new_app()
    at.query_params["user"] = seeded["people"][Role.ADMIN].email
    with patch_config_options({"server.address": "0.0.0.0"}):
        at.run()
    assert [e.value for e in at.error] == [DEMO_EXPOSED]
    assert "user_id" not in at.session_state
    assert len(at.main.children) == 1 and not at.sidebar.children


# --- Single sign-on ------------------------------------------------------------------------------


def test_signed_out_sees_only_the_sign_in_button_and_user_param_is_ignored(oidc, seeded):
    at = sso_app()
    at.query_params["user"] = seeded["people"][Role.ADMIN].email
    at.run()
    assert not at.exception
    assert "user_id" not in at.session_state
    assert [b.key for b in at.button] == ["sign_in"]
    assert "Sign in with your company account" in texts(at)
    assert "Demo sign-in" not in texts(at)
    assert not at.sidebar.children


def test_user_param_never_switches_who_is_signed_in(oidc, seeded):
    csm, admin = seeded["people"][Role.CSM], seeded["people"][Role.ADMIN]
    at = sso_app(email=csm.email)
    at.query_params["user"] = admin.email
    at.run()
    assert at.session_state["user_id"] == str(csm.id)
    assert "Demo sign-in" not in texts(at)


@pytest.mark.parametrize("role", [Role.CSM, Role.ADMIN], ids=lambda r: r.value)
def test_the_signed_in_email_in_any_case_picks_the_user_and_role(oidc, seeded, role):
    person = seeded["people"][role]
    at = sso_app(email=person.email.upper(), name="Someone Else")
    at.run()
    assert not at.exception
    assert at.session_state["user_id"] == str(person.id)
    assert person.name in texts(at)  # our name, not the provider's
    at.switch_page(SIGN_IN_PAGE).run()
    if role != Role.ADMIN:
        assert title(at) == "Sign-in"
        assert "This page is for admins — ask an admin" in texts(at)
        assert "idp.example.com" not in texts(at)
        return
    assert title(at) == "Sign-in"
    assert "Single sign-on." in texts(at)
    assert "idp.example.com" in texts(at)


def test_an_unknown_email_is_asked_to_see_an_admin_and_sees_nothing_else(oidc, seeded):
    at = sso_app(email="stranger@elsewhere.example", name="Stranger")
    at.run()
    assert not at.exception
    [warning] = at.warning
    assert warning.value.replace("\\", "") == (
        "You're signed in as stranger@elsewhere.example, but Outcomes doesn't know this "
        "address yet — ask an admin to add you."
    )
    assert "user_id" not in at.session_state
    assert not at.sidebar.children and not at.metric and not at.dataframe
    assert [b.key for b in at.button] == ["sign_out"]
    at.button(key="sign_out").click().run()
    assert at.user == {"is_logged_in": False}
    assert "Sign in with your company account" in texts(at)


def test_an_unverified_email_stands_for_nobody(oidc, seeded):
    csm = seeded["people"][Role.CSM]
    at = sso_app(email=csm.email, email_verified=False)
    at.run()
    assert "user_id" not in at.session_state
    assert "has not verified this address" in texts(at)


def test_a_deactivated_user_is_turned_away(oidc, seeded, demo_url):
    csm = seeded["people"][Role.CSM]
    engine = create_engine(demo_url)
    with engine.begin() as conn:
        conn.execute(User.__table__.update().where(User.id == csm.id).values(active=False))
    try:
        at = sso_app(email=csm.email)
        at.run()
        assert "user_id" not in at.session_state
        assert "doesn't know this address yet" in texts(at)
    finally:
        with engine.begin() as conn:
            conn.execute(User.__table__.update().where(User.id == csm.id).values(active=True))
        engine.dispose()


def test_signing_out_ends_the_provider_session_and_ours(oidc, seeded):
    at = sso_app(email=seeded["people"][Role.LEADER].email)
    at.run()
    at.button(key="sign_out").click().run()
    assert "user_id" not in at.session_state
    assert at.user == {"is_logged_in": False}
    assert [b.key for b in at.button] == ["sign_in"]


def test_sso_deep_link_comes_back_through_the_cookie(oidc, seeded, monkeypatch):
    win = seeded["win"]
    target = deep_link.Target("achievement", {"achievement": str(win.achievement_id)})
    monkeypatch.setattr(
        deep_link,
        "request_cookie",
        lambda name: target.encode() if name == deep_link.COOKIE else None,
    )
    at = sso_app(email=seeded["people"][Role.CSM].email)
    at.run()  # Streamlit brings the person back to the root after the provider
    assert not at.exception
    assert title(at) == win.title
    assert at.query_params["achievement"] == str(win.achievement_id)
    at.run()  # read once per session: later runs stay where the person went
    assert title(at) == win.title


def test_sso_deep_link_to_a_page_the_role_may_not_open_lands_home(oidc, seeded, monkeypatch):
    target = deep_link.Target("system")
    monkeypatch.setattr(deep_link, "request_cookie", lambda name: target.encode())
    at = sso_app(email=seeded["people"][Role.CSM].email)
    at.run()
    assert title(at) == "Today"  # the CSM's landing, not the page the role lacks


def test_signed_out_deep_link_is_remembered_for_after_sign_in(oidc, seeded):
    win = seeded["win"]
    at = sso_app().run()
    at.query_params["achievement"] = str(win.achievement_id)
    at.switch_page(ACHIEVEMENT).run()
    assert [b.key for b in at.button] == ["sign_in"]
    assert at.session_state[deep_link.TARGET_KEY] == deep_link.Target(
        "achievement", {"achievement": str(win.achievement_id)}
    )
    [html] = at.get("html")
    assert deep_link.COOKIE in html.proto.body and "Max-Age=600" in html.proto.body


@pytest.mark.parametrize(
    "raw",
    [None, "", "system%3F", "nowhere%3Fa%3D1", "x" * 3000, "..%2F..%2Fetc%3F"],
)
def test_only_registered_pages_come_out_of_the_cookie(raw):
    target = deep_link.Target.decode(raw)
    assert target is None or target.url_path == "system"


def test_oidc_without_its_settings_shows_only_the_missing_names(app_db, monkeypatch):
    monkeypatch.setenv("AUTH_MODE", "oidc")
    get_settings.cache_clear()
    try:
        at = sso_app(email="someone@example.com").run()
    finally:
        get_settings.cache_clear()
    [error] = at.error
    assert error.value.startswith("Refusing to start: AUTH_MODE=oidc needs OIDC_SERVER_METADATA")
    assert len(at.main.children) == 1


def test_oidc_without_streamlit_auth_secrets_says_how_to_start(oidc):
    at = new_app()
    at.user = {"is_logged_in": False}
    with patch_config_options({"secrets.files": []}):
        at.run()
    assert [e.value for e in at.error] == [NO_AUTH_SECRETS]


def test_an_unknown_auth_mode_is_named_instead_of_a_traceback(app_db, monkeypatch):
    monkeypatch.setenv("AUTH_MODE", "password")
    get_settings.cache_clear()
    try:
        at = new_app().run()
    finally:
        get_settings.cache_clear()
    assert [e.value for e in at.error] == [
        "Refusing to start: AUTH_MODE is not valid (Input should be 'demo' or 'oidc')."
    ]


# --- The Sign-in page ----------------------------------------------------------------------------


@pytest.fixture
def admin_page(app_db, seeded):
    """The Sign-in page as an admin; the policy row is removed afterwards (the demo data is
    shared)."""
    at = open_page(seeded["people"][Role.ADMIN].id, SIGN_IN_PAGE)
    yield at
    engine = create_engine(app_db)
    with engine.begin() as conn:
        conn.execute(SignInPolicy.__table__.delete())
    engine.dispose()


def test_the_page_says_demo_mode_in_plain_words(admin_page):
    assert title(admin_page) == "Sign-in"
    assert "Anyone who opens Outcomes picks any user, with no password" in texts(admin_page)
    assert "Nobody gets a user automatically" in texts(admin_page)
    assert "sign_in_clear" not in {b.key for b in admin_page.button}


def test_admin_allows_a_domain_then_stops_it(admin_page):
    at = admin_page
    at.text_input(key="sign_in_domain").input("@Example.COM")
    at.selectbox(key="sign_in_role").select(Role.SALES)
    at.button(key="sign_in_save").click().run()
    assert not at.exception
    assert "People at example.com get a user on first sign-in." in texts(at)
    assert "at **example.com** gets a user on their first sign-in, as **Sales**" in texts(at)
    assert at.text_input(key="sign_in_domain").value == "example.com"
    at.button(key="sign_in_clear").click().run()
    assert "Nobody gets a user automatically any more." in texts(at)
    assert at.text_input(key="sign_in_domain").value == ""


def test_a_bad_domain_is_refused_next_to_the_form_and_kept(admin_page):
    at = admin_page
    at.text_input(key="sign_in_domain").input("not a domain")
    at.button(key="sign_in_save").click().run()
    assert "Not saved. Allowed email domain: 'not a domain' is not an email domain" in prose(at)
    assert at.text_input(key="sign_in_domain").value == "not a domain"
    assert "Nobody gets a user automatically" in texts(at)
