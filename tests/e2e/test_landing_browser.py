"""Landings in a real browser: a CSM's Today, a salesperson's repository, a marketer's refusal."""

import re

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Role
from core.documentation.service import document_pending
from core.drafts.models import Draft, DraftStatus
from core.goals.detection import detect
from tests.e2e.harness import browser_page, chromium, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(pg_server):
    """A demo database with documented wins; the CSM with most drafts, a seller, a marketer."""
    from data.demo import generate

    url = pg_server.create_database("outcomes_landing_e2e")
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=40, seed=3)
    with Session(engine) as session:
        detect(session=session)
        document_pending(session=session)
        session.commit()
        pending = (
            select(func.count())
            .where(Draft.owner_id == User.id, Draft.status == DraftStatus.PENDING)
            .scalar_subquery()
        )
        csm = session.scalar(
            select(User.email).where(User.role == Role.CSM, pending > 0).order_by(pending.desc())
        )
        emails = {
            role: session.scalar(
                select(User.email).where(User.role == role).order_by(User.name).limit(1)
            )
            for role in (Role.SALES, Role.MARKETING, Role.LEADER)
        }
    engine.dispose()
    assert csm, "the demo data has no CSM with a draft waiting"
    return url, {Role.CSM: csm, **emails}


@pytest.fixture(scope="module")
def ui(people, tmp_path_factory):
    with streamlit_server(people[0], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture
def page(ui):
    with chromium() as browser, browser_page(browser) as tab:
        yield tab


def shot(page, tmp_path, name: str) -> None:
    """Save a screenshot of the whole page once it has finished rendering."""
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stSkeleton"]')).to_have_count(0)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 0


def test_a_csm_lands_on_today_and_follows_a_draft_to_approvals(ui, page, people, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={people[1][Role.CSM]}")
    page.get_by_role("heading", name="Today").wait_for()
    expect(page.get_by_text(re.compile(r"Drafts to approve · [1-9]"))).to_be_visible()
    shot(page, tmp_path, "csm-today")
    title = page.get_by_text(re.compile(r"^Drafts to approve · "))
    # The innermost block holding the title and links: the drafts' own box (document order).
    drafts = page.locator("div").filter(has=title).filter(has=page.get_by_role("link")).last
    drafts.get_by_role("link").first.click()
    page.get_by_role("heading", name="Approvals").wait_for()
    expect(page).to_have_url(re.compile(r"/approvals"))
    shot(page, tmp_path, "csm-approvals")


def test_a_salesperson_lands_on_the_value_repository(ui, page, people, tmp_path):
    page.goto(f"{ui}/?user={people[1][Role.SALES]}")
    page.get_by_role("heading", name="Value repository").wait_for()
    assert page.get_by_role("heading", name="Company overview").count() == 0
    assert "Pending approvals" not in page.content()
    shot(page, tmp_path, "sales-landing")


def test_a_marketer_opening_an_admin_url_is_told_whose_page_it_is(ui, page, people, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/system?user={people[1][Role.MARKETING]}")
    expect(page.get_by_text("This page is for admins — ask an admin")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    shot(page, tmp_path, "marketer-refused")
    page.get_by_role("link", name="Go to Marketing candidates").click()
    page.get_by_role("heading", name="Marketing candidates").wait_for()
    shot(page, tmp_path, "marketer-landing")


def test_a_leader_lands_on_the_team_headlines_and_opens_the_outcome_report(
    ui, page, people, tmp_path
):
    from playwright.sync_api import expect

    page.goto(f"{ui}/?user={people[1][Role.LEADER]}")
    page.get_by_role("heading", name="Team wins and outcomes").wait_for()
    expect(page.get_by_text(re.compile(r"Every CSM's verified wins reached"))).to_be_visible()
    shot(page, tmp_path, "leader-landing")
    page.get_by_role("link", name="See the outcome report").click()
    page.get_by_role("heading", name="Upsell outcomes").wait_for()
    expect(page.get_by_text(re.compile(r"^Outcomes decided"))).to_be_visible()
    shot(page, tmp_path, "leader-outcomes")
    # Selecting the outcome mix's "Success" bar lists the plans behind it.
    count = page.get_by_text(re.compile(r"^\d+ plans — every plan"))
    count.wait_for()
    bar = page.locator(".js-plotly-plot").first.locator("g.point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_text(re.compile(r"^\d+ plans — outcome: Success"))).to_be_visible()
    page.get_by_role("heading", name="Plans behind the charts").scroll_into_view_if_needed()
    shot(page, tmp_path, "leader-drill-down")
    # Selecting a plan's row opens its progress page.
    table = page.get_by_test_id("stDataFrame").first.bounding_box()
    page.mouse.click(table["x"] + 15, table["y"] + 35 + 17)  # the first row's marker
    page.get_by_role("heading", name="Upsell progress").wait_for()
    expect(page).to_have_url(re.compile(r"/upsells\?plan=[0-9a-f-]{36}$"))
