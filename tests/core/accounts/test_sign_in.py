import pytest
from sqlalchemy import func, select

from core.accounts.models import User
from core.accounts.sign_in import get_policy, resolve_signed_in, set_policy
from core.audit.models import AuditEntry
from core.base import Role
from core.errors import Forbidden, Invalid
from tests import factories


@pytest.fixture
def admin(session):
    return factories.actor(factories.user(session, Role.ADMIN, "Ada Admin"))


def _audit(session, action):
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.occurred_at)
    ).all()


def test_no_policy_means_nobody_is_created(session):
    policy = get_policy(session=session)
    assert (policy.allowed_domain, policy.default_role) == (None, None)
    assert resolve_signed_in(session=session, email="new@outcomes.example", name="New") is None


def test_setting_the_policy_normalizes_the_domain_and_is_audited(session, admin):
    policy = set_policy(
        session=session, allowed_domain="  @Example.COM ", default_role="csm", actor=admin
    )
    assert (policy.allowed_domain, policy.default_role) == ("example.com", Role.CSM)
    assert get_policy(session=session).allowed_domain == "example.com"
    [entry] = _audit(session, "sign_in_policy.update")
    assert entry.actor == admin.email and entry.actor_user_id == admin.id
    assert entry.changes == {"allowedDomain": [None, "example.com"], "defaultRole": [None, "csm"]}


def test_clearing_the_policy_forgets_domain_and_role(session, admin):
    set_policy(session=session, allowed_domain="example.com", default_role="sales", actor=admin)
    policy = set_policy(session=session, allowed_domain="", default_role="sales", actor=admin)
    assert (policy.allowed_domain, policy.default_role) == (None, None)
    [entry] = _audit(session, "sign_in_policy.clear")
    assert entry.changes == {
        "allowedDomain": ["example.com", None],
        "defaultRole": ["sales", None],
    }


@pytest.mark.parametrize(
    ("domain", "role", "message"),
    [
        ("example", "csm", "allowedDomain: 'example' is not an email domain"),
        ("exa mple.com", "csm", "allowedDomain: 'exa mple.com' is not an email domain"),
        ("-bad.example.com", "csm", "allowedDomain: '-bad.example.com' is not an email domain"),
        ("person@example.com", "csm", "allowedDomain: 'person@example.com' is not an email"),
        ("exa\nmple.com", "csm", "allowedDomain: must be a single line"),
        ("a" * 250 + ".com", "csm", "allowedDomain: 254 characters; the limit is 253"),
        ("example.com", None, "defaultRole: choose the role"),
        ("example.com", "owner", "defaultRole: unknown role 'owner'"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(session, admin, domain, role, message):
    with pytest.raises(Invalid, match="^" + message.replace("(", r"\(")):
        set_policy(session=session, allowed_domain=domain, default_role=role, actor=admin)
    assert get_policy(session=session).allowed_domain is None


def test_only_admins_set_the_policy(session):
    csm = factories.actor(factories.csm(session))
    with pytest.raises(Forbidden):
        set_policy(session=session, allowed_domain="example.com", default_role="csm", actor=csm)


def test_a_known_email_signs_in_whatever_its_case(session):
    person = factories.csm(session, email="Casey.Rivera@Outcomes.example")
    found = resolve_signed_in(session=session, email=" casey.rivera@OUTCOMES.EXAMPLE ", name="x")
    assert found is not None and found.id == person.id
    assert found.name == "Casey Rivera"  # the provider's name never overwrites ours


def test_a_deactivated_person_is_turned_away_even_from_the_allowed_domain(session, admin):
    set_policy(session=session, allowed_domain="example.com", default_role="csm", actor=admin)
    factories.csm(session, email="gone@example.com", active=False)
    assert resolve_signed_in(session=session, email="Gone@Example.com", name="Gone") is None
    count = session.scalar(select(func.count()).where(func.lower(User.email) == "gone@example.com"))
    assert count == 1


def test_first_sign_in_from_the_allowed_domain_creates_the_user(session, admin):
    set_policy(session=session, allowed_domain="example.com", default_role="marketing", actor=admin)
    user = resolve_signed_in(session=session, email="Robin.Lee@Example.com", name="  Robin   Lee ")
    assert user is not None
    assert (user.email, user.name, user.role, user.active) == (
        "robin.lee@example.com",
        "Robin Lee",
        Role.MARKETING,
        True,
    )
    [entry] = _audit(session, "user.create")
    assert entry.entity_id == str(user.id) and entry.actor_user_id == user.id
    assert entry.actor == "sign-in:robin.lee@example.com"
    assert entry.changes["role"] == "marketing"
    again = resolve_signed_in(session=session, email="robin.lee@example.com", name="Other")
    assert again.id == user.id
    assert len(_audit(session, "user.create")) == 1


def test_a_missing_name_becomes_the_local_part(session, admin):
    set_policy(session=session, allowed_domain="example.com", default_role="csm", actor=admin)
    user = resolve_signed_in(session=session, email="sam@example.com", name=None)
    assert user.name == "sam"
    odd = resolve_signed_in(session=session, email="kim@example.com", name="Kim\x00")
    assert odd.name == "kim"


@pytest.mark.parametrize(
    "email",
    [
        "someone@other.com",
        "someone@sub.example.com",
        "someone@example.com.evil.com",
        "",
        "not-an-email",
        "two@@example.com",
        "line\nbreak@example.com",
    ],
)
def test_other_addresses_are_not_created(session, admin, email):
    set_policy(session=session, allowed_domain="example.com", default_role="csm", actor=admin)
    before = session.scalar(select(func.count()).select_from(User))
    assert resolve_signed_in(session=session, email=email, name="Someone") is None
    assert session.scalar(select(func.count()).select_from(User)) == before
