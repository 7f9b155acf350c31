"""API fixtures: a TestClient whose requests share the test's rolled-back session."""

import pytest
from fastapi.testclient import TestClient

from app.api import app
from app.deps import get_session
from core.accounts.service import create_api_key


@pytest.fixture
def client(session):
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as test_client:
        yield test_client
    app.dependency_overrides.clear()


@pytest.fixture
def make_key(session):
    """Return a function creating a key of a role and returning auth headers for it."""

    def make(role: str = "admin") -> dict[str, str]:
        _, token = create_api_key(session=session, name=f"test-{role}", role=role)
        return {"Authorization": f"Bearer {token}"}

    return make
