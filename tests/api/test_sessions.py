"""The API's own sessions and key checks on a real engine: writes are committed when the request
succeeds and rolled back when it fails; a revoked key or a person who left is refused at once."""

import asyncio

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.api import app
from app.deps import get_session
from core.accounts.models import ApiKey, User
from core.accounts.service import create_api_key, revoke_api_key
from core.base import Role
from core.customers.models import Metric
from core.db import session_scope
from tests import factories as f


def _through_get_session(fail: bool) -> None:
    """Run `get_session` as FastAPI does, adding a metric and failing after it when `fail`."""

    async def request() -> None:
        dependency = get_session()
        session = await anext(dependency)
        f.metric(session, "from_a_request")
        if fail:
            await dependency.athrow(RuntimeError("the route failed"))
        else:
            await anext(dependency, None)

    asyncio.run(request())


def _metric_saved() -> bool:
    with session_scope() as session:
        return session.get(Metric, "from_a_request") is not None


def test_a_request_that_fails_writes_nothing(scratch_db):
    with pytest.raises(RuntimeError, match="the route failed"):
        _through_get_session(fail=True)
    assert not _metric_saved()


def test_a_request_that_succeeds_is_committed(scratch_db):
    _through_get_session(fail=False)
    assert _metric_saved()


def test_a_key_is_refused_on_the_request_after_its_revocation(scratch_db):
    with session_scope() as session:
        key, token = create_api_key(session=session, name="crm", role="csm")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/api/me", headers=headers).json()["name"] == "crm"
        with session_scope() as session:
            revoke_api_key(session=session, key_id=key.id)
        assert client.get("/api/me", headers=headers).status_code == 401


def test_a_bound_key_is_refused_on_the_request_after_its_person_left(scratch_db):
    with session_scope() as session:
        casey = f.csm(session, email="casey@outcomes.example")
        _, token = create_api_key(session=session, name="casey-bot", user_email=casey.email)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        me = client.get("/api/me", headers=headers).json()
        assert (me["actsAs"], me["role"]) == ("casey@outcomes.example", Role.CSM.value)
        with session_scope() as session:
            session.scalar(select(User).where(User.email == casey.email)).active = False
        assert client.get("/api/me", headers=headers).status_code == 401
    with session_scope() as session:
        assert session.scalar(select(ApiKey.last_used_at).where(ApiKey.name == "casey-bot"))
