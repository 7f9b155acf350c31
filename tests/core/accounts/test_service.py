import pytest
from sqlalchemy import select

from core.accounts.models import ApiKey
from core.accounts.service import authenticate, create_api_key, hash_key, revoke_api_key
from core.errors import Invalid, NotFound


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
    [("", "admin", "needs a name"), ("x", "owner", "Unknown role")],
)
def test_bad_key_requests_say_what_is_wrong(session, name, role, message):
    with pytest.raises(Invalid, match=message):
        create_api_key(session=session, name=name, role=role)


def test_revoke_unknown_key(session):
    with pytest.raises(NotFound):
        revoke_api_key(session=session, key_id="oc_nothing")
