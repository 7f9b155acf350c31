"""Throwaway PostgreSQL for the test run: embedded pgserver, or the TEST_DATABASE_URL server."""

import os
import tempfile
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from core.embedded import start_embedded, to_sqlalchemy_url

ROOT = Path(__file__).resolve().parent.parent


class TestServer:
    """Creates fresh databases on one server for the whole test session."""

    def __init__(self) -> None:
        self._server = None
        base = os.environ.get("TEST_DATABASE_URL")
        if base:
            self.base_url = to_sqlalchemy_url(base)
        else:
            pgdata = Path(tempfile.mkdtemp(prefix="outcomes-test-pg-"))
            self._server, self.base_url = start_embedded(
                pgdata, database="postgres", cleanup_mode="delete"
            )

    def url_for(self, database: str) -> str:
        return make_url(self.base_url).set(database=database).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection:
        url = make_url(self.base_url).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def create_database(self, name: str) -> str:
        """Drop and create database `name`; return its SQLAlchemy URL."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()


def alembic_config(url: str) -> Config:
    """Alembic config pointed at `url`, with the app's logging left alone."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
