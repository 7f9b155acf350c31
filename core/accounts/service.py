"""API keys (created, listed, checked) and user look-ups."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.accounts.models import ApiKey, User
from core.base import Role
from core.errors import Invalid, NotFound

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


def get_user(*, session: Session, user_id: uuid.UUID) -> User:
    """Return a user or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user
