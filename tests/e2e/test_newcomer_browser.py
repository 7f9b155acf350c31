"""A new team adopts Outcomes from an empty database, without the demo and without SQL.

The first admin comes from `python -m app.users add`; the admin adds a metric and a product on the
Set-up catalogue page, creates an API key (shown once) and invites a CSM on the People page; the
key's integrator sends the product's success template. The CSM adds a customer, a contact and a
goal on the Customers page; usage posted through the API, then a detection pass, makes the win
appear on the customer's page.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from app.api import app as api_app
from app.users import main as users_main
from core import db
from core.customers.models import Customer
from core.goals.models import Achievement
from jobs.registry import load_all, run_job
from tests.e2e.harness import browser_page, chromium, settle, streamlit_server
from tests.pg import migrate

pytestmark = pytest.mark.browser

ADMIN = "ada@newco.example"
CSM = "casey@newco.example"


@pytest.fixture(scope="module")
def empty_url(pg_server):
    """A migrated database with nothing in it: no demo, no users."""
    url = pg_server.create_database("outcomes_newcomer_e2e")
    migrate(url)
    return url


@pytest.fixture
def on_empty(empty_url, monkeypatch):
    """Point the app's own engine (commands, API, jobs) at the empty database."""
    monkeypatch.setenv("DATABASE_URL", empty_url)
    db.reset()
    yield empty_url
    db.reset()


def _form(page, button: str):
    """The form holding the submit button named `button`."""
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))


def _choose(page, scope, label: str, option: str) -> None:
    """Pick `option` in the select box `label`; a list re-rendered mid-click is opened again."""
    from playwright.sync_api import TimeoutError as Slow
    from playwright.sync_api import expect

    box = scope.get_by_test_id("stSelectbox").filter(has_text=label).first
    # A rerun that lands between the click and the check can also redraw the box empty.
    for attempt in range(3):
        try:
            box.click()
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            expect(box.get_by_role("combobox")).to_have_value(option, timeout=10_000)
            return
        except (Slow, AssertionError):
            page.keyboard.press("Escape")
            if attempt == 2:
                raise


def _type_date(page, field, day) -> None:
    """Type `day` into a date field's year, month and day segments."""
    for part, value in (("year", f"{day:%Y}"), ("month", f"{day:%m}"), ("day", f"{day:%d}")):
        field.get_by_role("spinbutton", name=re.compile(part, re.I)).first.click()
        page.keyboard.type(value)


def _customer_id(url: str):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(select(Customer.id).where(Customer.external_id == "blue-harbor"))
    engine.dispose()
    return found


def _wins(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Achievement))
    engine.dispose()
    return count


def test_a_new_team_sets_itself_up_and_sees_its_first_win(on_empty, tmp_path, capsys):
    from playwright.sync_api import expect

    assert users_main(["add", ADMIN, "--name", "Ada Admin", "--role", "admin"]) == 0
    capsys.readouterr()
    with (
        streamlit_server(on_empty, tmp_path) as ui,
        chromium() as browser,
        browser_page(browser) as page,
    ):
        # The admin sets up the catalogue: a metric, then a product.
        page.goto(f"{ui}/catalog?user={ADMIN}")
        page.get_by_role("heading", name="Set-up catalogue").wait_for(timeout=60_000)
        settle(page)
        metric = _form(page, "Save metric")
        metric.get_by_label("Key", exact=True).fill("weekly_reports")
        metric.get_by_label("Name", exact=True).fill("Weekly reports")
        metric.get_by_label("Unit", exact=True).fill("reports")
        metric.get_by_role("button", name="Save metric").click()
        expect(page.get_by_text("Added the metric Weekly reports.")).to_be_visible()
        page.get_by_role("tab", name="Products").click()
        product = _form(page, "Save product")
        product.get_by_label("Code", exact=True).fill("reports-pro")
        product.get_by_label("Name", exact=True).fill("Reports Pro")
        product.get_by_role("button", name="Save product").click()
        expect(page.get_by_text("Added the product Reports Pro.")).to_be_visible()

        # An API key for the integration, shown once.
        page.get_by_role("link", name="API keys").click()
        page.get_by_role("heading", name="API keys").first.wait_for()
        create = _form(page, "Create key")
        create.get_by_label("Name", exact=True).fill("Usage pipeline")
        _choose(page, create, "Role", "Admin")
        create.get_by_role("button", name="Create key").click()
        shown = page.get_by_test_id("stCode").filter(has_text="oc_").first
        expect(shown).to_be_visible()
        token = re.search(r"oc_[\w-]+", shown.inner_text()).group(0)

        # The CSM is invited.
        page.get_by_role("link", name="People").click()
        invite = _form(page, "Invite")
        invite.get_by_label("Email", exact=True).fill(CSM)
        invite.get_by_label("Name", exact=True).fill("Casey Rivera")
        _choose(page, invite, "Role", "Customer success manager")
        invite.get_by_role("button", name="Invite").click()
        expect(page.get_by_text(CSM).filter(visible=True).first).to_be_visible()

        # The integrator sends the product's success template through the API.
        api = TestClient(api_app)
        headers = {"Authorization": f"Bearer {token}"}
        template = {
            "criteria": [{"name": "Weekly reports", "metricKey": "weekly_reports", "uplift": 0.2}],
            "checkpointDays": [30, 60, 90],
        }
        sent = api.put("/api/success-templates/reports-pro", json=template, headers=headers)
        assert sent.status_code == 201, sent.text

        # The CSM signs in, adds a customer, a contact and a goal.
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{ui}/customers?user={CSM}")
        page.get_by_role("heading", name="Customers").first.wait_for(timeout=60_000)
        expect(page.get_by_text("No customers yet")).to_be_visible()
        settle(page)  # the landing run is over before the form is filled in
        page.get_by_test_id("stExpander").get_by_text("Add a customer").click()
        customer = _form(page, "Add customer")
        customer.get_by_label("Name", exact=True).fill("Blue Harbor Health")
        customer.get_by_label("Customer id", exact=True).fill("blue-harbor")
        customer.get_by_label("Industry", exact=True).fill("Healthcare")
        customer.get_by_label("Region", exact=True).fill("EMEA")
        _choose(page, customer, "Segment", "Mid-market")
        customer.get_by_role("button", name="Add customer").click()
        expect(page.get_by_text("Added Blue Harbor Health")).to_be_visible()
        expect(page.get_by_text(re.compile(r"Customer id blue-harbor"))).to_be_visible()

        page.get_by_role("radio", name=re.compile("Contacts & feedback")).click()
        page.get_by_test_id("stExpander").get_by_text("Add or edit a contact").click()
        contact = _form(page, "Add contact")
        contact.get_by_label("Name", exact=True).fill("Dana Whitfield")
        contact.get_by_label("Email", exact=True).fill("dana@blueharbor.example")
        contact.get_by_role("button", name="Add contact").click()
        expect(
            page.get_by_text("dana@blueharbor.example").filter(visible=True).first
        ).to_be_visible()

        page.get_by_role("radio", name=re.compile("Goals, plans & wins")).click()
        page.get_by_test_id("stExpander").get_by_text("New goal").click()
        goal = _form(page, "Create goal")
        goal.get_by_label("Name", exact=True).fill("Every team reports weekly")
        _choose(page, goal, "Metric", "Weekly reports (reports)")
        goal.get_by_label("Baseline", exact=True).fill("10")
        goal.get_by_label("Target", exact=True).fill("40")
        started = (datetime.now(UTC) - timedelta(days=14)).date()
        _type_date(page, goal.get_by_label("Start date", exact=True), started)
        goal.get_by_role("button", name="Create goal").click()
        expect(page.get_by_text("Created the goal “Every team reports weekly”.")).to_be_visible()

        # Usage arrives through the API; the next detection pass finds the win.
        now = datetime.now(UTC).replace(microsecond=0)
        observations = [
            {
                "customerId": "blue-harbor",
                "metric": "weekly_reports",
                "value": 12 if days > 3 else 45,
                "observedAt": (now - timedelta(days=days)).isoformat(),
            }
            for days in range(10, -1, -1)
        ]
        posted = api.post("/api/usage", json={"observations": observations}, headers=headers)
        assert posted.status_code == 200, posted.text
        load_all()
        run = run_job("goal_detection")
        assert run.status == "ok", run.error
        assert _wins(on_empty) == 1

        page.goto(f"{ui}/customers?user={CSM}&customer={_customer_id(on_empty)}")
        page.get_by_role("radio", name=re.compile("Goals, plans & wins")).click()
        # The goal's status badge; the goals grid's own (hidden) cell text may come first.
        achieved = page.get_by_text("Achieved", exact=True).filter(visible=True).first
        expect(achieved).to_be_visible()
        page.screenshot(path=tmp_path / "newcomer.png", full_page=True)
    assert (tmp_path / "newcomer.png").stat().st_size > 10_000
