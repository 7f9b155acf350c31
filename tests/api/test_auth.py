from sqlalchemy import event


def test_api_routes_need_a_key(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_key_is_rejected(client):
    response = client.get("/api/me", headers={"Authorization": "Bearer oc_not-a-real-key"})
    assert response.status_code == 401
    assert "unknown or revoked" in response.json()["detail"]


def test_wrong_scheme_is_rejected(client, make_key):
    token = make_key("csm")["Authorization"].split()[1]
    response = client.get("/api/me", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401


def test_valid_key_describes_itself_in_camel_case(client, make_key):
    response = client.get("/api/me", headers=make_key("csm"))
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "csm"
    assert body["name"] == "test-csm"
    assert body["lastUsedAt"] is not None
    assert "keyHash" not in body


def test_role_that_may_not_gets_403(client, make_key):
    response = client.get("/api/keys", headers=make_key("marketing"))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


def test_admin_lists_keys_without_secrets(client, make_key):
    headers = make_key("admin")
    response = client.get("/api/keys", headers=headers)
    assert response.status_code == 200
    names = [k["name"] for k in response.json()]
    assert "test-admin" in names
    assert all("keyHash" not in k for k in response.json())


def test_revoked_key_stops_working(client, make_key, session):
    from core.accounts.service import list_api_keys, revoke_api_key

    headers = make_key("sales")
    assert client.get("/api/me", headers=headers).status_code == 200
    key = next(k for k in list_api_keys(session=session) if k.name == "test-sales")
    revoke_api_key(session=session, key_id=key.prefix)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_me_sends_only_the_keys_own_read(client, make_key, connection):
    headers = make_key("csm")
    assert client.get("/api/me", headers=headers).status_code == 200  # notes the first use
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        assert client.get("/api/me", headers=headers).json()["name"] == "test-csm"
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(sent) == 1 and "api_keys" in sent[0], sent
