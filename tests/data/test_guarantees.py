"""The demo data generator's guarantees: determinism, schema left intact, seeding guards."""

import pytest

from data import demo, observations
from tests.data.helpers import AS_OF, CUSTOMERS, HISTORY_TABLES, TABLES, fingerprint, one, rows


def test_schema_is_left_exactly_as_migrated(connection):
    sql = (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(:t) UNION ALL "
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) ORDER BY 1, 2"
    )
    tables = list(TABLES + HISTORY_TABLES)
    before = rows(connection, sql, t=tables)
    demo.generate(connection, customers=3, seed=1, as_of=AS_OF)
    assert rows(connection, sql, t=tables) == before


def test_same_inputs_give_identical_data_and_another_seed_does_not(connection):
    savepoint = connection.begin_nested()
    demo.generate(connection, customers=CUSTOMERS, seed=5, as_of=AS_OF)
    first = fingerprint(connection)
    savepoint.rollback()
    assert one(connection, "SELECT count(*) FROM customers") == 0

    savepoint = connection.begin_nested()
    demo.generate(connection, customers=CUSTOMERS, seed=5, as_of=AS_OF)
    assert fingerprint(connection) == first
    savepoint.rollback()

    demo.generate(connection, customers=CUSTOMERS, seed=6, as_of=AS_OF)
    other = fingerprint(connection)
    changed = {t for t in other if other[t] != first[t]}
    assert {"customers", "metric_observations", "goals", "customer_feedback"} <= changed
    assert {"upsell_measurements", "upsell_outcomes", "goal_achievements"} <= changed


def test_piped_load_writes_the_same_observations(connection, monkeypatch):
    savepoint = connection.begin_nested()
    demo.generate(connection, customers=8, seed=2, as_of=AS_OF)
    direct = fingerprint(connection, ("metric_observations", "goals"))
    savepoint.rollback()
    monkeypatch.setattr(observations, "PIPE_MIN_SERIES", 1)
    demo.generate(connection, customers=8, seed=2, as_of=AS_OF)
    assert fingerprint(connection, ("metric_observations", "goals")) == direct


def test_seed_if_empty_seeds_once(connection):
    assert demo.seed_if_empty(connection, customers=4, seed=1, as_of=AS_OF) is True
    assert demo.seed_if_empty(connection, customers=4, seed=1, as_of=AS_OF) is False
    assert one(connection, "SELECT count(*) FROM customers") == 4


def test_generate_needs_a_customer(connection):
    with pytest.raises(ValueError):
        demo.generate(connection, customers=0)


def test_cli_refuses_a_database_that_has_customers(app_db, capsys):
    from core.db import get_engine

    try:
        assert demo.main(["--customers", "5", "--as-of", "2026-01-31"]) == 1
    finally:
        get_engine().dispose()
    err = capsys.readouterr().err.strip()
    assert "--reset" in err and err.count("\n") == 0
