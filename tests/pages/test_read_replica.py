"""With DATABASE_READ_URL set, cached page loaders read the replica; writes go to the primary."""

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.exc import InternalError

from components import data
from core import db
from core.base import Role
from core.customers.models import Customer, Metric
from core.models import User
from tests.pages.apptest import open_page
from tests.replica import replica_database

REPLICA_NAME = "Seen only on the replica"


@pytest.fixture(scope="module")
def replica(pg_server, demo_url):
    """A replica whose copy of one demo customer has another name; returns (url, engine, id)."""
    demo = create_engine(demo_url)
    with demo.connect() as conn:
        row = conn.execute(select(Customer.__table__).order_by(Customer.name).limit(1)).one()
        leader = conn.scalar(select(User.id).where(User.role == Role.LEADER, User.active))
    demo.dispose()
    with replica_database(pg_server, "outcomes_page_replica") as (url, engine):
        copy = {**row._mapping, "name": REPLICA_NAME, "owner_csm_id": None}
        with engine.begin() as conn:
            conn.execute(insert(Customer.__table__).values(copy))
        yield url, engine, row.id, row.name, leader


@pytest.fixture
def read_from(app_db, replica, monkeypatch):
    monkeypatch.setenv("DATABASE_READ_URL", replica[0])
    db.reset()
    yield replica
    monkeypatch.delenv("DATABASE_READ_URL")
    db.reset()


def test_the_customer_detail_loader_reads_the_replica(read_from):
    _, _, customer_id, primary_name, leader = read_from

    at = open_page(leader, "../pages/customers.py", customer=str(customer_id))

    headings = {s.value.replace("\\", "") for s in at.subheader}
    assert REPLICA_NAME in headings
    assert primary_name not in headings


def _metric_keys(*, session) -> set[str]:
    return set(session.scalars(select(Metric.key)))


def test_read_uses_the_replica_and_call_the_primary(read_from):
    replica_metrics = data.read(_metric_keys)
    primary_metrics = data.call(_metric_keys)

    assert replica_metrics == set()
    assert primary_metrics  # the demo catalogue


def test_a_read_that_writes_is_refused_on_the_primary_too(app_db):
    def write(*, session):
        session.add(Metric(key="x", name="X", unit="u", kind="usage", direction="higher_is_better"))
        session.flush()

    with pytest.raises(InternalError, match="read-only transaction"):
        data.read(write)
