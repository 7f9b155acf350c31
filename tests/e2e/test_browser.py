"""A real browser against `streamlit run app/main.py` on the demo database."""

import pytest
from sqlalchemy import create_engine, func, select

from core.base import Role
from core.models import Customer, User
from tests.e2e.harness import (  # noqa: F401  (re-exported for older imports)
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    TIMEOUT_MS,
    browser_page,
    chromium,
    free_port,
    streamlit_server,
    wait_healthy,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ui(demo_url, tmp_path_factory):
    """Base URL of a headless Streamlit server reading the demo database."""
    with streamlit_server(demo_url, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(ui):
    with chromium() as launched:
        yield launched


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
    with browser_page(browser) as tab:
        yield tab


def metric(page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first


def test_leader_home_shows_company_figures(ui, page, seeded, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={seeded['people'][Role.LEADER].email}")
    page.get_by_role("heading", name="Team wins and outcomes").wait_for()
    expect(metric(page, "Customers")).to_contain_text(str(seeded["total"]))
    page.locator(".js-plotly-plot").first.wait_for()
    page.screenshot(path=tmp_path / "home.png", full_page=True)
    assert str(seeded["total"]) in page.inner_text("body")
    assert (tmp_path / "home.png").stat().st_size > 10_000
    expect(page.get_by_role("link", name="System")).to_have_count(0)


def test_csm_moves_from_their_book_to_customers(ui, page, seeded, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={seeded['people'][Role.CSM].email}")
    page.get_by_role("heading", name="Today").wait_for()
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
