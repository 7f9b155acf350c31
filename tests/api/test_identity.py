"""Keys bound to a person act only as that person; the audit log names the key and the person;
noting a key's use never makes one request wait for another."""

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from app.api import app
from core.accounts.models import ApiKey
from core.accounts.service import create_api_key
from core.audit.models import AuditEntry
from core.base import Consent, Role
from core.db import session_scope
from core.goals.models import Achievement, GoalType
from tests import factories as f
from tests.core.upsell.scenarios import catalog

UPSELL = "/api/upsell"


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(session):
    catalog(session)
    casey = f.csm(session, email="casey@outcomes.example")
    robin = f.csm(session, email="robin@outcomes.example")
    mia = f.user(session, Role.MARKETING, "Mia", email="mia@outcomes.example")
    cust = f.customer(session, owner=casey, consent=Consent.FULL_PUBLIC)
    goal = f.goal(session, cust, type=GoalType.CUSTOM, name="Trained", target=40, unit="users")
    sold = f.upsell(session, cust, ("analytics",), opportunity_id="006IDENT1")
    bound, token = create_api_key(session=session, name="casey-bot", user_email=casey.email)
    return {
        "casey": casey,
        "robin": robin,
        "mia": mia,
        "customer": cust,
        "goal": goal,
        "upsell": sold,
        "key": bound,
        "headers": _headers(token),
    }


def _achieve(client, headers, goal, by):
    body = {"verifiedBy": by, "note": "Seen on the QBR call", "achievedValue": 42}
    return client.post(f"/api/goals/{goal.id}/achieve", json=body, headers=headers)


def _upsell_body(world, by):
    return {
        "customerId": str(world["customer"].id),
        "name": "Seats",
        "type": "expansion",
        "arrIncrease": 0,
        "closeDate": "2026-10-01",
        "products": ["analytics"],
        "createdBy": by,
    }


def test_a_bound_key_cannot_confirm_as_another_person(client, world, session):
    for other in ("robin@outcomes.example", "nobody@outcomes.example"):
        res = _achieve(client, world["headers"], world["goal"], other)
        assert res.status_code == 403, res.text
        assert res.json()["detail"] == (
            f"verifiedBy: this API key acts only as casey@outcomes.example, so it may not act "
            f"as {other}."
        )
    assert (
        session.scalar(select(Achievement).where(Achievement.goal_id == world["goal"].id)) is None
    )


def test_a_bound_key_cannot_name_another_person_on_any_route(client, world):
    headers, robin = world["headers"], world["robin"].email
    res = client.post(UPSELL, headers=headers, json=_upsell_body(world, robin))
    assert res.status_code == 403 and res.json()["detail"].startswith("createdBy: this API key")
    measurement = f"{UPSELL}/006IDENT1/success-measurement"
    res = client.post(measurement, headers=headers, json={"createdBy": robin})
    assert res.status_code == 403 and res.json()["detail"].startswith("createdBy: this API key")
    assert client.post(measurement, headers=headers, json={}).status_code == 201
    values = {"values": {"Executive dashboards in use": 2}, "recordedBy": robin}
    res = client.put(f"{UPSELL}/006IDENT1/metrics", headers=headers, json=values)
    assert res.status_code == 403 and res.json()["detail"].startswith("recordedBy: this API key")
    review = {"assessment": "on_track", "findings": "Good start", "reviewedBy": robin}
    res = client.post(f"{UPSELL}/006IDENT1/review", headers=headers, json=review)
    assert res.status_code == 403 and res.json()["detail"].startswith("reviewedBy: this API key")
    assert _achieve(client, headers, world["goal"], "casey@outcomes.example").status_code == 201
    flag = {"candidateType": "case_study", "flaggedBy": world["mia"].email}
    res = client.post(f"/api/goals/{world['goal'].id}/marketing-flag", headers=headers, json=flag)
    assert res.status_code == 403 and res.json()["detail"].startswith("flaggedBy: this API key")


def test_a_bound_key_acts_as_its_person_and_the_audit_log_names_both(client, world, session):
    res = _achieve(client, world["headers"], world["goal"], "Casey@Outcomes.example")
    assert res.status_code == 201, res.text
    assert res.json()["verifiedBy"] == "casey@outcomes.example"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "goal.confirm"))
    assert entry.actor == "casey@outcomes.example"
    assert (entry.actor_user_id, entry.api_key_id) == (world["casey"].id, world["key"].id)


def test_an_unbound_key_names_anyone_its_and_their_roles_allow(client, world, session):
    key, token = create_api_key(session=session, name="crm", role="csm")
    headers = _headers(token)
    res = _achieve(client, headers, world["goal"], world["mia"].email)
    assert res.status_code == 403 and res.json()["detail"].startswith("verifiedBy: mia@")
    assert _achieve(client, headers, world["goal"], world["robin"].email).status_code == 201
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "goal.confirm"))
    assert (entry.actor_user_id, entry.api_key_id) == (world["robin"].id, key.id)


def test_me_and_the_key_list_say_whom_a_key_acts_as(client, world, session, make_key):
    me = client.get("/api/me", headers=world["headers"]).json()
    assert me["actsAs"] == "casey@outcomes.example" and me["role"] == "csm"
    admin = make_key("admin")
    assert client.get("/api/me", headers=admin).json()["actsAs"] is None
    listed = {k["name"]: k["actsAs"] for k in client.get("/api/keys", headers=admin).json()}
    assert listed == {"casey-bot": "casey@outcomes.example", "test-admin": None}


def test_a_bound_key_stops_working_when_its_person_leaves(client, world, session):
    assert client.get("/api/me", headers=world["headers"]).status_code == 200
    world["casey"].active = False
    session.flush()
    res = client.get("/api/me", headers=world["headers"])
    assert res.status_code == 401 and "no longer active" in res.json()["detail"]


def test_a_request_does_not_wait_for_a_lock_on_its_key(scratch_db):
    """Before: each request wrote last_used_at in its own transaction, so it queued on the row."""
    with session_scope() as session:
        key, token = create_api_key(session=session, name="busy", role="sales")
        key_id = key.id
    holder = create_engine(scratch_db)
    answers: list[int] = []
    with TestClient(app) as client, holder.connect() as conn:
        with conn.begin():  # another transaction holding the key's row, as a request did before
            conn.execute(text("SELECT 1 FROM api_keys WHERE id = :id FOR UPDATE"), {"id": key_id})
            worker = threading.Thread(
                target=lambda: answers.append(client.get("/api/me", headers=_headers(token)))
            )
            worker.start()
            worker.join(timeout=30)
            finished_under_lock = not worker.is_alive()
        worker.join()
        assert finished_under_lock, "the request waited for the lock on its key"
        assert answers[0].status_code == 200
        assert answers[0].json()["lastUsedAt"] is None  # skipped, not waited for
        first = client.get("/api/me", headers=_headers(token)).json()["lastUsedAt"]
        assert first is not None
        assert client.get("/api/me", headers=_headers(token)).json()["lastUsedAt"] == first
    holder.dispose()
    with session_scope() as session:
        assert session.get(ApiKey, key_id).last_used_at is not None
