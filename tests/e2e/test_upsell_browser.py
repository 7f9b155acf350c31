"""A CSM follows an upsell in a real browser: list, plan charts, a recorded 30-day review."""

import re

import pytest
from sqlalchemy import create_engine, func, select

from components.upsell_views import title
from core import db
from core.models import Customer, User
from core.upsell.models import Measurement, MeasurementMetric, Review, Upsell
from data.demo import generate
from jobs.registry import load_all, run_job
from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    browser_page,
    chromium,
    streamlit_server,
)
from tests.pg import migrate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tracked_url(pg_server):
    """A demo database whose upsells have plans and tracked progress (the jobs ran once)."""
    url = pg_server.create_database("outcomes_upsell_e2e")
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        generate(conn, customers=80, seed=3)
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        db.reset()
        load_all()
        for job in ("upsell_sync", "upsell_tracking"):
            run = run_job(job)
            assert run.status == "ok", run.error
        db.reset()
    db.reset()
    return url


@pytest.fixture(scope="module")
def ui(tracked_url, tmp_path_factory):
    """Base URL of a headless Streamlit server reading the tracked demo database."""
    with streamlit_server(tracked_url, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


def _csm_with_a_plan(url):
    has_usage = (
        select(MeasurementMetric.id)
        .where(MeasurementMetric.measurement_id == Measurement.id)
        .where(MeasurementMetric.current.is_not(None), MeasurementMetric.metric_key.is_not(None))
        .exists()
    )
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            select(User.email, Customer.name, Upsell.name, Measurement.id)
            .join(Customer, Customer.owner_csm_id == User.id)
            .join(Measurement, Measurement.customer_id == Customer.id)
            .join(Upsell, Upsell.id == Measurement.upsell_id)
            .order_by(has_usage.desc(), Customer.name)
            .limit(1)
        ).one()
    engine.dispose()
    return row


def _reviews(url, plan_id) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).where(Review.measurement_id == plan_id))
    engine.dispose()
    return count


def test_csm_opens_a_plan_and_records_a_review(ui, tracked_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    email, customer, upsell, plan_id = _csm_with_a_plan(tracked_url)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(viewport={"width": 1440, "height": 1400}).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{ui}/upsells?user={email}")
        page.get_by_role("heading", name="Upsell progress").wait_for(timeout=60_000)  # cold start
        page.locator('[data-testid="stDataFrame"]').wait_for()

        page.locator('[data-testid="stSelectbox"]').filter(has_text="Open a plan").click()
        name = title(customer, upsell)
        page.get_by_role("option", name=name).click()
        page.get_by_role("heading", name=name).wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        page.screenshot(path=tmp_path / "upsell_plan.png", full_page=True)
        actual = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Actual").first
        actual.scroll_into_view_if_needed()
        expect(actual).to_contain_text("Day 30")
        actual.screenshot(path=tmp_path / "upsell_chart.png")

        page.get_by_role("tab", name="Reviews").click()
        page.get_by_label("Findings").fill("Adoption is ramping in the EU team; <b>not</b> yet US.")
        page.get_by_label("Next steps").fill("Enablement session for the US team")
        page.get_by_role("button", name="Record review").click()
        expect(page.get_by_text(re.compile(r"Recorded the day-\d+ review"))).to_be_visible()
        page.get_by_role("tab", name="Reviews (1)").click()
        expect(page.get_by_text("<b>not</b> yet US", exact=False)).to_be_visible()
        page.screenshot(path=tmp_path / "upsell_review.png", full_page=True)
        page.get_by_role("tab", name="Criteria").click()
        page.get_by_role("button", name="Save criteria").wait_for()
        page.screenshot(path=tmp_path / "upsell_criteria.png", full_page=True)
        browser.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert _reviews(tracked_url, plan_id) == 1
    assert (tmp_path / "upsell_plan.png").stat().st_size > 10_000


def test_leader_reads_the_outcomes_report(ui, tracked_url, tmp_path):
    from playwright.sync_api import expect

    engine = create_engine(tracked_url)
    with engine.connect() as conn:
        leader = conn.scalar(select(User.email).where(User.role == "leader").limit(1))
    engine.dispose()
    with chromium() as browser, browser_page(browser) as page:
        page.goto(f"{ui}/outcomes?user={leader}")
        page.get_by_role("heading", name="Upsell outcomes").wait_for(timeout=60_000)
        cards = page.locator('[data-testid="stMetric"]')
        expect(cards.filter(has_text="Measurement coverage").first).to_contain_text("100%")
        page.get_by_role("heading", name="Outcome mix").wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        page.screenshot(path=tmp_path / "outcomes.png", full_page=True)
    assert (tmp_path / "outcomes.png").stat().st_size > 10_000
