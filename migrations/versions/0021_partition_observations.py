"""usage observations partitioned by month

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

`metric_observations` becomes a table range-partitioned on `observed_at`, rebuilt inside this
migration's transaction (writers wait meanwhile; a failure leaves the old table as it was):

- one partition per UTC month, from the oldest observation's month (at least 24 months back, at
  most 120) to 3 months ahead, plus two catch-alls, `…_before` (MINVALUE to the first month) and
  `…_after` (past the last month to MAXVALUE), so no insert ever misses a partition. Catch-alls
  rather than a DEFAULT partition: with a default, PostgreSQL cannot read the partitions in
  order, and "the latest 60 observations" would start an index scan in every month;
- the rows copied in one INSERT … SELECT;
- every constraint, index and trigger the old table had, read from the catalog rather than
  written out here, so those earlier migrations added survive; then the old table is dropped.

Partitions live in the `partitions` schema, out of the application schema's table list;
core/customers/partitions.py adds the coming months. Downgrade copies the rows back into a plain
table with the same constraints, indexes and triggers.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "metric_observations"
REBUILT = "metric_observations_rebuilt"
SCHEMA = "partitions"
HISTORY_MONTHS = 24  # empty months kept ready for backfills of recent history
OLDEST_MONTHS = 120  # older rows go to the catch-all rather than one partition per month
AHEAD_MONTHS = 3
# What the rebuilt table takes over from the old one besides columns and NOT NULL; constraints,
# indexes and triggers are re-created from their catalog definitions after the copy.
LIKE = (
    "INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE "
    "INCLUDING COMPRESSION INCLUDING COMMENTS INCLUDING STATISTICS"
)


@dataclass(frozen=True)
class Definitions:
    """The table's own constraints, indexes and triggers, as SQL that re-creates them."""

    constraints: list[tuple[str, str]]
    indexes: list[str]
    triggers: list[str]


def upgrade() -> None:
    conn = op.get_bind()
    _hold_writers()
    kept = _definitions(conn)
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(f"CREATE TABLE {REBUILT} (LIKE {TABLE} {LIKE}) PARTITION BY RANGE (observed_at)")
    current, oldest = conn.execute(
        sa.text(
            f"""
            SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date,
                   date_trunc('month', min(observed_at) AT TIME ZONE 'UTC')::date
              FROM {TABLE}
            """
        )
    ).one()
    first = _months_after(current, -HISTORY_MONTHS)
    if oldest is not None:
        first = max(min(first, oldest), _months_after(current, -OLDEST_MONTHS))
    last = _months_after(current, AHEAD_MONTHS)
    month = first
    while month <= last:
        _partition(f"{month:%Y_%m}", _bound(month), _bound(_months_after(month, 1)))
        month = _months_after(month, 1)
    _partition("before", "MINVALUE", _bound(first))
    _partition("after", _bound(_months_after(last, 1)), "MAXVALUE")
    _replace(conn, kept)


def downgrade() -> None:
    conn = op.get_bind()
    _hold_writers()
    kept = _definitions(conn)
    op.execute(f"CREATE TABLE {REBUILT} (LIKE {TABLE} {LIKE})")
    _replace(conn, kept)
    left = conn.scalar(
        sa.text("SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace(:s)"),
        {"s": SCHEMA},
    )
    if left == 0:  # other partitioned tables may live there too
        op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")


def _hold_writers() -> None:
    # A row written after the copy's snapshot would go with the old table; readers carry on.
    op.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")


def _definitions(conn: sa.Connection) -> Definitions:
    """Read the table's constraints, its other indexes and its own triggers from the catalog."""
    constraints = conn.execute(
        sa.text(
            """
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'x', 'c', 'f')
             ORDER BY contype = 'f', conname
            """
        ),
        {"t": TABLE},
    ).all()
    # Indexes backing a key come back with their constraint.
    indexes = conn.scalars(
        sa.text(
            """
            SELECT i.indexdef FROM pg_indexes i
             WHERE i.schemaname = current_schema() AND i.tablename = :t
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                WHERE c.conrelid = CAST(:t AS regclass)
                                  AND c.conname = i.indexname AND c.contype IN ('p', 'u', 'x'))
             ORDER BY i.indexname
            """
        ),
        {"t": TABLE},
    ).all()
    triggers = conn.scalars(
        sa.text(
            """
            SELECT pg_get_triggerdef(oid) FROM pg_trigger
             WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal AND tgparentid = 0
             ORDER BY tgname
            """
        ),
        {"t": TABLE},
    ).all()
    return Definitions([tuple(c) for c in constraints], list(indexes), list(triggers))


def _replace(conn: sa.Connection, kept: Definitions) -> None:
    """Copy every row into the rebuilt table, drop the old one and give the new one its place."""
    columns = ", ".join(
        conn.scalars(
            sa.text(
                """
                SELECT quote_ident(attname) FROM pg_attribute
                 WHERE attrelid = CAST(:t AS regclass) AND attnum > 0
                   AND NOT attisdropped AND attgenerated = ''
                 ORDER BY attnum
                """
            ),
            {"t": TABLE},
        )
    )
    op.execute(f"INSERT INTO {REBUILT} ({columns}) SELECT {columns} FROM {TABLE}")
    op.execute(f"DROP TABLE {TABLE}")
    op.execute(f"ALTER TABLE {REBUILT} RENAME TO {TABLE}")
    for name, definition in kept.constraints:
        _verbatim(conn, f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
    for definition in kept.indexes:
        # A partitioned table's index is defined "ON ONLY" the parent; a plain table has no
        # partitions to leave out, and a partitioned one must build the index in each of them.
        _verbatim(conn, definition.replace(" ON ONLY ", " ON ", 1))
    for definition in kept.triggers:
        _verbatim(conn, definition)
    op.execute(f"ANALYZE {TABLE}")


def _verbatim(conn: sa.Connection, statement: str) -> None:
    # Catalog SQL may hold literals like ':name' or '%' that a bound statement would misread.
    conn.connection.driver_connection.execute(statement)


def _partition(suffix: str, lower: str, upper: str) -> None:
    op.execute(
        f"CREATE TABLE {SCHEMA}.{TABLE}_{suffix} PARTITION OF {REBUILT} "
        f"FOR VALUES FROM ({lower}) TO ({upper})"
    )


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def _months_after(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
