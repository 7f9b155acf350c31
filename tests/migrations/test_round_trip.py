"""The migration chain builds the schema the models describe, and can be undone and redone."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from core.models import Base
from tests.pg import alembic_config


def _tables(url):
    eng = create_engine(url)
    try:
        return set(inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_upgrade_downgrade_upgrade(pg_server):
    url = pg_server.create_database("outcomes_migrations")
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    after_up = _tables(url)
    assert set(Base.metadata.tables) <= after_up

    command.downgrade(cfg, "base")
    assert _tables(url) <= {"alembic_version"}

    command.upgrade(cfg, "head")
    assert _tables(url) == after_up
    pg_server.drop_database("outcomes_migrations")


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
