"""Look up the people who can sign in (demo sign-in reads these) and people as admins see them."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import paging
from core.accounts.models import ApiKey, User
from core.accounts.schemas import UserStatus, UserSummary, UserView
from core.accounts.service import find_active_user
from core.base import Role
from core.errors import NotFound


def list_users(*, session: Session) -> list[UserSummary]:
    """Return active users ordered by role, then name."""
    users = session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.role, User.name, User.email)
    )
    return [UserSummary.model_validate(u, from_attributes=True) for u in users]


def get_user(*, session: Session, user_id: uuid.UUID) -> UserSummary:
    """Return the active user with this id."""
    user = find_active_user(session=session, user_id=user_id)
    if user is None:
        raise NotFound(f"No active user with id {user_id}.")
    return UserSummary.model_validate(user, from_attributes=True)


def find_user_by_email(*, session: Session, email: str) -> UserSummary:
    """Return the active user with this email (case-insensitive)."""
    user = find_active_user(session=session, email=email)
    if user is None:
        raise NotFound(f"No active user with email {email!r}.")
    return UserSummary.model_validate(user, from_attributes=True)


def _user_views(session: Session, *conditions, limit: int | None = None) -> list[UserView]:
    bound = (
        select(func.count())
        .where(ApiKey.user_id == User.id, ApiKey.revoked.is_(False))
        .scalar_subquery()
    )
    rows = session.execute(
        select(User, bound)
        .where(*conditions)
        .order_by(User.active.desc(), User.name, User.email)
        .limit(limit)
    )
    return [
        UserView(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            title=user.title,
            slack_user_id=user.slack_user_id,
            active=user.active,
            bound_keys=keys,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        for user, keys in rows
    ]


def user_views(
    *, session: Session, status: UserStatus = "active", role: Role | None = None
) -> list[UserView]:
    """Return people as admins manage them: active ones first, then by name."""
    conditions = [] if role is None else [User.role == role]
    if status != "all":
        conditions.append(User.active.is_(status == "active"))
    return _user_views(session, *conditions)


PEOPLE = "users.active-name"
PEOPLE_ORDER = ((User.active, True), (User.name, False), (User.email, False))


def user_page(
    *,
    session: Session,
    status: UserStatus = "active",
    role: Role | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[UserView], str | None]:
    """Return a page of `user_views` (every one without `limit`) and the next page's cursor."""
    conditions = [] if role is None else [User.role == role]
    if status != "all":
        conditions.append(User.active.is_(status == "active"))
    if cursor:
        key = paging.decode(cursor, PEOPLE, (bool, str, str))
        conditions.append(paging.after(PEOPLE_ORDER, key))
    views = _user_views(session, *conditions, limit=None if limit is None else limit + 1)
    if limit is None or len(views) <= limit:
        return views, None
    last = views[limit - 1]
    return views[:limit], paging.encode(PEOPLE, (last.active, last.name, last.email))


def user_view(*, session: Session, email: str) -> UserView:
    """Return one person, active or not, by (case-insensitive) email."""
    views = _user_views(session, func.lower(User.email) == email.strip().lower())
    if not views:
        raise NotFound(f"No user with email {email.strip().lower()!r}.")
    return views[0]
