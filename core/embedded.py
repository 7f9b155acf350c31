"""Start (or attach to) the embedded PostgreSQL server that lives in DATA_DIR."""

import logging
import warnings
from pathlib import Path

APP_DATABASE = "outcomes"


def _silence_noise() -> None:
    # pgserver's dependencies warn about XDG dirs on headless machines; nothing to act on.
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def start_embedded(
    data_dir: Path, *, database: str = APP_DATABASE, cleanup_mode: str | None = "stop"
):
    """Start the server in data_dir/pg, create `database` if missing; return (server, url)."""
    _silence_noise()
    import pgserver

    pgdata = Path(data_dir).resolve() / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server, to_sqlalchemy_url(server.get_uri(database))


def to_sqlalchemy_url(uri: str) -> str:
    """Turn a libpq URI into one SQLAlchemy drives with psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri
