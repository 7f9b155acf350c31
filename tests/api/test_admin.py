"""The admin API: people (list, invite or change, deactivate, reactivate) and API keys."""

import pytest
from sqlalchemy import select

from core.accounts.service import create_api_key
from core.audit.models import AuditEntry
from core.base import Role
from tests import factories as f

USERS, KEYS = "/api/users", "/api/keys"
ROBIN = "robin@outcomes.example"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(session, make_key):
    """An admin person, and headers of an unbound admin key."""
    f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")
    return make_key("admin")


def _invite(client, headers, email=ROBIN, **fields):
    body = {"name": "Robin Lee", "role": "csm"} | fields
    return client.put(f"{USERS}/{email}", json=body, headers=headers)


def _problems(response) -> list[str]:
    detail = response.json()["detail"]
    return [p["msg"] for p in detail] if isinstance(detail, list) else [detail]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", USERS),
        ("put", f"{USERS}/{ROBIN}"),
        ("post", f"{USERS}/{ROBIN}/deactivate"),
        ("post", f"{USERS}/{ROBIN}/reactivate"),
        ("get", KEYS),
        ("post", KEYS),
        ("post", f"{KEYS}/00000000-0000-0000-0000-000000000000/revoke"),
    ],
)
def test_only_admin_keys_get_in(client, make_key, method, path):
    body = {"name": "x", "role": "csm"} if method in ("put", "post") else None
    assert client.request(method, path, json=body).status_code == 401
    for role in ("csm", "leader", "marketing", "sales"):
        response = client.request(method, path, json=body, headers=make_key(role))
        assert response.status_code == 403, (role, response.text)
        assert "admin" in response.json()["detail"]


def test_put_invites_then_updates_and_the_list_shows_it(client, admin, session):
    created = _invite(client, admin, email="Robin@Outcomes.Example", slackUserId="U0123ABCD")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == ROBIN and body["slackUserId"] == "U0123ABCD" and body["active"]
    assert {"boundKeys", "updatedAt", "createdAt"} <= set(body)

    changed = _invite(client, admin, role="leader", expectedUpdatedAt=body["updatedAt"])
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "leader"
    assert changed.json()["slackUserId"] == "U0123ABCD"  # left out: kept

    listed = client.get(USERS, params={"role": "leader"}, headers=admin).json()
    assert [u["email"] for u in listed] == [ROBIN]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "user")).all()
    assert [(e.action, e.actor) for e in entries] == [
        ("user.invite", "api:test-admin"),
        ("user.update", "api:test-admin"),
    ]
    assert all(e.api_key_id is not None for e in entries)


def test_a_stale_put_is_a_409_and_changes_nothing(client, admin):
    loaded = _invite(client, admin).json()["updatedAt"]
    assert _invite(client, admin, name="Robin L.", expectedUpdatedAt=loaded).status_code == 200
    stale = _invite(client, admin, role="leader", expectedUpdatedAt=loaded)
    assert stale.status_code == 409
    assert "Someone else changed Robin L." in stale.json()["detail"]
    assert client.get(USERS, headers=admin).json()[-1]["role"] == "csm"


@pytest.mark.parametrize(
    ("path_email", "fields", "message"),
    [
        ("robin", {}, "email: must be an email address"),
        (ROBIN, {"slackUserId": "robin"}, "slackUserId: must be a Slack member ID"),
        (ROBIN, {"role": "owner"}, "role: "),
        (ROBIN, {"name": ""}, "name: must not be empty"),
        (ROBIN, {"name": "Robin\nLee"}, "name: must be a single line"),
        (ROBIN, {"nickname": "Rob"}, "nickname: is not a known field"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, admin, path_email, fields, message):
    response = _invite(client, admin, email=path_email, **fields)
    assert response.status_code == 422, response.text
    assert any(m.startswith(message) for m in _problems(response)), _problems(response)


def test_deactivate_stops_bound_keys_and_reactivate_restores_them(client, admin, session):
    robin = f.csm(session, "Robin Lee", email=ROBIN)
    _, token = create_api_key(session=session, name="robin-bot", user_email=robin.email)
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200

    off = client.post(f"{USERS}/{ROBIN}/deactivate", headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/me", headers=_bearer(token)).status_code == 401
    assert client.post(f"{USERS}/{ROBIN}/deactivate", headers=admin).status_code == 200
    assert [u["email"] for u in client.get(USERS, headers=admin).json()] == ["ada@outcomes.example"]
    inactive = client.get(USERS, params={"status": "inactive"}, headers=admin).json()
    assert [u["email"] for u in inactive] == [ROBIN]

    on = client.post(f"{USERS}/{ROBIN}/reactivate", headers=admin)
    assert on.status_code == 200 and on.json()["active"] is True
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200


def test_the_last_admin_cannot_be_deactivated(client, admin):
    response = client.post(f"{USERS}/ada@outcomes.example/deactivate", headers=admin)
    assert response.status_code == 409
    assert "last active admin" in response.json()["detail"]


def test_unknown_people_and_keys_are_404s(client, admin):
    assert (
        client.post(f"{USERS}/nobody@outcomes.example/deactivate", headers=admin).status_code == 404
    )
    unknown = f"{KEYS}/00000000-0000-0000-0000-000000000000/revoke"
    assert client.post(unknown, headers=admin).status_code == 404
    assert client.post(f"{KEYS}/not-a-uuid/revoke", headers=admin).status_code == 422


def test_a_new_key_is_shown_once_then_listed_without_it(client, admin, session):
    robin = f.csm(session, "Robin Lee", email=ROBIN)
    response = client.post(KEYS, json={"name": "robin-bot", "actsAs": ROBIN}, headers=admin)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["shownOnce"] is True and made["key"].startswith(made["prefix"])
    assert (made["role"], made["actsAs"]) == ("csm", ROBIN)
    assert client.get("/api/me", headers=_bearer(made["key"])).json()["actsAs"] == robin.email

    listed = {k["id"]: k for k in client.get(KEYS, headers=admin).json()}
    assert "key" not in listed[made["id"]] and "keyHash" not in listed[made["id"]]

    revoked = client.post(f"{KEYS}/{made['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert client.post(f"{KEYS}/{made['id']}/revoke", headers=admin).status_code == 200
    assert client.get("/api/me", headers=_bearer(made["key"])).status_code == 401
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == made["id"])
    ).all()
    assert actions == ["api_key.create", "api_key.revoke"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "name: must not be empty"),
        ({"name": "bot", "actsAs": "nobody@outcomes.example"}, "actsAs: no active user"),
        ({"name": "bot", "role": "admin", "actsAs": ROBIN}, "role: a key bound to"),
    ],
)
def test_bad_key_requests_are_422s_naming_the_field(client, admin, session, body, message):
    f.csm(session, "Robin Lee", email=ROBIN)
    response = client.post(KEYS, json=body, headers=admin)
    assert response.status_code == 422
    assert any(m.startswith(message) for m in _problems(response)), _problems(response)


def test_a_key_bound_to_a_demoted_admin_may_no_longer_manage(client, admin, session):
    grace = f.user(session, Role.ADMIN, "Grace", email="grace@outcomes.example")
    _, token = create_api_key(session=session, name="grace-bot", user_email=grace.email)
    made = _invite(client, _bearer(token))
    assert made.status_code == 201
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.invite"))
    assert (entry.actor, entry.actor_user_id) == (grace.email, grace.id)

    grace.role = Role.CSM
    session.flush()
    response = _invite(client, _bearer(token), email="sam@outcomes.example")
    assert response.status_code == 403
    assert "not an active admin" in response.json()["detail"]
