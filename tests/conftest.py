"""Shared fixtures: one Postgres per run (per xdist worker), schema by Alembic, tests in rolled-back
transactions. Database names get the worker id as suffix under xdist (see tests/pg.py)."""

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from core import db
from core.models import Base
from tests.pg import TestServer, migrate

pytest_plugins = ["tests.fakes.fixtures"]

DEMO_CUSTOMERS = 60
DEMO_SEED = 11


@pytest.fixture(scope="session")
def pg_server():
    server = TestServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def db_url(pg_server):
    """An empty, migrated database that tests use only inside rolled-back transactions."""
    url = pg_server.create_database("outcomes_test")
    migrate(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url):
    eng = create_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session(connection):
    """An ORM session whose commits become savepoints of the test's transaction."""
    sess = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield sess
    sess.close()


@pytest.fixture(scope="session")
def demo_url(pg_server):
    """A migrated database holding a small committed demo dataset (read-only for tests)."""
    from data.demo import generate

    url = pg_server.create_database("outcomes_demo")
    migrate(url)
    eng = create_engine(url)
    with eng.begin() as conn:
        generate(conn, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    eng.dispose()
    return url


@pytest.fixture
def app_db(demo_url, monkeypatch):
    """Point the app's own engine (core.db) at the demo database for this test."""
    monkeypatch.setenv("DATABASE_URL", demo_url)
    db.reset()
    yield demo_url
    db.reset()


def pytest_configure(config):
    # Tests never talk to real Slack/Google/Salesforce, whatever the developer's shell has set.
    for name in list(os.environ):
        if name.startswith(("SLACK_", "GOOGLE_", "SALESFORCE_")):
            os.environ.pop(name)


@pytest.fixture(scope="session")
def scratch_url(pg_server):
    """A migrated database for tests that must commit (processes, concurrency)."""
    url = pg_server.create_database("outcomes_scratch")
    migrate(url)
    return url


@pytest.fixture
def scratch_db(scratch_url, monkeypatch):
    """Point the app at the scratch database; empty every table afterwards."""
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    db.reset()
    yield scratch_url
    db.reset()
    eng = create_engine(scratch_url)
    with eng.begin() as conn:
        tables = list(reversed(Base.metadata.sorted_tables))
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
    eng.dispose()
