"""People, a customer and a draft for the approval-queue tests (flushed, never committed)."""

import pytest

from core.base import Role
from tests import factories as f


@pytest.fixture
def people(session):
    """Who acts on drafts, as the signed-in summaries services take as `actor`."""
    return {
        key: f.actor(f.user(session, role, name, title="CSM"))
        for key, role, name in (
            ("csm", Role.CSM, "Casey"),
            ("other", Role.CSM, "Robin"),
            ("admin", Role.ADMIN, "Ada"),
            ("leader", Role.LEADER, "Lee"),
            ("marketing", Role.MARKETING, "Mo"),
        )
    }


@pytest.fixture
def customer(session, people):
    return f.customer(session, owner=people["csm"], name="Acme")


@pytest.fixture
def draft(session, customer, people):
    return f.draft(session, customer, people["csm"])
