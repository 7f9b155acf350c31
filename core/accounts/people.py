"""Admins set people up: invite, change, deactivate and reactivate users, each change audited.

Two admins editing one person conflict instead of overwriting each other: an edit carries the
`updated_at` its form (or API client) loaded, compared under the row's lock, and every change
here stamps a fresh one with `clock_timestamp()` (`now()` is the same for a whole transaction),
so `updated_at` serves as the version and the users table needs no version column. Every change
here also takes one transaction-scoped advisory lock, so "is someone else still an admin?" is
answered while no other change to people can interleave.
"""

import re
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.accounts.models import ApiKey, User
from core.accounts.queries import user_view
from core.accounts.schemas import SLACK_ID_RULE, Actor, UserIn, UserView
from core.accounts.service import require_admin
from core.audit.service import record_audit
from core.base import Role
from core.errors import Conflict, Invalid, NotFound
from core.schemas import EMAIL_LENGTH

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z]{{2,63}}")
LOCAL_PART_LENGTH = 64
# Slack member ids: U (or W on Enterprise Grid) and upper-case letters and digits.
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{8,14}")
_LOCK = "outcomes-people"
# How the API names the columns an admin edits.
FIELDS = {"name": "name", "role": "role", "title": "title", "slack_user_id": "slackUserId"}


def normalise_email(value: str | None, *, field: str = "email") -> str:
    """Return an email as stored (trimmed, lower case), or Invalid naming `field`."""
    email = (value or "").strip().lower()
    if not email:
        raise Invalid(f"{field}: is required.")
    local = email.partition("@")[0]
    if len(email) > EMAIL_LENGTH or len(local) > LOCAL_PART_LENGTH or not _EMAIL.fullmatch(email):
        raise Invalid(f"{field}: must be an email address such as name@company.com.")
    return email


def slack_member_id(value: str | None) -> str | None:
    """Return a Slack member id as stored (upper case), None when empty, or Invalid."""
    member = (value or "").strip().upper()
    if not member:
        return None
    if not _SLACK_ID.fullmatch(member):
        raise Invalid(f"slackUserId: must be {SLACK_ID_RULE[0].lower()}{SLACK_ID_RULE[1:]}.")
    return member


def invite_user(*, session: Session, email: str, body: UserIn, actor: Actor) -> UserView:
    """Add a person who can sign in as `email`; Conflict naming `email` when it is taken."""
    require_admin(session=session, actor=actor)
    email, values = normalise_email(email), _values(body)
    if body.expected_updated_at is not None:
        raise Invalid("expectedUpdatedAt: leave it out when inviting someone new.")
    _serialise(session)
    existing = _locked(session, email)
    if existing is not None:
        raise Conflict(_taken(existing))
    return _invite(session, email, values, actor)


def update_user(*, session: Session, email: str, body: UserIn, actor: Actor) -> UserView:
    """Change a person's name, role, title or Slack member id (active or not)."""
    require_admin(session=session, actor=actor)
    email, values = _lookup(email), _values(body)
    _serialise(session)
    user = _locked(session, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    return _update(session, user, values, body, actor)


def save_user(*, session: Session, email: str, body: UserIn, actor: Actor) -> tuple[UserView, bool]:
    """Invite the person with `email`, or update them when they exist; True when invited."""
    require_admin(session=session, actor=actor)
    values = _values(body)
    _serialise(session)
    user = _locked(session, _lookup(email))
    if user is None:
        email = normalise_email(email)
        if body.expected_updated_at is not None:
            raise Invalid(
                f"expectedUpdatedAt: nobody has the email {email} yet; leave it out to invite them."
            )
        return _invite(session, email, values, actor), True
    return _update(session, user, values, body, actor), False


def deactivate_user(*, session: Session, email: str, actor: Actor) -> UserView:
    """Stop a person signing in and their bound API keys working; refuse the last active admin.

    Idempotent, so it carries no expected `updated_at`: whoever else changed the person, the
    outcome is the same.
    """
    return _set_active(session, email, False, actor)


def reactivate_user(*, session: Session, email: str, actor: Actor) -> UserView:
    """Let a deactivated person sign in again; their unrevoked bound keys work again too."""
    return _set_active(session, email, True, actor)


def _set_active(session: Session, email: str, active: bool, actor: Actor) -> UserView:
    require_admin(session=session, actor=actor)
    email = _lookup(email)
    _serialise(session)
    user = _locked(session, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    if user.active == active:  # already so: nothing to do, whoever did it
        return user_view(session=session, email=email)
    if not active and user.role == Role.ADMIN:
        _keep_an_admin(session, user)
    user.active = active
    _touch(user)
    session.flush()
    keys = session.scalar(
        select(func.count()).where(ApiKey.user_id == user.id, ApiKey.revoked.is_(False))
    )
    record_audit(
        session=session,
        actor=actor.label,
        actor_user_id=actor.user_id,
        action="user.reactivate" if active else "user.deactivate",
        entity_type="user",
        entity_id=user.id,
        changes={"email": user.email, "active": [not active, active], "bound_keys": keys},
    )
    return user_view(session=session, email=email)


def _lookup(email: str) -> str:
    """Return how an email is looked up: a stored address is found however it was typed."""
    return email.strip().lower()


def _values(body: UserIn) -> dict:
    """Return the columns `body` sets, checked; omitted optional fields are left out."""
    values = {"name": body.name, "role": body.role}
    if "title" in body.model_fields_set:
        values["title"] = body.title or None
    if "slack_user_id" in body.model_fields_set:
        values["slack_user_id"] = slack_member_id(body.slack_user_id)
    return values


def _serialise(session: Session) -> None:
    """Wait until no other change to people is under way (held until the transaction ends)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})


def _locked(session: Session, email: str) -> User | None:
    return session.scalar(
        select(User)
        .where(func.lower(User.email) == email)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _taken(user: User) -> str:
    if user.active:
        return f"email: {user.email} already belongs to {user.name}."
    return f"email: {user.email} belongs to {user.name}, who is deactivated; reactivate them."


def _invite(session: Session, email: str, values: dict, actor: Actor) -> UserView:
    user_id = session.execute(
        insert(User)
        .values(email=email, active=True, **values)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(User.id)
    ).scalar_one_or_none()
    if user_id is None:  # only a writer outside these functions gets here (they serialise)
        raise Conflict(f"email: {email} was added by someone else just now.")
    record_audit(
        session=session,
        actor=actor.label,
        actor_user_id=actor.user_id,
        action="user.invite",
        entity_type="user",
        entity_id=user_id,
        changes={"email": email} | {FIELDS[k]: v for k, v in values.items()},
    )
    return user_view(session=session, email=email)


def _update(session: Session, user: User, values: dict, body: UserIn, actor: Actor) -> UserView:
    _check_fresh(user, body.expected_updated_at)
    changes = {FIELDS[k]: [getattr(user, k), v] for k, v in values.items() if getattr(user, k) != v}
    if changes:
        if "role" in changes and user.role == Role.ADMIN and user.active:
            _keep_an_admin(session, user)
        for column, value in values.items():
            setattr(user, column, value)
        _touch(user)
        session.flush()
        record_audit(
            session=session,
            actor=actor.label,
            actor_user_id=actor.user_id,
            action="user.update",
            entity_type="user",
            entity_id=user.id,
            changes={"email": user.email} | changes,
        )
    return user_view(session=session, email=user.email)


def _check_fresh(user: User, expected: datetime | None) -> None:
    if expected is not None and user.updated_at != expected:
        raise Conflict(
            f"Someone else changed {user.name} ({user.email}) after you loaded them, so nothing "
            "was saved. Load their version and make your change again if it is still needed."
        )


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count()).where(
            User.role == Role.ADMIN, User.active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise Conflict(
            f"{user.name} is the last active admin. Make someone else an admin first, so that "
            "someone can still manage people and API keys."
        )


def _touch(user: User) -> None:
    user.updated_at = func.clock_timestamp()
