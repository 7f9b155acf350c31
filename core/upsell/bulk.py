"""Write what a tracking pass prepared: a chunk of rows per statement, each item isolated.

Every step of the `upsell_tracking` pass that writes something per plan (an alert, milestones,
a feedback ask, an outcome proposal, an overdue reminder) first prepares its rows in memory,
item by item (an item that cannot be prepared is recorded and left out), then writes them here
with `Batch.chunked`: one statement per chunk of at most `CHUNK_ROWS` rows, one array per column
(`core.audit.bulk`), and for a chunk the database refuses, one savepoint per row so only the
refused item fails. The callers ask `Batch.ok` which items went through.
"""

from collections.abc import Callable, Sequence

from sqlalchemy import Table, text

from core.audit.bulk import insert_rows
from core.audit.failures import Batch
from core.outbox.bulk import enqueue_many

EXISTING_KEYS = text(
    """
    SELECT idempotency_key FROM outbox_deliveries
     WHERE idempotency_key = ANY(CAST(:keys AS text[]))
    """
)


def related(row: dict):
    """Return the item a delivery row belongs to (its related record)."""
    return row["related_id"]


def enqueue(items: Batch, deliveries: Sequence[dict], *, key: Callable = related) -> int:
    """Enqueue deliveries made by `core.outbox.bulk.delivery`; return how many are new."""
    if not deliveries:
        return 0
    # A key that exists keeps its delivery and is not counted, as `enqueue` does one by one.
    keys = [d["idempotency_key"] for d in deliveries]
    existing = set(items.session.scalars(EXISTING_KEYS, {"keys": keys}))
    items.chunked(
        deliveries, lambda part: enqueue_many(session=items.session, deliveries=part), key=key
    )
    return sum(items.ok(key(d)) and d["idempotency_key"] not in existing for d in deliveries)


def insert(
    items: Batch, table: Table, rows: Sequence[dict], *, key: Callable, skip_conflicts_on=()
) -> int:
    """Insert rows of `table`, a chunk per statement; return how many rows' items went through."""
    items.chunked(
        rows,
        lambda part: insert_rows(items.session, table, part, skip_conflicts_on=skip_conflicts_on),
        key=key,
    )
    return sum(items.ok(key(row)) for row in rows)
