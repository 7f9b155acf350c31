"""API keys (created, listed, checked) and user look-ups."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.accounts.models import ApiKey, User
from core.base import Role
from core.errors import Forbidden, Invalid, NotFound

KEY_PREFIX = "oc_"


def hash_key(token: str) -> str:
    """Return the stored form of a key (keys are long random strings, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(*, session: Session, name: str, role: Role | str) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise Invalid("A key needs a name, e.g. the system that will use it.")
    try:
        role = Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid(f"Unknown role {role!r}; use one of: {allowed}.") from exc
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role, prefix=token[:10], key_hash=hash_key(token))
    session.add(key)
    session.flush()
    return key, token


def authenticate(*, session: Session, token: str) -> ApiKey | None:
    """Return the active key matching `token` and note its use, or None."""
    if not token or not token.startswith(KEY_PREFIX):
        return None
    key = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(token), ApiKey.revoked.is_(False))
    )
    if key is not None:
        session.execute(
            update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=datetime.now(UTC))
        )
    return key


def list_api_keys(*, session: Session) -> list[ApiKey]:
    """Return every key, newest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())))


def revoke_api_key(*, session: Session, key_id: uuid.UUID | str) -> ApiKey:
    """Revoke a key by id or by its visible prefix."""
    key = None
    try:
        key = session.get(ApiKey, uuid.UUID(str(key_id)))
    except ValueError:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == str(key_id)))
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    key.revoked = True
    session.flush()
    return key


def find_active_user(
    *, session: Session, user_id: uuid.UUID | None = None, email: str | None = None
) -> User | None:
    """Return the active user with this id or (case-insensitive) email, or None."""
    stmt = select(User).where(User.active.is_(True))
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    if email is not None:
        stmt = stmt.where(func.lower(User.email) == email.strip().lower())
    return session.scalar(stmt)


def user_by_email(*, session: Session, email: str, field: str) -> User:
    """Return the active user with `email`, or Invalid naming the input `field`."""
    user = find_active_user(session=session, email=email)
    if user is None:
        raise Invalid(f"{field}: no active user with email '{email}'.")
    return user


def person(*, session: Session, email: str, roles: set[Role], field: str, action: str) -> User:
    """Return the active user with `email`; Invalid if unknown, Forbidden if their role may not."""
    user = user_by_email(session=session, email=email, field=field)
    if user.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(
            f"{field}: {user.email} is a {user.role.value} user and may not {action}; "
            f"that needs one of: {allowed}."
        )
    return user


def acting_user(*, session: Session, user_id: uuid.UUID) -> User:
    """Return the signed-in person acting in the UI; NotFound once their account is gone."""
    user = find_active_user(session=session, user_id=user_id)
    if user is None:
        raise NotFound("Your user account no longer exists; sign in again.")
    return user
