"""API keys (created, bound to a person, listed, checked, revoked) and user look-ups."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from core import paging
from core.accounts.models import ApiKey, User
from core.accounts.schemas import KEY_NAME_LENGTH, Actor, KeyView
from core.audit.service import record_audit
from core.base import Role
from core.errors import Forbidden, Invalid, NotFound

KEY_PREFIX = "oc_"
KEY_NAME_MAX = KEY_NAME_LENGTH
# How stale `last_used_at` may get: noting every request would write the key's row per request.
KEY_USE_INTERVAL = timedelta(minutes=1)


def hash_key(token: str) -> str:
    """Return the stored form of a key (keys are long random strings, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid(f"role: unknown role {role!r}; use one of: {allowed}.") from exc


def create_api_key(
    *,
    session: Session,
    name: str,
    role: Role | str | None = None,
    user_email: str | None = None,
    actor: Actor | None = None,
    user_field: str = "as",
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is shown once and never stored.

    With `user_email` the key is bound to that active person: it can act only as them and takes
    their role (a different `role` is refused; `user_field` names that input in messages).
    Without it the key is unbound and `role` defaults to admin. An admin's or the command line's
    key is audited as `actor`'s; the demo seed and tests create keys without one.
    """
    if actor is not None:
        require_admin(session=session, actor=actor)
    name = name.strip()
    if not name:
        raise Invalid("name: a key needs a name, e.g. the system that will use it.")
    if len(name) > KEY_NAME_MAX:
        raise Invalid(f"name: {len(name)} characters; the limit is {KEY_NAME_MAX}.")
    user = None
    if user_email is not None:
        user = user_by_email(session=session, email=user_email, field=user_field)
        if role is not None and _role(role) != user.role:
            raise Invalid(
                f"role: a key bound to {user.email} acts with that person's role "
                f"({user.role.value}); leave the role out or use {user.role.value}."
            )
        role = user.role
    role = _role(Role.ADMIN if role is None else role)
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        role=role,
        prefix=token[:10],
        key_hash=hash_key(token),
        user_id=user.id if user else None,
    )
    session.add(key)
    session.flush()
    if actor is not None:
        record_audit(
            session=session,
            actor=actor.label,
            actor_user_id=actor.user_id,
            action="api_key.create",
            entity_type="api_key",
            entity_id=key.id,
            changes={"name": key.name, "role": key.role, "acts_as": user.email if user else None},
        )
    return key, token


# Built once: making the statement anew cost more than running it, and it runs on every request.
_ACTIVE_KEY = (
    select(ApiKey, User.email)
    .outerjoin(User, User.id == ApiKey.user_id)
    .where(
        ApiKey.key_hash == bindparam("key_hash"),
        ApiKey.revoked.is_(False),
        or_(ApiKey.user_id.is_(None), User.active.is_(True)),
    )
)


def authenticate(*, session: Session, token: str) -> ApiKey | None:
    """Return the active key matching `token`, or None (revoked, unknown, or its person left).

    A plain read: noting the use is `note_key_use`, outside the request's transaction.
    """
    found = authenticate_acting(session=session, token=token)
    return found[0] if found else None


def authenticate_acting(*, session: Session, token: str) -> tuple[ApiKey, str | None] | None:
    """Return the active key matching `token` with the email of the person it acts as, or None.

    One indexed read of the key and its person (the email is None for an unbound key), made on
    every request, so a revoked key or a person who left is refused on the very next one.
    """
    if not token or not token.startswith(KEY_PREFIX):
        return None
    row = session.execute(_ACTIVE_KEY, {"key_hash": hash_key(token)}).first()
    return None if row is None else (row[0], row[1])


def key_use_due(key: ApiKey, *, now: datetime | None = None) -> bool:
    """Return True when the key's last use is unknown or older than `KEY_USE_INTERVAL`."""
    now = now or datetime.now(UTC)
    return key.last_used_at is None or now - key.last_used_at >= KEY_USE_INTERVAL


def note_key_use(*, connection: Connection, key_id: uuid.UUID) -> datetime | None:
    """Set the key's `last_used_at` to now unless it was set within the interval; never wait.

    Runs on `connection`, which the caller keeps apart from the request's transaction. A row that
    another transaction holds locked is skipped rather than waited for (that transaction is
    noting a use itself, or an admin is changing the key), so concurrent requests on one key
    never queue behind each other. Returns the new time, or None when nothing was written.
    """
    due = (
        select(ApiKey.id)
        .where(
            ApiKey.id == key_id,
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at <= func.now() - KEY_USE_INTERVAL,
            ),
        )
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return connection.scalar(
        update(ApiKey)
        .where(ApiKey.id == due)
        .values(last_used_at=func.now(), updated_at=ApiKey.updated_at)
        .returning(ApiKey.last_used_at)
    )


KEYS = paging.Keyset(
    "api_keys.newest",
    ((ApiKey.created_at, True), (ApiKey.name, False), (ApiKey.id, False)),
    (datetime.fromisoformat, str, uuid.UUID),
)


def _key_views(
    session: Session, *conditions, limit: int | None = None, cursor: str | None = None
) -> tuple[list[KeyView], str | None]:
    query = select(ApiKey, User.email, User.active).outerjoin(User, User.id == ApiKey.user_id)
    rows = list(session.execute(KEYS.select(query.where(*conditions), cursor=cursor, limit=limit)))
    rows, following = KEYS.cut(
        rows, limit, lambda r: (r.ApiKey.created_at, r.ApiKey.name, r.ApiKey.id)
    )
    views = [
        KeyView(
            id=key.id,
            name=key.name,
            role=key.role,
            prefix=key.prefix,
            revoked=key.revoked,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            user_id=key.user_id,
            user_email=email,
            user_active=active,
        )
        for key, email, active in rows
    ]
    return views, following


def key_view(*, session: Session, key_id: uuid.UUID) -> KeyView:
    """Return one key with the person it is bound to."""
    views, _ = _key_views(session, ApiKey.id == key_id)
    if not views:
        raise NotFound(f"No API key {key_id}.")
    return views[0]


def list_api_keys(*, session: Session) -> list[KeyView]:
    """Return every key with the person it is bound to, newest first."""
    return _key_views(session)[0]


def api_key_page(
    *, session: Session, limit: int | None = None, cursor: str | None = None
) -> tuple[list[KeyView], str | None]:
    """Return keys newest first (a page of them with `limit`) and the next page's cursor."""
    return _key_views(session, limit=limit, cursor=cursor)


def revoke_api_key(
    *, session: Session, key_id: uuid.UUID | str, actor: Actor | None = None
) -> ApiKey:
    """Revoke a key by id or by its visible prefix; revoking a revoked key changes nothing.

    With `actor` (an admin, the command line) the revocation is audited.
    """
    if actor is not None:
        require_admin(session=session, actor=actor)
    key = None
    try:
        key = session.get(ApiKey, uuid.UUID(str(key_id)))
    except ValueError:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == str(key_id)))
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked:
        return key
    key.revoked = True
    session.flush()
    if actor is not None:
        record_audit(
            session=session,
            actor=actor.label,
            actor_user_id=actor.user_id,
            action="api_key.revoke",
            entity_type="api_key",
            entity_id=key.id,
            changes={"name": key.name, "prefix": key.prefix},
        )
    return key


def require_admin(*, session: Session, actor: Actor) -> None:
    """Refuse a person who is not an active admin; a key or the command line is checked elsewhere.

    The API lets only admin keys in, but a key bound to someone keeps the role it was made with,
    so the person it acts as is checked here too.
    """
    if actor.user_id is None:
        return
    user = find_active_user(session=session, user_id=actor.user_id)
    if user is None or user.role != Role.ADMIN:
        raise Forbidden(f"{actor.label} is not an active admin, so may not manage people or keys.")


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


def person(
    *,
    session: Session,
    email: str,
    roles: set[Role],
    field: str,
    action: str,
    key: ApiKey | None = None,
) -> User:
    """Return the active user with `email` acting, with `key` when the API is the caller.

    Forbidden when `key` is bound to someone else or the person's role may not do `action`;
    Invalid when no active user has `email`. An unbound key (or none: the UI) may name anyone.
    """
    if key is not None and key.user_id is not None:
        bound = find_active_user(session=session, user_id=key.user_id)
        if bound is None or bound.email.lower() != email.strip().lower():
            acts_as = bound.email if bound else "a person who is no longer active"
            raise Forbidden(
                f"{field}: this API key acts only as {acts_as}, so it may not act as {email}."
            )
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
