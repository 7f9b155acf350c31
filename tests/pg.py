"""Throwaway PostgreSQL for the test run: embedded pgserver, or the TEST_DATABASE_URL server.

Under pytest-xdist every worker gets its own embedded server (in its own temp dir) and suffixes
every database name with its worker id (`outcomes_test_gw0`), so workers sharing a
TEST_DATABASE_URL server never drop each other's databases.
"""

import os
import tempfile
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from core.embedded import start_embedded, to_sqlalchemy_url

ROOT = Path(__file__).resolve().parent.parent


def worker_id() -> str:
    """The pytest-xdist worker running this process ("gw0", "gw1", ...), or "" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


class TestServer:
    """Creates fresh databases on one server for the whole test session (one per xdist worker).

    Callers name databases as if they were alone ("outcomes_test"); under xdist the real name
    carries the worker id ("outcomes_test_gw0").
    """

    def __init__(self, worker: str | None = None) -> None:
        self._server = None
        self.worker = worker_id() if worker is None else worker
        base = os.environ.get("TEST_DATABASE_URL")
        if base:
            self.base_url = to_sqlalchemy_url(base)
        else:
            prefix = f"outcomes-test-pg-{self.worker}-" if self.worker else "outcomes-test-pg-"
            pgdata = Path(tempfile.mkdtemp(prefix=prefix))
            self._server, self.base_url = start_embedded(
                pgdata, database="postgres", cleanup_mode="delete"
            )

    def name_for(self, database: str) -> str:
        """The real name of this worker's database `database`."""
        return f"{database}_{self.worker}" if self.worker else database

    def url_for(self, database: str) -> str:
        real = self.name_for(database)
        return make_url(self.base_url).set(database=real).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection:
        url = make_url(self.base_url).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def create_database(self, name: str) -> str:
        """Drop and create this worker's database `name`; return its SQLAlchemy URL."""
        real = self.name_for(name)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{real}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{real}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name_for(name)}" WITH (FORCE)')

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
