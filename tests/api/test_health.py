from fastapi.testclient import TestClient

from app.api import app
from core import db


def test_health_reports_reachable_database(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    db.reset()
    try:
        response = TestClient(app).get("/health")
    finally:
        db.reset()
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


def test_health_reports_unreachable_database(monkeypatch):
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    db.reset()
    try:
        response = TestClient(app).get("/health")
    finally:
        db.reset()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
