"""The stored first reach: read once per goal, used while nothing changed, derived again after."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text, update

from core.audit.watermarks import read_watermark
from core.base import Direction
from core.goals.detection import INGEST_GRACE
from core.goals.models import Goal
from core.reporting.models import GoalFirstReach
from core.reporting.unrecorded import WATERMARK, refresh_first_reach, unrecorded_goals
from tests import factories as f

NOW = f.NOW
EARLIER = NOW - timedelta(days=1)  # when the goals and their first observations arrived
SERIES_END = NOW - timedelta(days=4)


def _goals(session):
    """Two KPI goals set up a day ago: one reached (60 held 3 days), one not (never 55)."""
    f.metric(session, "seats", Direction.HIGHER, "seats")
    reached, waiting = f.customer(session, name="Acme"), f.customer(session, name="Birch")
    won = f.goal(session, reached, metric_key="seats", target=55, start=date(2026, 11, 1))
    open_ = f.goal(session, waiting, metric_key="seats", target=55, start=date(2026, 11, 1))
    for cust, values in ((reached, [40, 40, 60, 60, 60]), (waiting, [40, 41, 42, 43, 44])):
        f.observe(session, cust, "seats", values, end=SERIES_END, ingested_at=EARLIER)
    # Set up before the refreshes below: no edit since then.
    session.execute(update(Goal).values(updated_at=EARLIER))
    return won, open_, waiting


def _found(session, at):
    return [(r.goal_id, r.at) for r in unrecorded_goals(session=session, now=at)]


def test_a_refresh_reads_each_goal_once_then_only_those_with_new_data(session):
    won, open_, waiting = _goals(session)

    first = refresh_first_reach(session=session, now=NOW)
    idle = refresh_first_reach(session=session, now=NOW + timedelta(minutes=10))
    # Birch's series crosses the target for 3 days, arriving after the last refresh.
    f.observe(
        session, waiting, "seats", [56, 57, 58], end=NOW, ingested_at=NOW + timedelta(minutes=6)
    )
    again = refresh_first_reach(session=session, now=NOW + timedelta(minutes=20))

    assert (first["goals_read"], idle["goals_read"], again["goals_read"]) == (2, 0, 1)
    stored = dict(session.execute(select(GoalFirstReach.goal_id, GoalFirstReach.reached_at)).all())
    assert stored[won.id] == SERIES_END - timedelta(days=2)
    assert stored[open_.id] == NOW - timedelta(days=2)


def test_a_stored_moment_is_used_only_while_its_goal_and_series_are_unchanged(session):
    won, _, _ = _goals(session)
    refresh_first_reach(session=session, now=NOW)
    later = NOW + timedelta(minutes=30)
    truth = _found(session, later)
    # What the page reads comes from the store: a different stored moment shows through.
    moved = update(GoalFirstReach).where(GoalFirstReach.goal_id == won.id)
    session.execute(moved.values(reached_at=NOW - timedelta(days=9)))
    assert _found(session, later) == [(won.id, NOW - timedelta(days=9))]

    # Once the goal is edited after the refresh, it is derived from its observations again.
    session.execute(update(Goal).where(Goal.id == won.id).values(updated_at=later))
    assert _found(session, later) == truth == [(won.id, SERIES_END - timedelta(days=2))]


def test_a_win_recorded_after_the_refresh_leaves_the_list_at_once(session):
    won, _, _ = _goals(session)
    refresh_first_reach(session=session, now=NOW)
    f.achievement(session, won, achieved_at=EARLIER)

    assert _found(session, NOW + timedelta(minutes=30)) == []
    pruned = refresh_first_reach(session=session, now=NOW + timedelta(minutes=40))
    assert pruned["rows_pruned"] == 1


def test_before_any_refresh_every_goal_is_derived(session):
    won, _, _ = _goals(session)
    assert _found(session, NOW) == [(won.id, SERIES_END - timedelta(days=2))]


def test_an_observation_sent_ahead_of_its_date_counts_once_that_date_passes(session):
    f.metric(session, "seats", Direction.HIGHER, "seats")
    cust = f.customer(session)
    goal = f.goal(session, cust, metric_key="seats", target=55, start=date(2026, 11, 1))
    # The third day over the target is dated 12 hours after the refresh, sent the day before.
    ahead = NOW + timedelta(hours=12)
    f.observe(session, cust, "seats", [40, 40, 60, 60, 60], end=ahead, ingested_at=EARLIER)
    session.execute(update(Goal).values(updated_at=EARLIER))
    refresh_first_reach(session=session, now=NOW)
    assert session.scalar(select(GoalFirstReach.valid_until)) == ahead

    assert _found(session, NOW + timedelta(hours=1)) == []  # not reached yet at that time
    assert _found(session, NOW + timedelta(hours=13)) == [(goal.id, ahead - timedelta(days=2))]


def test_the_watermark_waits_for_a_transaction_still_open_and_follows_the_database_clock(
    session, engine
):
    with engine.connect() as other:  # an ingest that began earlier and has not committed yet
        other.execute(text("SELECT 1"))
        began = other.scalar(text("SELECT now()"))
        ahead = datetime.now(UTC) + timedelta(hours=1)  # a jobs host whose clock runs ahead
        refresh_first_reach(session=session, now=ahead)
        since = read_watermark(session, WATERMARK)
        other.rollback()

    own = session.scalar(text("SELECT now()"))
    assert since == min(own, began - INGEST_GRACE)
