"""A leader's journey in a real browser: Wins with committed wins, then one win's details."""

import re

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core.base import Role
from core.customers.models import Customer
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import Achievement, AchievementStatus, Goal, GoalType
from core.models import User
from core.records.models import SuccessRecord
from tests.e2e.harness import TIMEOUT_MS, browser_page, chromium, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def wins_url(pg_server):
    """A demo database where the detection job has found and documented wins."""
    from data.demo import generate

    url = pg_server.create_database("outcomes_wins_e2e")
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=40, seed=3)
    with Session(engine) as session:
        assert detect(session=session), "the demo data should hold achievable goals"
        document_pending(session=session)
        leader = session.scalar(select(User.email).where(User.role == Role.LEADER).limit(1))
        kpi_wins = session.scalar(
            select(func.count())
            .select_from(Achievement)
            .join(Goal, Goal.id == Achievement.goal_id)
            .where(Goal.type == GoalType.KPI, Achievement.status == AchievementStatus.VERIFIED)
        )
        kpi = session.execute(
            select(Customer.name, SuccessRecord.title)
            .join(Achievement, Achievement.customer_id == Customer.id)
            .join(Goal, Goal.id == Achievement.goal_id)
            .join(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
            .where(Goal.type == GoalType.KPI, Achievement.status == AchievementStatus.VERIFIED)
            .order_by(Achievement.achieved_at.desc(), Achievement.id.desc())
            .limit(1)
        ).one()
        session.commit()
    engine.dispose()
    yield {
        "url": url,
        "leader": leader,
        "customer": kpi.name,
        "title": kpi.title,
        "kpi_wins": kpi_wins,
    }
    pg_server.drop_database("outcomes_wins_e2e")


@pytest.fixture(scope="module")
def ui(wins_url, tmp_path_factory):
    """Base URL of a headless Streamlit server reading the database with wins."""
    with streamlit_server(wins_url["url"], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture
def page(ui):
    with chromium() as browser, browser_page(browser) as tab:
        yield tab


def test_leader_opens_wins_then_a_win_with_its_before_after_chart(ui, page, wins_url, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{ui}/wins?user={wins_url['leader']}")
    page.get_by_role("heading", name="Recent wins").wait_for()  # after the cards and charts
    metrics = page.locator('[data-testid="stMetric"]')
    for label in (
        "Wins",
        "Achievement capture",
        "Customer communication",
        "Marketing utilization",
        "Documented within 24 h",
    ):
        expect(metrics.filter(has_text=label).first).to_be_visible(timeout=TIMEOUT_MS)
    # Capture counts goals whose data met the target without a record, so it may be below 100%.
    expect(metrics.filter(has_text="Achievement capture")).to_contain_text(re.compile(r"\d+%"))
    page.locator(".js-plotly-plot:visible").first.wait_for()
    page.screenshot(path=tmp_path / "wins.png", full_page=True)

    page.get_by_test_id("stSelectbox").filter(has_text="Goal type").click()
    page.get_by_role("option", name="KPI", exact=True).click()
    wins = page.locator('[data-testid="stMetric"]').filter(has_text="Wins").first
    expect(wins.get_by_test_id("stMetricValue")).to_have_text(
        str(wins_url["kpi_wins"]), timeout=TIMEOUT_MS
    )
    # The rerun has finished once no other goal type is left in the feed or the charts.
    others = page.get_by_text(re.compile(r"^(Success plan|Onboarding)$"))
    expect(others).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=TIMEOUT_MS)
    link = page.get_by_role("link", name=wins_url["customer"]).first
    link.click()
    page.get_by_role("heading", name=wins_url["title"]).wait_for()
    chart = page.locator(".js-plotly-plot")
    chart.first.wait_for()
    expect(chart).to_have_count(1, timeout=TIMEOUT_MS)
    expect(chart).to_contain_text("Goal start")
    expect(chart).to_contain_text("Achieved")
    page.get_by_role("heading", name="Evidence").wait_for()
    page.screenshot(path=tmp_path / "win.png", full_page=True)
    assert (tmp_path / "win.png").stat().st_size > 10_000
    page.get_by_role("link", name="Back to Wins").click()
    page.get_by_role("heading", name="Recent wins").wait_for()
