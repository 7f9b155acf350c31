"""Bulk inserts: one statement per chunk, the ORM's defaults, refusals and skipped conflicts."""

import uuid

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

from core.audit import bulk
from core.customers.models import TimelineEvent
from core.outbox.models import Delivery, DeliveryStatus
from tests import factories as f


def _line(cust, title: str) -> dict:
    return {"customer_id": cust.id, "kind": "note", "title": title}


def test_rows_go_one_statement_per_chunk(session, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 3)
    cust = f.customer(session)
    statements = []

    def listener(_conn, _cursor, statement, *_):
        statements.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", listener)
    try:
        bulk.insert_rows(
            session, TimelineEvent.__table__, [_line(cust, f"Note {i}") for i in range(7)]
        )
    finally:
        event.remove(connection, "before_cursor_execute", listener)

    assert sum(s.startswith("INSERT INTO timeline_events") for s in statements) == 3
    titles = session.scalars(
        select(TimelineEvent.title).where(TimelineEvent.customer_id == cust.id)
    )
    assert sorted(titles) == [f"Note {i}" for i in range(7)]


def test_left_out_columns_get_the_orms_defaults_and_a_repeated_key_is_skipped(session):
    key = f"bulk-{uuid.uuid4()}"
    rows = [
        {"channel": "slack_message", "payload": {"text": "é “quoted”"}, "idempotency_key": key},
        {"channel": "slack_message", "payload": {"text": "again"}, "idempotency_key": key},
    ]
    bulk.insert_rows(session, Delivery.__table__, rows, skip_conflicts_on=["idempotency_key"])

    [row] = session.scalars(select(Delivery).where(Delivery.idempotency_key == key))
    assert row.status == DeliveryStatus.PENDING and row.max_attempts == 8 and row.id
    assert row.payload == {"text": "é “quoted”"}


def test_a_value_too_long_for_its_column_is_refused_not_cut(session):
    cust = f.customer(session)
    with pytest.raises(DBAPIError, match="value too long"), session.begin_nested():
        bulk.insert_rows(session, TimelineEvent.__table__, [_line(cust, "x" * 301)])
