"""Monthly partitions of usage observations: the coming months made ahead, nothing misplaced."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import text

from core.customers.partitions import add_months, ensure_partitions, month_partitions
from tests import factories as f

WHERE = text(
    "SELECT tableoid::regclass::text, value FROM metric_observations "
    "WHERE customer_id = :c ORDER BY observed_at"
)


def _at(month, day=15) -> datetime:
    return datetime.combine(month.replace(day=day), time(12), tzinfo=UTC)


def test_the_coming_months_get_their_partitions_once(session):
    last = month_partitions(session=session)[-1]
    now = _at(add_months(last, 1))

    created = ensure_partitions(session=session, now=now, ahead=2)

    wanted = [add_months(last, i) for i in (1, 2, 3)]
    assert created == [f"metric_observations_{m:%Y_%m}" for m in wanted]
    assert month_partitions(session=session)[-3:] == wanted
    assert ensure_partitions(session=session, now=now, ahead=2) == []
    # Its short lock timeout was for itself only.
    assert session.scalar(text("SHOW lock_timeout")) == "0"


def test_rows_past_the_last_month_move_into_their_new_month(session):
    cust = f.customer(session)
    f.metric(session)
    last = month_partitions(session=session)[-1]
    soon, much_later = _at(add_months(last, 2), day=1), _at(add_months(last, 60))
    f.observe_at(session, cust, "active_users", {soon: 7.5, much_later: 9})
    before = session.execute(WHERE, {"c": cust.id}).all()
    assert [p for p, _ in before] == ["partitions.metric_observations_after"] * 2

    ensure_partitions(session=session, now=soon, ahead=0)

    after = session.execute(WHERE, {"c": cust.id}).all()
    assert after == [
        (f"partitions.metric_observations_{soon:%Y_%m}", Decimal("7.5000")),
        ("partitions.metric_observations_after", Decimal("9.0000")),
    ]


def test_rows_older_than_the_first_month_land_in_the_catch_all(session):
    cust = f.customer(session)
    f.metric(session)
    first = month_partitions(session=session)[0]
    f.observe_at(session, cust, "active_users", {_at(add_months(first, -1)): 3, _at(first): 4})

    where = [p for p, _ in session.execute(WHERE, {"c": cust.id})]

    assert where == [
        "partitions.metric_observations_before",
        f"partitions.metric_observations_{first:%Y_%m}",
    ]


def test_months_count_across_years():
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 12, 1), -24) == date(2024, 12, 1)
