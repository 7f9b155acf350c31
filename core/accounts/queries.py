"""Look up the people who can sign in (demo sign-in reads these)."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.accounts.service import find_active_user
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
