"""Monthly partitions of usage observations: the coming months get theirs before their data.

`metric_observations` is range-partitioned by UTC month on `observed_at` (migration 0021), its
partitions in the `partitions` schema: one per month, and two catch-alls around them, `…_before`
(older than the first month) and `…_after` (past the last one), so an insert never misses. The
`observation_partitions` job keeps months ready `AHEAD_MONTHS` ahead, so new observations land
in their month and `…_after` stays empty.
"""

import re
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

TABLE = "metric_observations"
SCHEMA = "partitions"
AFTER = f"{SCHEMA}.{TABLE}_after"
AHEAD_MONTHS = 3
# Creating a partition locks the whole table for a moment; rather than queue behind a long
# reader (and make every other query queue behind us), give up and try on the next run.
LOCK_TIMEOUT = "5s"
MONTH_NAME = re.compile(rf"{TABLE}_(\d{{4}})_(\d{{2}})")

PARTITIONS = text(
    """
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = CAST(:table AS regclass)
    """
)
COLUMNS = text(
    """
    SELECT quote_ident(attname) FROM pg_attribute
     WHERE attrelid = CAST(:table AS regclass) AND attnum > 0
       AND NOT attisdropped AND attgenerated = ''
     ORDER BY attnum
    """
)


def month_partitions(*, session: Session) -> list[date]:
    """Return the first day of each month that has its own partition, oldest first."""
    names = session.scalars(PARTITIONS, {"table": TABLE})
    found = (MONTH_NAME.fullmatch(name) for name in names)
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


def ensure_partitions(*, session: Session, now: datetime, ahead: int = AHEAD_MONTHS) -> list[str]:
    """Create the monthly partitions through `ahead` months past `now`'s; return their names.

    The new months are cut from the `…_after` catch-all: it is dropped and created again past
    them, and its rows (normally none) are inserted anew, each into its month.
    """
    until = add_months(date(now.year, now.month, 1), ahead)
    months = month_partitions(session=session)
    if months and months[-1] >= until:
        return []
    previous = session.scalar(text("SELECT current_setting('lock_timeout')"))
    session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": LOCK_TIMEOUT})
    # Writers wait until the partitions are swapped (a row they put in `…_after` meanwhile would
    # go with it), readers carry on; a second caller waits here, then finds the months made.
    session.execute(text(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE"))
    months = month_partitions(session=session)
    if not months:
        raise RuntimeError(f"{TABLE} has no monthly partitions; run `alembic upgrade head`.")
    created, month = [], add_months(months[-1], 1)
    if month <= until:
        columns = ", ".join(session.scalars(COLUMNS, {"table": TABLE}))
        session.execute(text(f"CREATE TEMPORARY TABLE carried AS SELECT {columns} FROM {AFTER}"))
        session.execute(text(f"DROP TABLE {AFTER}"))
        while month <= until:
            name = f"{TABLE}_{month:%Y_%m}"
            _partition(session, name, _bound(month), _bound(add_months(month, 1)))
            created.append(name)
            month = add_months(month, 1)
        _partition(session, f"{TABLE}_after", _bound(month), "MAXVALUE")
        session.execute(text(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM carried"))
        session.execute(text("DROP TABLE carried"))
    session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": previous})
    return created


def add_months(month: date, months: int) -> date:
    """Return the first day of the month `months` after `month`'s (before it when negative)."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _partition(session: Session, name: str, lower: str, upper: str) -> None:
    session.execute(
        text(
            f"CREATE TABLE {SCHEMA}.{name} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ({lower}) TO ({upper})"
        )
    )


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"
