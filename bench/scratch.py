"""A throwaway embedded PostgreSQL with the schema migrated, for one benchmark run."""

import tempfile
from contextlib import contextmanager
from pathlib import Path

from core import db
from core.embedded import start_embedded
from tests.pg import migrate


@contextmanager
def scratch_database(monkeypatch_env: dict[str, str] | None = None):
    """Yield the URL of a fresh migrated database; the core engine points at it meanwhile."""
    import os

    pgdata = Path(tempfile.mkdtemp(prefix="outcomes-bench-pg-"))
    server, url = start_embedded(pgdata, database="bench", cleanup_mode="delete")
    migrate(url)
    saved = dict(os.environ)
    os.environ.update({"DATABASE_URL": url, **(monkeypatch_env or {})})
    db.reset()
    try:
        yield url
    finally:
        os.environ.clear()
        os.environ.update(saved)
        db.reset()
        server.cleanup()
