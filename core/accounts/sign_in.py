"""Single sign-on: who a signed-in email is, and the admin's policy for people not added yet."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.accounts.models import SignInPolicy, User
from core.accounts.schemas import UserSummary
from core.accounts.service import find_active_user
from core.audit.service import record_audit
from core.base import Role
from core.errors import Forbidden, Invalid
from core.schemas import EMAIL_LENGTH, text_problem

POLICY_ID = 1
DOMAIN_LENGTH = 253
NAME_LENGTH = User.__table__.c.name.type.length
# A DNS name of at least two labels, each 1-63 letters, digits or inner hyphens; the last one
# (the top-level domain) is letters, or an internationalized `xn--` label.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# Audit entries of users created by the policy name the sign-in that created them.
AUTO_ACTOR = "sign-in:{email}"


@dataclass(frozen=True)
class SignInPolicyView:
    """The admin's choice: people at `allowed_domain` get a user with `default_role`."""

    allowed_domain: str | None
    default_role: Role | None
    updated_at: datetime | None


def _view(row: SignInPolicy | None) -> SignInPolicyView:
    if row is None:
        return SignInPolicyView(allowed_domain=None, default_role=None, updated_at=None)
    return SignInPolicyView(
        allowed_domain=row.allowed_domain, default_role=row.default_role, updated_at=row.updated_at
    )


def get_policy(*, session: Session) -> SignInPolicyView:
    """Return the sign-in policy (no domain when nobody is created automatically)."""
    return _view(session.get(SignInPolicy, POLICY_ID))


def normalize_domain(value: str) -> str:
    """Return `value` as a lower-case domain like example.com, or Invalid naming the field."""
    domain = value.strip().lower().removeprefix("@").rstrip(".")
    if problem := text_problem(domain):
        raise Invalid(f"allowedDomain: {problem}.")
    if len(domain) > DOMAIN_LENGTH:
        raise Invalid(f"allowedDomain: {len(domain)} characters; the limit is {DOMAIN_LENGTH}.")
    if not _DOMAIN.fullmatch(domain):
        shown = domain if len(domain) <= 60 else domain[:57] + "…"
        raise Invalid(
            f"allowedDomain: '{shown}' is not an email domain; write it like example.com."
        )
    return domain


def _role(value: Role | str | None) -> Role:
    if value is None or value == "":
        raise Invalid("defaultRole: choose the role people from that domain get.")
    try:
        return Role(value)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid(f"defaultRole: unknown role {value!r}; use one of: {allowed}.") from exc


def set_policy(
    *,
    session: Session,
    allowed_domain: str | None,
    default_role: Role | str | None,
    actor: UserSummary,
) -> SignInPolicyView:
    """Set (or, with no domain, clear) who gets a user on first sign-in; audited."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Only admins can change who may sign in.")
    domain = normalize_domain(allowed_domain) if allowed_domain and allowed_domain.strip() else None
    role = _role(default_role) if domain else None
    before = get_policy(session=session)
    values = {"allowed_domain": domain, "default_role": role}
    session.execute(
        insert(SignInPolicy)
        .values(id=POLICY_ID, **values)
        .on_conflict_do_update(index_elements=["id"], set_={**values, "updated_at": func.now()})
    )
    changes = {
        "allowedDomain": [before.allowed_domain, domain],
        "defaultRole": [before.default_role, role],
    }
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="sign_in_policy.update" if domain else "sign_in_policy.clear",
        entity_type="sign_in_policy",
        entity_id=str(POLICY_ID),
        changes=changes,
    )
    session.flush()
    # populate_existing: the row read before the upsert may sit in the session, now stale.
    return _view(session.get(SignInPolicy, POLICY_ID, populate_existing=True))


def _display_name(name: str | None, email: str) -> str:
    """Return the provider's name for the person if usable, else their email's local part."""
    cleaned = " ".join((name or "").split())
    if cleaned and text_problem(cleaned) is None:
        return cleaned[:NAME_LENGTH]
    return email.split("@", 1)[0][:NAME_LENGTH]


def resolve_signed_in(*, session: Session, email: str, name: str | None = None) -> User | None:
    """Return the active user whose email (any case) the provider signed in, or None.

    Someone without a user gets one when their email's domain is the policy's allowed domain
    (exactly, not its subdomains), with the policy's role; audited. A deactivated person is never
    recreated or reactivated here.
    """
    email = (email or "").strip()
    if not email or len(email) > EMAIL_LENGTH or not _EMAIL.fullmatch(email) or text_problem(email):
        return None
    user = find_active_user(session=session, email=email)
    if user is not None:
        return user
    known = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if known is not None:
        return None
    policy = get_policy(session=session)
    domain = email.rsplit("@", 1)[1].lower()
    if policy.allowed_domain is None or policy.default_role is None:
        return None
    if domain != policy.allowed_domain:
        return None
    email = email.lower()
    # Two first sign-ins at once: the second finds the row the first inserted.
    created = session.scalar(
        insert(User)
        .values(email=email, name=_display_name(name, email), role=policy.default_role)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(User.id)
    )
    if created is None:
        return find_active_user(session=session, email=email)
    record_audit(
        session=session,
        actor=AUTO_ACTOR.format(email=email)[:160],
        actor_user_id=created,
        action="user.create",
        entity_type="user",
        entity_id=created,
        changes={
            "email": email,
            "role": policy.default_role,
            "reason": f"first sign-in from the allowed domain {policy.allowed_domain}",
        },
    )
    session.flush()
    return session.get(User, created)
