"""Per-item isolation for jobs: one bad item is recorded with its reason, the rest go on.

A job pass that loops over items (wins to document, plans to score, checkpoints to prepare,
Salesforce rows …) runs each item's step inside `Batch.item`: in its own savepoint when it
writes, so a failure rolls back that item only. The failure is kept in `job_item_failures` (one
row per item type and item: reason, first and last seen, how often) and shown on the System page;
the job tries the item again on its next run, and the row is deleted once the item succeeds.
Set-based statements stay set-based: `Batch.chunked` writes rows in chunks that fit a statement
and falls back to one savepoint per row only for a chunk that failed.

Only a lost database connection stops the whole pass (a savepoint cannot help then). The name of
the running job comes from `running`, which the job registry enters around every run.
"""

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.errors import DomainError

log = logging.getLogger("jobs.items")

T = TypeVar("T")
R = TypeVar("R")

# Rows per chunk of a bulk write: a chunk is one statement (psycopg takes at most 65,535
# parameters per statement, so writers pass one array per column or use executemany).
CHUNK_ROWS = 1_000
REASON_CHARS = 1_000
ID_CHARS = 64  # job_item_failures.item_id

RECORD = text(
    """
    INSERT INTO job_item_failures AS f (id, job_name, item_type, item_id, reason)
    SELECT gen_random_uuid(), CAST(:job AS varchar), CAST(:item_type AS varchar), x.item_id,
           x.reason
      FROM unnest(CAST(:ids AS text[]), CAST(:reasons AS text[])) AS x(item_id, reason)
    ON CONFLICT (item_type, item_id) DO UPDATE
       SET job_name = excluded.job_name, reason = excluded.reason, last_seen_at = now(),
           failure_count = f.failure_count + 1
    """
)
CLEAR = text(
    """
    DELETE FROM job_item_failures
     WHERE item_type = :item_type AND item_id = ANY(CAST(:ids AS text[]))
    """
)


@dataclass
class Run:
    """The job being run and how many of its items failed so far."""

    job_name: str
    items_failed: int = 0


_RUN: ContextVar[Run | None] = ContextVar("outcomes_job_run", default=None)


@contextmanager
def running(job_name: str) -> Iterator[Run]:
    """Name the job that is running (failures are recorded under it) and count its failures."""
    run = Run(job_name)
    token = _RUN.set(run)
    try:
        yield run
    finally:
        _RUN.reset(token)


def chunks(items: Sequence[T], size: int = CHUNK_ROWS) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reason_for(exc: BaseException) -> str:
    """Say why an item failed, in the words a person can act on when there are any."""
    if isinstance(exc, DomainError):
        reason = str(exc)
    elif isinstance(exc, DBAPIError):
        first = str(exc.orig or exc).strip().splitlines() or [type(exc).__name__]
        reason = f"The database refused it: {first[0]}"
    elif isinstance(exc, ArithmeticError):
        reason = f"A number in its data could not be worked with ({type(exc).__name__})"
    else:
        reason = f"Unexpected error ({type(exc).__name__}): {exc}"
    # The reason may quote the bad data itself: keep it storable (no NUL, no lone surrogate).
    reason = reason.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return reason.strip()[:REASON_CHARS] or type(exc).__name__


def _key(item_id: uuid.UUID | str) -> str:
    return str(item_id)[:ID_CHARS]


def fatal(exc: BaseException) -> bool:
    """True when no item can go on: the database connection itself is gone."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@dataclass
class Batch:
    """One pass over items of one type; see the module docstring."""

    session: Session
    item_type: str
    failed: dict[str, str] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)

    @contextmanager
    def item(self, item_id: uuid.UUID | str, *, savepoint: bool = True) -> Iterator[None]:
        """Run the body for one item; on failure roll it back (savepoint) and remember why.

        `savepoint=False` for steps that only compute (nothing to roll back).
        """
        key = _key(item_id)
        try:
            if savepoint:
                with self.session.begin_nested():
                    yield
            else:
                yield
        except Exception as exc:
            if fatal(exc):
                raise
            self.failed[key] = reason_for(exc)
            self.succeeded.discard(key)
            log.warning("%s %s failed: %s", self.item_type, key, self.failed[key])
        else:
            if key not in self.failed:
                self.succeeded.add(key)

    def resolved(self, item_ids: Iterable[uuid.UUID | str]) -> None:
        """Clear earlier failures of items that no longer need this step (e.g. were decided)."""
        self.succeeded.update(k for k in map(_key, item_ids) if k not in self.failed)

    def ok(self, item_id: uuid.UUID | str) -> bool:
        """True unless the item failed in this pass."""
        return _key(item_id) not in self.failed

    def chunked(
        self,
        rows: Sequence[T],
        write: Callable[[Sequence[T]], Iterable[R] | None],
        *,
        key: Callable[[T], uuid.UUID | str],
        size: int = CHUNK_ROWS,
    ) -> list[R]:
        """Write rows a chunk per statement; retry a failed chunk one row per savepoint.

        Returns what `write` returned for the rows written (e.g. RETURNING rows).
        """
        written: list[R] = []
        for part in chunks(rows, size):
            try:
                with self.session.begin_nested():
                    result = write(part)
            except Exception as exc:
                if fatal(exc):
                    raise
                for row in part:
                    with self.item(key(row)):
                        written.extend(write([row]) or ())
            else:
                written.extend(result or ())
                self.resolved(key(row) for row in part)
        return written

    def settle(self) -> int:
        """Record this pass's failures and clear the failures of items that succeeded now."""
        run = _RUN.get()
        if self.succeeded:
            params = {"item_type": self.item_type, "ids": sorted(self.succeeded)}
            self.session.execute(CLEAR, params)
        if self.failed:
            self.session.execute(
                RECORD,
                {
                    "job": run.job_name if run else None,
                    "item_type": self.item_type,
                    "ids": list(self.failed),
                    "reasons": list(self.failed.values()),
                },
            )
            if run is not None:
                run.items_failed += len(self.failed)
        return len(self.failed)


@contextmanager
def batch(session: Session, item_type: str) -> Iterator[Batch]:
    """Open a `Batch` of `item_type`; record its failures when the pass ends without error."""
    current = Batch(session, item_type)
    yield current
    current.settle()


def failed_ids(*, session: Session, item_type: str) -> list[str]:
    """Return the ids of items of this type that failed and wait for a retry."""
    rows = session.execute(
        text("SELECT item_id FROM job_item_failures WHERE item_type = :t ORDER BY first_seen_at"),
        {"t": item_type},
    )
    return [r.item_id for r in rows]
