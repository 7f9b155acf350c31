from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.accounts.models import ApiKey, User
from core.accounts.service import (
    authenticate,
    authenticate_acting,
    create_api_key,
    hash_key,
    key_use_due,
    list_api_keys,
    note_key_use,
    person,
    revoke_api_key,
)
from core.base import Role
from core.errors import Forbidden, Invalid, NotFound


def test_keys_are_stored_hashed(session):
    key, token = create_api_key(session=session, name="crm", role="sales")
    stored = session.scalar(select(ApiKey).where(ApiKey.id == key.id))
    assert stored.key_hash == hash_key(token)
    assert token not in (stored.key_hash, stored.prefix)
    assert token.startswith(stored.prefix)


def test_authenticate_matches_only_the_right_key(session):
    _, token = create_api_key(session=session, name="crm", role="sales")
    assert authenticate(session=session, token=token).name == "crm"
    assert authenticate(session=session, token=token + "x") is None
    assert authenticate(session=session, token="") is None


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [("", "admin", "name: a key needs a name"), ("x", "owner", "role: unknown role 'owner'")],
)
def test_bad_key_requests_say_what_is_wrong(session, name, role, message):
    with pytest.raises(Invalid, match=message):
        create_api_key(session=session, name=name, role=role)


def test_revoke_unknown_key(session):
    with pytest.raises(NotFound):
        revoke_api_key(session=session, key_id="oc_nothing")


@pytest.fixture
def casey(session):
    user = User(email="casey@outcomes.example", name="Casey", role=Role.CSM)
    session.add(user)
    session.flush()
    return user


def test_a_bound_key_takes_its_persons_role(session, casey):
    key, _ = create_api_key(session=session, name="casey-bot", user_email="Casey@outcomes.example")
    assert (key.user_id, key.role) == (casey.id, Role.CSM)
    same, _ = create_api_key(session=session, name="again", role="csm", user_email=casey.email)
    assert same.user_id == casey.id
    unbound, _ = create_api_key(session=session, name="etl")
    assert (unbound.user_id, unbound.role) == (None, Role.ADMIN)
    views = {v.name: v.user_email for v in list_api_keys(session=session)}
    assert views == {"casey-bot": casey.email, "again": casey.email, "etl": None}


@pytest.mark.parametrize(
    ("role", "email", "message"),
    [
        ("admin", "casey@outcomes.example", "role: a key bound to casey@outcomes.example acts"),
        (None, "gone@outcomes.example", "as: no active user with email 'gone@outcomes.example'"),
    ],
)
def test_a_key_is_bound_only_to_an_active_person_with_their_role(
    session, casey, role, email, message
):
    with pytest.raises(Invalid, match=message):
        create_api_key(session=session, name="bot", role=role, user_email=email)
    assert session.scalar(select(ApiKey)) is None


def test_a_bound_key_stops_authenticating_when_its_person_leaves(session, casey):
    _, token = create_api_key(session=session, name="casey-bot", user_email=casey.email)
    assert authenticate(session=session, token=token) is not None
    casey.active = False
    session.flush()
    assert authenticate(session=session, token=token) is None


def test_authenticating_names_whom_the_key_acts_as_in_the_same_read(session, casey):
    bound, bound_token = create_api_key(session=session, name="casey-bot", user_email=casey.email)
    unbound, unbound_token = create_api_key(session=session, name="crm", role="csm")
    assert authenticate_acting(session=session, token=bound_token) == (bound, casey.email)
    assert authenticate_acting(session=session, token=unbound_token) == (unbound, None)
    revoke_api_key(session=session, key_id=unbound.id)
    assert authenticate_acting(session=session, token=unbound_token) is None
    assert authenticate_acting(session=session, token="oc_" + "x" * 43) is None


def test_a_bound_key_acts_only_as_its_person(session, casey):
    robin = User(email="robin@outcomes.example", name="Robin", role=Role.CSM)
    mia = User(email="mia@outcomes.example", name="Mia", role=Role.MARKETING)
    session.add_all([robin, mia])
    bound, _ = create_api_key(session=session, name="casey-bot", user_email=casey.email)
    unbound, _ = create_api_key(session=session, name="crm", role="csm")
    act = {"session": session, "roles": {Role.CSM}, "field": "verifiedBy", "action": "confirm"}
    assert person(email=" CASEY@outcomes.example", key=bound, **act).id == casey.id
    with pytest.raises(Forbidden, match="verifiedBy: this API key acts only as casey@"):
        person(email=robin.email, key=bound, **act)
    assert person(email=robin.email, key=unbound, **act).id == robin.id
    assert person(email=robin.email, **act).id == robin.id  # the UI: no key
    with pytest.raises(Forbidden, match="verifiedBy: mia@outcomes.example is a marketing user"):
        person(email=mia.email, key=unbound, **act)


def test_a_use_is_noted_at_most_once_a_minute(session):
    key, _ = create_api_key(session=session, name="crm", role="sales")
    assert key_use_due(key)
    first = note_key_use(connection=session.connection(), key_id=key.id)
    assert first is not None
    assert note_key_use(connection=session.connection(), key_id=key.id) is None
    session.refresh(key)
    assert key.last_used_at == first and not key_use_due(key, now=first + timedelta(seconds=59))
    assert key_use_due(key, now=first + timedelta(minutes=1))
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=earlier))
    assert note_key_use(connection=session.connection(), key_id=key.id) > earlier


def test_noting_a_use_leaves_the_keys_updated_at_alone(session):
    key, _ = create_api_key(session=session, name="crm", role="sales")
    changed = datetime(2026, 1, 2, tzinfo=UTC)
    session.execute(update(ApiKey).where(ApiKey.id == key.id).values(updated_at=changed))
    assert note_key_use(connection=session.connection(), key_id=key.id) is not None
    session.refresh(key)
    assert key.updated_at == changed
