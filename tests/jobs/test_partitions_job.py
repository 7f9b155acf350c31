"""The partition job makes the coming months ready and reports only when it made some."""

from datetime import UTC, datetime

from core.customers.partitions import add_months, month_partitions
from jobs.partitions import observation_partitions


def test_the_job_adds_the_coming_months_then_has_nothing_to_do(session):
    last = month_partitions(session=session)[-1]
    year_later = add_months(last, 12)

    first = observation_partitions(
        session=session, now=datetime(year_later.year, year_later.month, 10, tzinfo=UTC)
    )
    again = observation_partitions(
        session=session, now=datetime(year_later.year, year_later.month, 20, tzinfo=UTC)
    )

    # Up to that month, then 3 months ahead of it.
    assert first["created"][0] == f"metric_observations_{add_months(last, 1):%Y_%m}"
    assert first["created"][-1] == f"metric_observations_{add_months(year_later, 3):%Y_%m}"
    assert len(first["created"]) == 15
    assert again == {}


def test_nothing_to_do_right_after_migrating(session):
    assert observation_partitions(session=session) == {}
