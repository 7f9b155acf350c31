"""A plan's metrics as of a moment: the window's value, the trend's base, the latest observation."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from core.upsell import asof
from tests import factories as f

NOW = f.NOW
TODAY = NOW.date()


def noon(day) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def test_the_latest_observation_is_known_with_and_without_recent_data(session):
    cust = f.customer(session, owner=f.csm(session))
    start = TODAY - timedelta(days=60)
    plan = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[f.auto("Active users", "as_recent", 0, 100), f.auto("Logins", "as_quiet", 0, 100)],
    )
    f.observe_days(session, cust, "as_recent", start, TODAY, 40)
    f.observe_days(session, cust, "as_quiet", start, start + timedelta(days=20), 30)  # stopped
    day_50 = asof.moment(start + timedelta(days=50), NOW)

    shot = asof.snapshots(session=session, points=[("day 50", plan.id, day_50)])["day 50"]

    found = {m.name: m for m in shot.metrics}
    recent, quiet = found["Active users"], found["Logins"]
    # The weekly window ending on day 50, its latest observation, and days 14 to 20 for the trend.
    assert (recent.current, recent.current_at) == (Decimal(40), noon(start + timedelta(days=50)))
    assert recent.month_ago == Decimal(40)
    # Nothing in the window: no value, but when data last arrived is still known.
    assert (quiet.current, quiet.current_at) == (None, noon(start + timedelta(days=20)))
    assert quiet.month_ago == Decimal(30)
