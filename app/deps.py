"""FastAPI dependencies: a database session per request and API-key authentication.

Dependencies that do no I/O are `async`, so they run on the event loop: a plain one is sent to
the threadpool and back, which costs more than most of them do.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.accounts.models import ApiKey
from core.accounts.service import authenticate_acting, key_use_due, note_key_use
from core.audit.service import act_with_key
from core.base import Role
from core.db import read_session_scope, session_scope
from core.settings import get_settings


@asynccontextmanager
async def _left_in_threadpool(scope: AbstractContextManager[Session]) -> AsyncIterator[Session]:
    """Enter `scope` here and leave it in a thread of its own when its session began a transaction.

    Making a session sends nothing to the database; committing, rolling back or closing one
    that began a transaction does, and must not block the event loop. As FastAPI does for plain
    generator dependencies, the exit neither waits for a thread of the shared limiter (those may
    all wait for the connection it would release) nor stops halfway when the request is cancelled.
    """
    session = scope.__enter__()
    try:
        yield session
    except BaseException as exc:
        if not await _leave(scope, session, type(exc), exc, exc.__traceback__):
            raise
    else:
        await _leave(scope, session, None, None, None)


async def _leave(scope: AbstractContextManager[Session], session: Session, *exc_info) -> bool:
    if not session.in_transaction():
        return bool(scope.__exit__(*exc_info))
    with CancelScope(shield=True):
        return bool(await to_thread.run_sync(scope.__exit__, *exc_info, limiter=CapacityLimiter(1)))


async def get_session() -> AsyncIterator[Session]:
    """Yield a session committed when the request succeeds."""
    async with _left_in_threadpool(session_scope()) as session:
        yield session


async def get_read_session(session: Session = Depends(get_session)) -> AsyncIterator[Session]:
    """Yield a read-only session on DATABASE_READ_URL's replica, else the request's own session.

    For GET routes. Without a replica they share the request's session, so a request still holds
    one connection at most.
    """
    if not get_settings().database_read_url:
        yield session
        return
    async with _left_in_threadpool(read_session_scope()) as replica:
        yield replica


@dataclass(frozen=True)
class Caller:
    """The key making the request and the email of the person it acts as (None: unbound)."""

    key: ApiKey
    acts_as: str | None


def caller(request: Request, session: Session = Depends(get_session)) -> Caller:
    """Return the caller's key from `Authorization: Bearer <key>`, or answer 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Send an API key as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = _authenticate(session, token.strip())
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This API key is unknown or revoked, or the person it acts as is no longer active.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    act_with_key(session=session, api_key_id=found.key.id)
    return found


async def api_key(found: Caller = Depends(caller)) -> ApiKey:
    """Return the caller's key, or answer 401."""
    return found.key


def _authenticate(session: Session, token: str) -> Caller | None:
    """Check the key, and note its use, on a connection of its own, never the request's.

    Writing `last_used_at` in the request's transaction held the key's row lock until the request
    ended, so every request on one key queued behind the one before. The check runs before the
    request's session takes its connection, so a request never holds two at once; it runs in
    autocommit (each statement its own transaction) to spare the round trips of BEGIN and COMMIT.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine):  # a session on its caller's connection (tests): use it
        found = authenticate_acting(session=session, token=token)
        if found is not None and key_use_due(found[0]):
            _noted(found[0], note_key_use(connection=session.connection(), key_id=found[0].id))
        return None if found is None else Caller(*found)
    with Session(bind=_autocommit(bind)) as own:
        found = authenticate_acting(session=own, token=token)
        if found is None:
            return None
        key = found[0]
        own.expunge(key)  # a plain record of the key for the request; never written back
        if key_use_due(key):
            _noted(key, note_key_use(connection=own.connection(), key_id=key.id))
    return Caller(*found)


@lru_cache(maxsize=4)
def _autocommit(engine: Engine) -> Engine:
    """Return `engine` with autocommit connections (the same pool)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _noted(key: ApiKey, used_at: datetime | None) -> None:
    if used_at is not None:
        set_committed_value(key, "last_used_at", used_at)  # not a change to flush


def require_roles(*roles: Role) -> Callable[[ApiKey], Awaitable[ApiKey]]:
    """Return a dependency that lets only keys of `roles` through (403 otherwise)."""
    allowed = set(roles)

    async def check(key: ApiKey = Depends(api_key)) -> ApiKey:
        if key.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"A '{key.role}' key may not do this; it needs one of: {names}.",
            )
        return key

    return check


ANY_ROLE = tuple(Role)
