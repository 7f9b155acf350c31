"""A marketer in a real browser: filter candidates, flag one, find it on the board."""

import re

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Role
from core.documentation.service import document_pending
from core.goals.detection import detect
from tests.e2e.harness import browser_page, chromium, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def wins_url(pg_server):
    """A database with demo data whose wins the detection job has found and documented."""
    from data.demo import generate

    url = pg_server.create_database("outcomes_marketing_e2e")
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=40, seed=3)
    with Session(engine) as session:
        detect(session=session)
        assert document_pending(session=session)["documented"] > 0
        session.commit()
        marketer = session.scalar(
            select(User.email).where(User.role == Role.MARKETING).order_by(User.name).limit(1)
        )
    engine.dispose()
    return url, marketer


@pytest.fixture(scope="module")
def ui(wins_url, tmp_path_factory):
    """Base URL of a headless Streamlit server reading the database with wins."""
    with streamlit_server(wins_url[0], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture
def page(ui):
    with chromium() as browser, browser_page(browser) as tab:
        yield tab


def test_marketer_filters_flags_and_sees_the_flag_on_the_board(ui, page, wins_url, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/marketing?user={wins_url[1]}")
    page.get_by_role("heading", name="Marketing candidates").wait_for()
    total = page.get_by_text(re.compile(r"Showing 1–\d+ of \d+ wins"))
    before = total.inner_text()

    kind = page.get_by_role("combobox", name="Candidate type")
    kind.click()
    page.get_by_role("option", name="Testimonial").click()
    expect(kind).to_have_value("Testimonial")
    expect(total).not_to_have_text(before)

    # Back to every type (a new session): the demo's history flagged most testimonials already.
    page.goto(f"{ui}/marketing?user={wins_url[1]}")
    page.get_by_role("heading", name="Marketing candidates").wait_for()
    every = total.inner_text()
    status = page.get_by_role("combobox", name="Flag status")
    status.click()
    page.get_by_role("option", name="Not flagged yet").click()
    expect(status).to_have_value("Not flagged yet")
    expect(total).not_to_have_text(every)  # the filtered list is drawn: its buttons are current
    engine = create_engine(wins_url[0])
    with engine.connect() as conn:  # the demo's history has flags already
        flags = conn.scalar(text("SELECT count(*) FROM marketing_flags"))
    engine.dispose()
    page.get_by_role("button", name="Flag for marketing").first.click()
    page.get_by_label("Notes").fill("Lead story for the spring webinar")
    page.get_by_role("button", name="Flag", exact=True).click()
    notice = page.get_by_text(re.compile(r"W-[0-9A-F]{6} flagged as an? [a-z ]+"))
    reference = re.search(r"W-[0-9A-F]{6}", notice.inner_text()).group(0)

    page.get_by_role("tab", name=f"Flag board ({flags + 1})").click()
    board = page.get_by_role("tabpanel")
    expect(board).to_contain_text("Flagged · 1")
    expect(board.get_by_text(reference)).to_be_visible()
    expect(board.get_by_text("Lead story for the spring webinar")).to_be_visible()
    expect(board.get_by_role("button", name="Contacted").first).to_be_visible()
    expect(board.get_by_role("button", name="Decline").first).to_be_visible()
    page.screenshot(path=tmp_path / "marketing-board.png", full_page=True)
    assert (tmp_path / "marketing-board.png").stat().st_size > 10_000
