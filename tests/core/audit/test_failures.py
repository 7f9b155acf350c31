"""Per-item isolation: savepoints per item, chunks with a row-by-row fallback, recorded reasons."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from core.audit.failures import batch, failed_ids, reason_for, running
from core.audit.models import JobItemFailure, Watermark
from core.errors import Invalid


def _failures(session) -> dict[tuple[str, str], JobItemFailure]:
    stmt = select(JobItemFailure).execution_options(populate_existing=True)
    return {(r.item_type, r.item_id): r for r in session.scalars(stmt)}


def _marks(session) -> set[str]:
    return set(session.scalars(select(Watermark.key).execution_options(populate_existing=True)))


def _write(session, key: str) -> None:
    if key.startswith("bad"):
        raise Invalid(f"{key}: must be a single line")
    session.add(Watermark(key=key, value="2026-11-20T00:00:00+00:00"))
    session.flush()


def test_a_failed_item_is_rolled_back_alone_and_recorded_under_the_job(session):
    with running("test_job") as run, batch(session, "thing") as things:
        for key in ("a", "bad-1", "b"):
            with things.item(key):
                session.add(Watermark(key=f"{key}-written-first", value="x"))
                _write(session, key)
    assert _marks(session) == {"a", "a-written-first", "b", "b-written-first"}
    failure = _failures(session)[("thing", "bad-1")]
    assert (failure.job_name, failure.reason) == ("test_job", "bad-1: must be a single line")
    assert run.items_failed == 1 and not things.ok("bad-1") and things.ok("a")
    assert failed_ids(session=session, item_type="thing") == ["bad-1"]


def test_the_next_pass_counts_again_and_a_success_clears_it(session):
    for _ in range(2):
        with batch(session, "thing") as things, things.item("bad-1"):
            _write(session, "bad-1")
    failure = _failures(session)[("thing", "bad-1")]
    assert failure.failure_count == 2 and failure.job_name is None
    assert failure.last_seen_at >= failure.first_seen_at
    with batch(session, "other") as others, others.item("bad-1"):
        pass  # another item type never clears this one
    assert ("thing", "bad-1") in _failures(session)
    with batch(session, "thing") as things, things.item("bad-1"):
        pass
    assert _failures(session) == {}


def test_a_failing_chunk_is_written_again_row_by_row(session):
    statements = []

    def write(part):
        statements.append(list(part))
        for row in part:
            _write(session, row)
        return list(part)

    rows = ["a", "b", "bad-1", "c", "d"]
    with batch(session, "row") as written:
        done = written.chunked(rows, write, key=lambda row: row, size=3)
    assert done == ["a", "b", "c", "d"]
    assert statements == [["a", "b", "bad-1"], ["a"], ["b"], ["bad-1"], ["c", "d"]]
    assert _marks(session) == {"a", "b", "c", "d"}
    assert set(_failures(session)) == {("row", "bad-1")}


def test_a_lost_connection_stops_the_pass(session):
    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    lost.connection_invalidated = True
    with (
        pytest.raises(OperationalError),
        batch(session, "thing") as things,
        things.item("a", savepoint=False),
    ):
        raise lost
    assert _failures(session) == {}


def test_a_reason_quoting_bad_data_can_be_stored(session):
    reason = reason_for(ValueError("name 'x\x00y\udcff' is not allowed"))
    assert reason == "Unexpected error (ValueError): name 'xy?' is not allowed"
    with batch(session, "thing") as things, things.item("a", savepoint=False):
        raise ValueError("name 'x\x00y\udcff' is not allowed")
    assert _failures(session)[("thing", "a")].reason == reason
    database = reason_for(_database_error(session))
    assert database == "The database refused it: division by zero"


def _database_error(session):
    try:
        with session.begin_nested():
            session.execute(text("SELECT 1 / 0"))
    except Exception as exc:  # the driver's error, wrapped by SQLAlchemy
        return exc
    raise AssertionError("division by zero did not fail")
