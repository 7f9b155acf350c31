"""With DATABASE_READ_URL set, GET routes read the replica while writes go to the primary."""

import pytest
from sqlalchemy import select, text

from core import db
from core.customers.models import Metric
from tests import factories as f
from tests.replica import replica_database

MARKER = "replica_marker"


@pytest.fixture(scope="module")
def replica(pg_server):
    with replica_database(pg_server, "outcomes_api_replica") as (url, engine):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO metrics (key, name, unit, kind, direction) VALUES "
                    "(:k, 'Only on the replica', 'runs', 'usage', 'higher_is_better')"
                ),
                {"k": MARKER},
            )
        yield url, engine


@pytest.fixture
def read_from(replica, monkeypatch):
    monkeypatch.setenv("DATABASE_READ_URL", replica[0])
    db.reset()
    yield replica[1]
    monkeypatch.delenv("DATABASE_READ_URL")
    db.reset()


def test_get_routes_read_the_replica(client, make_key, session, read_from):
    headers = make_key("csm")
    f.metric(session, "primary_only")

    listed = client.get("/api/metrics", headers=headers)
    marker = client.get(f"/api/metrics/{MARKER}", headers=headers)

    assert listed.status_code == 200
    assert {m["key"] for m in listed.json()} == {MARKER}
    assert marker.json()["name"] == "Only on the replica"
    assert client.get("/api/metrics/primary_only", headers=headers).status_code == 404


def test_writes_go_to_the_primary(client, make_key, session, read_from):
    headers = make_key("admin")
    body = {"name": "Written", "unit": "runs", "kind": "usage", "direction": "higher_is_better"}

    put = client.put("/api/metrics/written_metric", json=body, headers=headers)

    assert put.status_code == 201, put.text
    assert session.get(Metric, "written_metric").name == "Written"
    with read_from.connect() as conn:
        assert conn.scalar(select(Metric.key).where(Metric.key == "written_metric")) is None
    # Until the replica catches up, a GET does not see it; here it never will.
    assert client.get("/api/metrics/written_metric", headers=headers).status_code == 404


def test_without_a_replica_get_routes_read_the_primary(client, make_key, session):
    headers = make_key("csm")
    f.metric(session, "primary_only")

    listed = client.get("/api/metrics", headers=headers)

    assert "primary_only" in {m["key"] for m in listed.json()}
