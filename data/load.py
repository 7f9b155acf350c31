"""Low-level helpers: seeded ids and draws, COPY loads, and bulk-load index handling."""

import json
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from psycopg import sql
from sqlalchemy import Connection


def new_id(rng: random.Random) -> uuid.UUID:
    """Return a version-4 UUID drawn from `rng` (never from the OS)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def stream(seed: int, name: str) -> random.Random:
    """Return an independent random stream, so one part's draws never shift another's."""
    return random.Random(f"outcomes-demo:{seed}:{name}")


def quota(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    """Return n labels in proportion to `weights` (every label present when n allows), shuffled."""
    total = sum(weights.values())
    counts = {label: max(1, n * w // total) for label, w in weights.items()}
    while sum(counts.values()) > n:  # tiny n: trim the most common label first
        counts[max(counts, key=counts.get)] -= 1
    while sum(counts.values()) < n:
        counts[rng.choices(list(weights), list(weights.values()))[0]] += 1
    labels = [label for label, count in counts.items() for _ in range(count)]
    rng.shuffle(labels)
    return labels


def at(day: date, rng: random.Random, start_hour: int = 8, end_hour: int = 18) -> datetime:
    """Return a UTC timestamp on `day` within working hours."""
    seconds = rng.randrange(start_hour * 3600, end_hour * 3600)
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=seconds)


def midnight(day: date) -> datetime:
    """Return 00:00 UTC of `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def as_json(value) -> str:
    """Serialise a JSONB value as stable text."""
    return json.dumps(value, sort_keys=True)


def driver(conn: Connection | psycopg.Connection) -> psycopg.Connection:
    """Return the psycopg connection under a SQLAlchemy one (or the psycopg one given)."""
    return conn.connection.driver_connection if isinstance(conn, Connection) else conn


def copy_rows(conn, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows into `table` through a (SQLAlchemy or psycopg) connection; return how many."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with driver(conn).cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _exec(conn: Connection, statement: str, params: Sequence = ()) -> list[tuple]:
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


@contextmanager
def rebuilt_afterwards(conn: Connection, table: str, *, indexes: bool = True) -> Iterator[None]:
    """Drop `table`'s foreign keys (and, with `indexes`, its keys and indexes) for a bulk load.

    PostgreSQL's own advice for populating a table: one anti-join per foreign key and one build
    per index afterwards are far cheaper than checking and maintaining them row by row. The
    definitions are read from the catalog and recreated verbatim; everything happens inside the
    caller's transaction, so a failure rolls them back too.
    """
    oid = _exec(conn, "SELECT %s::regclass::oid", (table,))[0][0]
    constraints = _exec(
        conn,
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s AND contype IN ('f', 'p', 'u') ORDER BY conname",
        (oid,),
    )
    foreign = [(n, d) for n, kind, d in constraints if kind == "f"]
    keys, plain = [], []
    # Keys other tables point at must stay; so do the indexes then (small tables anyway).
    if indexes and not _exec(conn, "SELECT 1 FROM pg_constraint WHERE confrelid = %s", (oid,)):
        keys = [(n, d) for n, kind, d in constraints if kind != "f"]
        # BRIN stays: rows landing in not-yet-summarized ranges cost it nothing.
        plain = _exec(
            conn,
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE i.indrelid = %s AND a.amname <> 'brin' AND NOT EXISTS (SELECT 1 FROM "
            "pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = %s) ORDER BY 1",
            (oid, oid),
        )
    table_id = sql.Identifier(table)
    drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}")
    add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}")
    for conname, _ in foreign + keys:
        _exec(conn, drop.format(table_id, sql.Identifier(conname)))
    for index_name, _ in plain:
        _exec(conn, sql.SQL("DROP INDEX {}").format(sql.SQL(index_name)))
    yield
    for conname, definition in keys:
        _exec(conn, add.format(table_id, sql.Identifier(conname), sql.SQL(definition)))
    for _, definition in plain:
        # A partitioned table's index reads "ON ONLY" the parent; built anew it must cover each
        # partition too (metric_observations, migration 0021).
        _exec(conn, sql.SQL(definition.replace(" ON ONLY ", " ON ", 1)))
    for conname, definition in foreign:
        _exec(conn, add.format(table_id, sql.Identifier(conname), sql.SQL(definition)))
