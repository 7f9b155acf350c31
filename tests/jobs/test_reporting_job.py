"""The report upkeep job stores first reaches, and keeps no run when nothing changed."""

from datetime import date, timedelta

from sqlalchemy import update

from core.base import Direction
from core.goals.models import Goal
from jobs.reporting import achievement_capture
from tests import factories as f


def test_the_job_reads_new_goals_then_has_nothing_to_do(session):
    f.metric(session, "seats", Direction.HIGHER, "seats")
    cust = f.customer(session)
    f.goal(session, cust, metric_key="seats", target=55, start=date(2026, 11, 1))
    day_before = f.NOW - timedelta(days=1)
    f.observe(session, cust, "seats", [40, 60, 60, 60], end=day_before, ingested_at=day_before)
    session.execute(update(Goal).values(updated_at=day_before))  # set up the day before

    first = achievement_capture(session=session, now=f.NOW)
    idle = achievement_capture(session=session, now=f.NOW + timedelta(minutes=10))

    assert first == {"goals_read": 1}
    assert idle == {}
