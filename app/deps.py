"""FastAPI dependencies: a database session per request and API-key authentication."""

from collections.abc import Callable, Iterator
from datetime import datetime

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.accounts.models import ApiKey
from core.accounts.service import authenticate, key_use_due, note_key_use
from core.audit.service import act_with_key
from core.base import Role
from core.db import read_session_scope, session_scope
from core.settings import get_settings


def get_session() -> Iterator[Session]:
    """Yield a session committed when the request succeeds."""
    with session_scope() as session:
        yield session


def get_read_session(session: Session = Depends(get_session)) -> Iterator[Session]:
    """Yield a read-only session on DATABASE_READ_URL's replica, else the request's own session.

    For GET routes. Without a replica they share the request's session, so a request still holds
    one connection at most.
    """
    if not get_settings().database_read_url:
        yield session
        return
    with read_session_scope() as replica:
        yield replica


def api_key(request: Request, session: Session = Depends(get_session)) -> ApiKey:
    """Return the caller's key from `Authorization: Bearer <key>`, or answer 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Send an API key as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = _authenticate(session, token.strip())
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This API key is unknown or revoked, or the person it acts as is no longer active.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    act_with_key(session=session, api_key_id=key.id)
    return key


def _authenticate(session: Session, token: str) -> ApiKey | None:
    """Check the key, and note its use, in a short transaction of its own, never the request's.

    Writing `last_used_at` in the request's transaction held the key's row lock until the request
    ended, so every request on one key queued behind the one before. The check runs before the
    request's session takes its connection, so a request never holds two at once.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine):  # a session on its caller's connection (tests): use it
        key = authenticate(session=session, token=token)
        if key is not None and key_use_due(key):
            _noted(key, note_key_use(connection=session.connection(), key_id=key.id))
        return key
    with Session(bind=bind) as own, own.begin():
        key = authenticate(session=own, token=token)
        if key is None:
            return None
        own.expunge(key)  # a plain record of the key for the request; never written back
        if key_use_due(key):
            _noted(key, note_key_use(connection=own.connection(), key_id=key.id))
    return key


def _noted(key: ApiKey, used_at: datetime | None) -> None:
    if used_at is not None:
        set_committed_value(key, "last_used_at", used_at)  # not a change to flush


def require_roles(*roles: Role) -> Callable[[ApiKey], ApiKey]:
    """Return a dependency that lets only keys of `roles` through (403 otherwise)."""
    allowed = set(roles)

    def check(key: ApiKey = Depends(api_key)) -> ApiKey:
        if key.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"A '{key.role}' key may not do this; it needs one of: {names}.",
            )
        return key

    return check


ANY_ROLE = tuple(Role)
