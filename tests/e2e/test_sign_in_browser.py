"""Single sign-on in a real browser against a real OpenID provider (oidc-provider-mock).

The provider runs on 127.0.0.1 in this process; the UI runs as `make run` starts it, in OIDC
mode, with the `[auth]` secrets written from the OIDC_* settings. On the provider's authorize
form the test types the email to sign in as: the mock makes it the subject and the email claim.
"""

import os
import re
import subprocess
import threading
from contextlib import contextmanager

import pytest
import werkzeug.serving
from sqlalchemy import create_engine, select

from app.run import ui_command
from app.sign_in_setup import prepare_ui_secrets
from components.deep_link import COOKIE
from core.base import Role
from core.models import SuccessRecord, User
from core.settings import ROOT, Settings
from tests.e2e.harness import CHROMIUM, browser_page, chromium, free_port, wait_healthy

pytestmark = pytest.mark.browser

PORT_ATTEMPTS = 3


@pytest.fixture(scope="module")
def provider():
    """Base URL of an OpenID provider on 127.0.0.1 that signs in whoever the form names."""
    from oidc_provider_mock import app as provider_app

    # The provider refuses plain http unless told this is a test; it runs in this process.
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        if previous is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def sso_ui(database_url: str, provider: str, work):
    """Run the UI in OIDC mode on a free port (retrying a port lost to another worker)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        env = {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(work / "data"),
            "APP_PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            "AUTH_MODE": "oidc",
            "OIDC_SERVER_METADATA_URL": f"{provider}/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "outcomes",
            "OIDC_CLIENT_SECRET": "outcomes-client-secret",
            "OIDC_COOKIE_SECRET": "a-long-random-cookie-secret-for-tests",
            "OIDC_REDIRECT_URL": f"http://127.0.0.1:{port}/oauth2callback",
        }
        settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})
        command = ui_command(settings, prepare_ui_secrets(settings, ROOT))
        log = work / f"server-{attempt}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "AUTH_"))}
        with log.open("w") as out:
            proc = subprocess.Popen(
                [*command, "--browser.gatherUsageStats", "false"],
                cwd=ROOT,
                env={**clean, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, log)
        except BaseException:
            lost = proc.poll() is not None and "is not available" in log.read_text()
            _stop(proc)
            if lost and attempt < PORT_ATTEMPTS:
                continue
            raise
        break
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def ui(demo_url, provider, tmp_path_factory):
    with sso_ui(demo_url, provider, tmp_path_factory.mktemp("sso")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(ui):
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    with browser_page(browser) as tab:
        yield tab


@pytest.fixture(scope="module")
def seeded(demo_url):
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        people = {
            role: conn.execute(
                select(User.email, User.name)
                .where(User.role == role, User.active.is_(True))
                .order_by(User.name)
                .limit(1)
            ).one()
            for role in (Role.CSM, Role.ADMIN)
        }
        win = conn.execute(
            select(SuccessRecord.achievement_id, SuccessRecord.title).order_by(SuccessRecord.title)
        ).first()
    engine.dispose()
    return {"people": people, "win": win}


def sign_in_at_provider(page, email: str) -> None:
    """Press the app's Sign in button and sign in as `email` on the provider's form."""
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Authorize Client").wait_for()
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()


def sign_out(page) -> None:
    """Sign out of the app and confirm ending the session on the provider's page."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()
    page.get_by_text("Sign in with your company account").wait_for()


def nav_links(page) -> set[str]:
    """Return the titles of the sidebar's page links (each link's text ends with its title)."""
    texts = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return {text.strip().splitlines()[-1] for text in texts if text.strip()}


def test_csm_follows_a_deep_link_through_sign_in_then_signs_out(ui, page, seeded, tmp_path):
    from playwright.sync_api import expect

    csm, admin = seeded["people"][Role.CSM], seeded["people"][Role.ADMIN]
    win = seeded["win"]
    page.goto(f"{ui}/achievement?achievement={win.achievement_id}")
    page.get_by_text("Sign in with your company account").wait_for()
    expect(page.get_by_role("heading", name=win.title)).to_have_count(0)
    sign_in_at_provider(page, csm.email.upper())

    page.get_by_role("heading", name=win.title).wait_for()
    expect(page).to_have_url(re.compile(rf"/achievement\?achievement={win.achievement_id}$"))
    page.get_by_text(csm.name).filter(visible=True).first.wait_for()
    links = nav_links(page)
    assert {"Home", "Wins", "Approvals", "Upsell progress"} <= links
    assert not {"System", "Sign-in", "Integrations"} & links
    assert COOKIE not in {c["name"] for c in page.context.cookies()}
    expect(page.get_by_text("Demo sign-in")).to_have_count(0)
    page.screenshot(path=tmp_path / "csm-deep-link.png", full_page=True)
    assert (tmp_path / "csm-deep-link.png").stat().st_size > 10_000

    # ?user= belongs to demo sign-in: here it changes nobody.
    page.goto(f"{ui}/?user={admin.email}")
    page.get_by_role("heading", name="Today").wait_for()
    page.get_by_text(csm.name).filter(visible=True).first.wait_for()
    assert "System" not in nav_links(page)

    sign_out(page)
    expect(page.get_by_role("heading", name="Today")).to_have_count(0)
    page.goto(f"{ui}/")
    page.get_by_text("Sign in with your company account").wait_for()


def test_admin_sees_the_administration_pages(ui, page, seeded, tmp_path):
    admin = seeded["people"][Role.ADMIN]
    page.goto(f"{ui}/")
    sign_in_at_provider(page, admin.email)
    page.get_by_role("link", name="Sign-in").click()
    page.get_by_role("heading", name="Sign-in").wait_for()
    page.get_by_text("Single sign-on.").wait_for()
    assert {"Home", "System", "Sign-in", "Message templates", "Integrations"} <= nav_links(page)
    page.screenshot(path=tmp_path / "admin-sign-in.png", full_page=True)
    assert (tmp_path / "admin-sign-in.png").stat().st_size > 10_000


def test_user_param_signs_nobody_in(ui, page, seeded):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={seeded['people'][Role.ADMIN].email}")
    page.get_by_text("Sign in with your company account").wait_for()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_an_unknown_address_is_sent_to_an_admin_and_sees_no_data(ui, page, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/")
    sign_in_at_provider(page, "stranger@elsewhere.example")
    page.get_by_text(
        "You're signed in as stranger@elsewhere.example, but Outcomes doesn't know this "
        "address yet — ask an admin to add you."
    ).wait_for()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    page.goto(f"{ui}/customers")
    page.get_by_text("doesn't know this address yet").wait_for()
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(0)
    page.screenshot(path=tmp_path / "unknown.png", full_page=True)
    assert (tmp_path / "unknown.png").stat().st_size > 5_000
    sign_out(page)
