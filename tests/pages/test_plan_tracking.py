"""The Upsell progress page shows recency, milestones, ROI realized and the feedback ask."""

from datetime import UTC, datetime, timedelta

from core.base import Direction
from core.customers.models import MetricKind
from core.db import session_scope
from core.upsell import feedback, milestones
from core.upsell.progress import update_progress
from tests.core.upsell.scenarios import CONTACTS
from tests.factories import auto, csm, customer, manual, metric, observe_days, plan
from tests.pages import apptest


def _seed():
    # The page judges recency against the clock, so the data is laid out from today; before noon
    # UTC today's noon observation would still be in the future, so "today" is the last full noon.
    now = datetime.now(UTC)
    today = (now - timedelta(hours=12)).date()
    start = today - timedelta(days=62)
    with session_scope() as session:
        owner = csm(session)
        cust = customer(session, owner=owner, name="Fabrikam", contacts=CONTACTS)
        metric(
            session,
            "pt_savings",
            Direction.HIGHER,
            "USD",
            name="Cost savings",
            kind=MetricKind.ROI,
            money=True,
        )
        row = plan(
            session,
            cust,
            started_on=start,
            metrics=[
                {**auto("Active users", "pt_users", 100, 200), "unit": "users"},
                {
                    **auto("Cost savings", "pt_savings", 10_000, 90_000, kind=MetricKind.ROI),
                    "unit": "USD",
                },
                manual("Dashboards", 0, 3),
            ],
        )
        observe_days(session, cust, "pt_users", start, today - timedelta(days=10), 140)  # stopped
        observe_days(session, cust, "pt_savings", start, today, 166_000)
        update_progress(session=session, now=now)
        milestones.track(session=session, now=now)
        feedback.ask_due(session=session, now=now)
        return owner.id, row.id


def test_the_plan_shows_what_tracking_found(scratch_db):
    owner_id, plan_id = _seed()
    at = apptest.open_page(owner_id, "../pages/upsells.py", plan=str(plan_id))
    shown = apptest.texts(at)
    assert "Measured weekly (7-day average)" in shown
    assert "no recent data: the newest value is from" in shown
    assert "Measured monthly (30-day average)" in shown
    assert "Adoption milestones" in shown
    assert "Active users reaches 125 users** by day 30 · reached" in shown
    assert "Active users reaches 150 users** by day 60 · was due" in shown
    # $156K a year beyond the baseline over 63 days = $26.9K, against $24K added ARR.
    assert "$26.9K saved in 63 days vs $24K added ARR: 1.1×" in shown
    cards = [str(m.value) for m in at.markdown]
    assert "**1.1×**" in cards
    assert "Drafted, waiting for the CSM's approval" in shown
