"""Where an incremental pass left off: one timestamp per key in `sync_watermarks`."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

# The moment a pass may store as "everything stamped up to here is seen", less the grace
# (`:grace`, an interval) it re-reads anyway: the pass's own time (`:now`) less the grace, but
# never later than the database's clock (a host whose clock runs ahead by more than the grace)
# and always before the start of any transaction still open on this database (its rows carry
# that start, `now()`, as their stamp, and may commit after the pass). An SQL expression, so a
# pass can compute it inside the statement that stores it.
SETTLED = """
    least(CAST(:now AS timestamptz), now() + CAST(:grace AS interval),
          coalesce((SELECT min(a.xact_start) FROM pg_stat_activity a
                     WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
                       AND a.datname = current_database()),
                   'infinity'::timestamptz))
    - CAST(:grace AS interval)
"""
READ = text("SELECT value FROM sync_watermarks WHERE key = :key")
WRITE = text(
    """
    INSERT INTO sync_watermarks (key, value) VALUES (:key, :value)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
    """
)


def read_watermark(session: Session, key: str) -> datetime | None:
    """Return the moment stored under `key`, or None before the first pass."""
    value = session.scalar(READ, {"key": key})
    return None if value is None else datetime.fromisoformat(value)


def write_watermark(session: Session, key: str, moment: datetime) -> None:
    """Store `moment` under `key` in place of the last one."""
    session.execute(WRITE, {"key": key, "value": moment.isoformat()})
