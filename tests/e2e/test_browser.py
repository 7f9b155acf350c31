"""A real browser against `streamlit run app/main.py` on the demo database."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from core.base import Role
from core.models import Customer, User

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy in {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def ui(demo_url, tmp_path_factory):
    """Base URL of a headless Streamlit server reading the demo database."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "DATABASE_URL": demo_url}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(ui):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def seeded(demo_url):
    owned = select(func.count()).where(Customer.owner_csm_id == User.id).scalar_subquery()
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        people = {
            role: conn.execute(
                select(User.id, User.email)
                .where(User.role == role, User.active.is_(True))
                .order_by(owned.desc(), User.name)
                .limit(1)
            ).one()
            for role in (Role.LEADER, Role.CSM, Role.ADMIN)
        }
        total = conn.scalar(select(func.count()).select_from(Customer))
        book = conn.scalar(select(func.count()).where(Customer.owner_csm_id == people[Role.CSM].id))
    engine.dispose()
    return {"people": people, "total": total, "book": book}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1400})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def metric(page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first


def test_leader_home_shows_company_figures(ui, page, seeded, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={seeded['people'][Role.LEADER].email}")
    page.get_by_role("heading", name="Company overview").wait_for()
    expect(metric(page, "Customers")).to_contain_text(str(seeded["total"]))
    page.locator(".js-plotly-plot").first.wait_for()
    page.screenshot(path=tmp_path / "home.png", full_page=True)
    assert str(seeded["total"]) in page.inner_text("body")
    assert (tmp_path / "home.png").stat().st_size > 10_000
    expect(page.get_by_role("link", name="System")).to_have_count(0)


def test_csm_moves_from_their_book_to_customers(ui, page, seeded, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={seeded['people'][Role.CSM].email}")
    page.get_by_role("heading", name="Your book").wait_for()
    expect(metric(page, "Customers")).to_contain_text(str(seeded["book"]))
    page.get_by_role("link", name="Customers").click()
    page.get_by_text(f"of {seeded['book']} customers").wait_for()
    page.screenshot(path=tmp_path / "customers.png", full_page=True)


def test_admin_reaches_system_and_can_sign_out(ui, page, seeded):
    page.goto(f"{ui}/?user={seeded['people'][Role.ADMIN].email}")
    page.get_by_role("link", name="System").click()
    page.get_by_role("heading", name="Latest job runs").wait_for()
    page.get_by_text("python -m app.keys create NAME --role ROLE").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("Demo sign-in — choose a seeded user").wait_for()
