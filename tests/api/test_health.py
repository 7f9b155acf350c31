"""/health names each dependency; with the database down every route answers 503 + Retry-After."""

import re

import pytest
from fastapi.testclient import TestClient

from app.api import app
from core import db
from core.accounts.service import KEY_PREFIX

CLOSED_PORT = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


@pytest.fixture
def database_down(monkeypatch):
    """Point the app at a port where no database listens."""
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT)
    db.reset()
    yield
    db.reset()


def test_health_reports_reachable_database(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    db.reset()
    try:
        response = TestClient(app).get("/health")
    finally:
        db.reset()
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "reachable",
        "dependencies": [{"name": "database", "status": "reachable", "detail": "Answers queries."}],
    }


def test_health_names_the_dependency_that_is_down(database_down):
    response = TestClient(app).get("/health")
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    body = response.json()
    assert body["status"] == "degraded" and body["database"] == "unreachable"
    (dependency,) = body["dependencies"]
    assert dependency["name"] == "database" and dependency["status"] == "unreachable"
    assert "503" in dependency["detail"] and "127.0.0.1" not in response.text


def api_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the API but /health, path parameters filled in."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api"):
            path = path.replace("{entry_id}", "3f2b1c9e-0000-4000-8000-000000000001")
            path = re.sub(r"\{[^}]+\}", "x1", path)
            routes += [(method.upper(), path) for method in sorted(operations)]
    return routes


def test_every_route_is_covered():
    assert len(api_routes()) >= 19


@pytest.mark.parametrize(("method", "path"), api_routes())
def test_every_route_answers_503_with_retry_after_while_the_database_is_down(
    database_down, method, path
):
    client = TestClient(app, raise_server_exceptions=False)
    response = client.request(
        method,
        path,
        headers={"Authorization": f"Bearer {KEY_PREFIX}not-checked-without-a-database"},
        json={}
        if method
        in (
            "POST",
            "PUT",
        )
        else None,
    )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "30"
    assert "database is unavailable" in response.json()["detail"]
