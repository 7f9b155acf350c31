"""Migration 0021 partitions a populated metric_observations by month and can undo it.

The database is built at 0020 and given observations across several months, related rows, and an
index, a CHECK constraint and a trigger of the kind another migration could have added; upgrading
must keep every row exactly and every definition, downgrading must give the plain table back.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.customers.partitions import add_months, ensure_partitions
from tests.pg import alembic_config

DATABASE = "outcomes_partitioning"
CUSTOMER = "INSERT INTO customers (name, industry, segment, region, arr, consent_level) VALUES "
ROWS = text(
    "SELECT customer_id, metric_key, observed_at, value, source, ingested_at "
    "FROM metric_observations ORDER BY customer_id, metric_key, observed_at"
)
CONSTRAINTS = text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'metric_observations'::regclass ORDER BY conname"
)
INDEXES = text(
    "SELECT indexname, replace(indexdef, ' ON ONLY ', ' ON ') FROM pg_indexes "
    "WHERE tablename = 'metric_observations' ORDER BY indexname"
)
TRIGGERS = text(
    "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
    "WHERE tgrelid = 'metric_observations'::regclass AND NOT tgisinternal AND tgparentid = 0"
)
# What another migration (say detection's) might have added to the table before 0021.
ADDED_BY_OTHERS = (
    "CREATE INDEX ix_metric_observations_recent_source ON metric_observations "
    "(lower(source), ingested_at DESC) WHERE value >= 0 AND source <> 'to :do 100%'",
    "ALTER TABLE metric_observations ADD CONSTRAINT ck_metric_observations_sane "
    "CHECK (value > -1000000000)",
    "CREATE FUNCTION observations_trimmed() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.source := btrim(NEW.source); RETURN NEW; END $$",
    "CREATE TRIGGER trim_source BEFORE INSERT ON metric_observations "
    "FOR EACH ROW EXECUTE FUNCTION observations_trimmed()",
)


def _month(months_back: int) -> date:
    today = datetime.now(UTC).date()
    return add_months(today.replace(day=1), -months_back)


def _at(month: date, day: int, hour: int = 12) -> datetime:
    return datetime(month.year, month.month, day, hour, tzinfo=UTC)


@pytest.fixture
def database(pg_server):
    url = pg_server.create_database(DATABASE)
    command.upgrade(alembic_config(url), "0020")
    engine = create_engine(url)
    yield url, engine
    engine.dispose()
    pg_server.drop_database(DATABASE)


def _seed(conn) -> tuple[str, str]:
    """Two customers with contacts, two metrics, observations over 30 months; return the ids."""
    a, b = conn.scalars(
        text(
            CUSTOMER + "('Acme', 'Retail', 'smb', 'NA', 1000, 'internal_only'), "
            "('Globex', 'Energy', 'enterprise', 'EU', 250000.50, 'logo') RETURNING id"
        )
    ).all()
    conn.execute(
        text(
            "INSERT INTO metrics (key, name, unit, kind, direction) VALUES "
            "('seats', 'Seats', 'seats', 'adoption', 'higher_is_better'), "
            "('tickets', 'Tickets', 'tickets', 'usage', 'lower_is_better')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO customer_contacts (customer_id, name, email, is_primary) VALUES "
            "(:a, 'Ann', 'ann@acme.example', true), (:b, 'Bo', 'bo@globex.example', true)"
        ),
        {"a": a, "b": b},
    )
    oldest, year, recent, current = _month(30), _month(13), _month(2), _month(0)
    first_of_recent = _at(recent, 1, 0)
    points = [
        (a, "seats", _at(oldest, 3), "10.5000"),
        (a, "seats", _at(year, 28), "12.1234"),
        (a, "seats", first_of_recent, "13"),  # a month's first instant, UTC
        (a, "seats", first_of_recent - timedelta(microseconds=1), "12.9999"),
        (a, "tickets", _at(recent, 15), "-4.25"),
        (a, "tickets", _at(current, 1, 6), "0"),
        (b, "seats", _at(year, 2), "250000.0001"),
        (b, "tickets", _at(current, 1, 7), "99999999.9999"),
    ]
    conn.execute(
        text(
            "INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, "
            "source, ingested_at) VALUES (:c, :k, :at, CAST(:v AS numeric), :s, :ing)"
        ),
        [
            {"c": c, "k": k, "at": at, "v": v, "s": f"src-{i}", "ing": at + timedelta(hours=i)}
            for i, (c, k, at, v) in enumerate(points)
        ],
    )
    for statement in ADDED_BY_OTHERS:  # verbatim: no bound parameters in them
        conn.connection.driver_connection.execute(statement)
    return a, b


def _catalog(conn) -> tuple:
    return tuple(conn.execute(q).all() for q in (CONSTRAINTS, INDEXES, TRIGGERS))


def _relkind(conn) -> str:
    return conn.scalar(
        text("SELECT relkind FROM pg_class WHERE oid = 'metric_observations'::regclass")
    )


def test_partitioning_keeps_every_row_and_definition_and_can_be_undone(database):
    url, engine = database
    with engine.begin() as conn:
        a, b = _seed(conn)
    with engine.connect() as conn:
        rows, catalog = conn.execute(ROWS).all(), _catalog(conn)
        related = conn.execute(text("SELECT count(*) FROM customer_contacts")).scalar()
    assert len(rows) == 8 and len(catalog[1]) == 4 and len(catalog[2]) == 1

    command.upgrade(alembic_config(url), "head")

    with engine.connect() as conn:
        assert _relkind(conn) == "p"
        assert (
            conn.scalar(
                text(
                    "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = "
                    "'metric_observations'::regclass"
                )
            )
            == "r"
        )
        assert conn.execute(ROWS).all() == rows
        assert _catalog(conn) == catalog
        assert conn.execute(text("SELECT count(*) FROM customer_contacts")).scalar() == related
        # Each row sits in its UTC month's partition, the oldest month included.
        homes = conn.execute(
            text(
                "SELECT tableoid::regclass::text, to_char(observed_at AT TIME ZONE 'UTC', "
                "'YYYY_MM') FROM metric_observations"
            )
        ).all()
        assert {home for home, _ in homes} >= {f"partitions.metric_observations_{_month(30):%Y_%m}"}
        assert all(home == f"partitions.metric_observations_{month}" for home, month in homes)
        # Every partition has the indexes too, not only the parent.
        invalid = conn.scalar(
            text(
                "SELECT count(*) FROM pg_index WHERE NOT indisvalid AND indrelid IN "
                "(SELECT inhrelid FROM pg_inherits WHERE inhparent = "
                "'metric_observations'::regclass)"
            )
        )
        assert invalid == 0

    # A new month, past the months made ahead: stored at once, moved into its own month later.
    later = _at(_month(-6), 9)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, "
                "source) VALUES (:c, 'seats', :at, 21, '  api ')"
            ),
            {"c": b, "at": later},
        )
        with Session(bind=conn) as session:
            ensure_partitions(session=session, now=later, ahead=1)
    with engine.connect() as conn:
        home, source = conn.execute(
            text(
                "SELECT tableoid::regclass::text, source FROM metric_observations "
                "WHERE observed_at = :at"
            ),
            {"at": later},
        ).one()
    assert (home, source) == (f"partitions.metric_observations_{later:%Y_%m}", "api")

    # The foreign keys hold on the partitioned table: an unknown customer is refused, and a
    # deleted customer's observations go with it, in every month.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, "
                "source) VALUES (gen_random_uuid(), 'seats', now(), 1, 'api')"
            )
        )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM customers WHERE id = :b"), {"b": b})
        assert conn.scalar(text("SELECT count(*) FROM metric_observations")) == 6

    command.downgrade(alembic_config(url), "0020")

    with engine.connect() as conn:
        assert _relkind(conn) == "r"
        assert conn.execute(ROWS).all() == [r for r in rows if r.customer_id == a]
        assert _catalog(conn) == catalog
        assert conn.scalar(text("SELECT to_regnamespace('partitions')")) is None
