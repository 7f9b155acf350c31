"""A CSM's journey in a real browser: find a customer in the list, read its page before a call
(header, health factors, a documented win) and click through to the win's details."""

import re

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from core.customers.models import Customer
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import Achievement, AchievementStatus
from core.models import User
from core.records.models import SuccessRecord
from tests.e2e.harness import browser_page, chromium, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser
DATABASE = "outcomes_customer_e2e"


@pytest.fixture(scope="module")
def book(pg_server):
    """A demo database with documented wins; one CSM's customer that has one."""
    from data.demo import generate

    url = pg_server.create_database(DATABASE)
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=40, seed=3)
    with Session(engine) as session:
        assert detect(session=session), "the demo data should hold achievable goals"
        document_pending(session=session)
        won = session.execute(
            select(User.email, Customer.name, SuccessRecord.title)
            .join(Customer, Customer.owner_csm_id == User.id)
            .join(Achievement, Achievement.customer_id == Customer.id)
            .join(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
            .where(Achievement.status == AchievementStatus.VERIFIED)
            .order_by(Achievement.achieved_at.desc(), Achievement.id)
            .limit(1)
        ).one()
        session.commit()
    engine.dispose()
    yield {"url": url, "csm": won.email, "customer": won.name, "title": won.title}
    pg_server.drop_database(DATABASE)


@pytest.fixture(scope="module")
def ui(book, tmp_path_factory):
    with streamlit_server(book["url"], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture
def page(ui):
    with chromium() as browser, browser_page(browser) as tab:
        yield tab


def test_csm_opens_a_customer_reads_it_and_follows_a_win(ui, page, book, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/customers?user={book['csm']}")
    search = page.get_by_role("textbox", name="Search")
    search.fill(book["customer"])
    search.press("Enter")
    page.get_by_text("Showing 1–1 of 1 customers").wait_for()
    grid = page.get_by_test_id("stDataFrame").first
    grid.get_by_text(book["customer"], exact=True).wait_for(state="attached")
    heading = page.get_by_role("heading", name=book["customer"])
    for _ in range(3):
        # The grid draws on a canvas; a click before it has painted its rows selects nothing,
        # so click the only row's selection box (below the header) until the customer opens.
        grid.hover()
        grid.click(position={"x": 18, "y": 54})
        try:
            heading.wait_for(timeout=15_000)
            break
        except Exception:  # noqa: BLE001 - the row was not selected yet; click again
            continue
    expect(heading).to_be_visible()
    for fact in ("ARR", "Owner CSM", "Health", "Consent", "Customer since"):
        card = page.get_by_test_id("stCaptionContainer").get_by_text(fact, exact=True)
        expect(card.first).to_be_visible()
    expect(page.get_by_text("weighted mean of the")).to_be_visible()
    shot = tmp_path / "customer.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0

    page.get_by_role("radio", name=re.compile("Goals, plans & wins")).click()
    win = page.get_by_role("link", name=book["title"]).first
    win.wait_for()
    win.click()
    expect(page.get_by_role("link", name="Back to Wins")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/achievement\?achievement="))
    page.screenshot(path=tmp_path / "win.png", full_page=True)
    assert (tmp_path / "win.png").stat().st_size > 0
