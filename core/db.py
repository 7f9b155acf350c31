"""Engine and session handling shared by the UI, the API and the jobs."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.embedded import start_embedded, to_sqlalchemy_url
from core.settings import get_settings

_embedded = None


def database_url() -> str:
    """Return DATABASE_URL, or start the embedded server and return its URL."""
    global _embedded
    settings = get_settings()
    if settings.database_url:
        return to_sqlalchemy_url(settings.database_url)
    _embedded, url = start_embedded(settings.data_dir)
    return url


@lru_cache
def get_engine() -> Engine:
    """Return the process-wide engine (created on first use)."""
    return make_engine(database_url())


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine with the pool settings every process uses."""
    options = {"pool_pre_ping": True, **kwargs}
    if "poolclass" not in kwargs:
        # At most 15 connections a process. Ten stay open: a connection beyond the kept ones is
        # closed as soon as it is returned, so an API worker serving ten requests at once with
        # five kept opened and closed a database backend on most requests.
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 5)
    return create_engine(to_sqlalchemy_url(url), **options)


@lru_cache
def get_read_engine() -> Engine:
    """Return the engine of read-only work: DATABASE_READ_URL's (a replica), else the primary's."""
    url = get_settings().database_read_url
    return make_engine(url) if url else get_engine()


@lru_cache
def _factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@lru_cache
def _read_factory() -> sessionmaker[Session]:
    # Every transaction begins READ ONLY, so a read that writes fails on the primary just as it
    # would on a replica, instead of only once a replica is configured.
    readonly = get_read_engine().execution_options(postgresql_readonly=True)
    return sessionmaker(bind=readonly, expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    session = _factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_session_scope() -> Iterator[Session]:
    """Yield a read-only session on the read engine; nothing is committed."""
    session = _read_factory()()
    try:
        yield session
    finally:
        session.close()


def ping(engine: Engine | None = None) -> bool:
    """Return True when the database answers a trivial query."""
    try:
        with (engine or get_engine()).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def reset() -> None:
    """Forget the cached settings, engine and session factory (after the environment changed)."""
    if _factory.cache_info().currsize:
        _factory().kw["bind"].dispose()
    if get_read_engine.cache_info().currsize:
        get_read_engine().dispose()
    _factory.cache_clear()
    _read_factory.cache_clear()
    get_engine.cache_clear()
    get_read_engine.cache_clear()
    get_settings.cache_clear()
