"""A second database standing in for a read replica: the schema, and rows only it holds."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine

from tests.pg import TestServer, migrate


@contextmanager
def replica_database(server: TestServer, name: str) -> Iterator[tuple[str, object]]:
    """Yield (url, engine) of a fresh migrated database `name`; drop it afterwards."""
    url = server.create_database(name)
    migrate(url)
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        server.drop_database(name)
