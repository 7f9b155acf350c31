"""POST /api/goals/{goalId}/achieve refuses values the goal cannot have reached (422)."""

import pytest

from core.goals.models import GoalType
from tests import factories as f


@pytest.fixture
def csm(session):
    return f.csm(session, "Casey", email="csm@outcomes.example")


def _achieve(client, make_key, goal, **body):
    payload = {"verifiedBy": "csm@outcomes.example", "note": "Seen on the QBR call", **body}
    return client.post(f"/api/goals/{goal.id}/achieve", json=payload, headers=make_key("csm"))


def test_negative_custom_value_is_refused_naming_the_field(client, make_key, session, csm):
    cust = f.customer(session, owner=csm)
    goal = f.goal(session, cust, type=GoalType.CUSTOM, name="Trained", target=40, unit="users")
    response = _achieve(client, make_key, goal, achievedValue=-5)
    assert response.status_code == 422
    assert response.json()["detail"] == "achievedValue: -5 cannot be negative for users."


def test_a_value_short_of_the_target_is_refused(client, make_key, session, csm):
    cust = f.customer(session, owner=csm)
    goal = f.goal(session, cust, type=GoalType.CUSTOM, name="Trained", target=40, unit="users")
    response = _achieve(client, make_key, goal, achievedValue=30)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("achievedValue: 30 users does not reach")
    assert _achieve(client, make_key, goal, achievedValue=42).status_code == 201
