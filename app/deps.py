"""FastAPI dependencies: a database session per request and API-key authentication."""

from collections.abc import Callable, Iterator

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from core.accounts.models import ApiKey
from core.accounts.service import authenticate
from core.base import Role
from core.db import session_scope


def get_session() -> Iterator[Session]:
    """Yield a session committed when the request succeeds."""
    with session_scope() as session:
        yield session


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
    key = authenticate(session=session, token=token.strip())
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This API key is unknown or revoked.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


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
