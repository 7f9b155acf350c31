"""Where an incremental pass left off: one timestamp per key in `sync_watermarks`."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

# The moment a pass may store as "everything before this is seen": the earliest of the pass's
# own time (`:now`), the database's clock and the start of any transaction still open on this
# database. Rows carry their transaction's start (`now()`) as their stamp, so one that commits
# after the pass with an earlier stamp is still later than this moment. An SQL expression, for
# a pass to compute it inside the statement that stores it.
SETTLED = """
    least(CAST(:now AS timestamptz), now(),
          coalesce((SELECT min(a.xact_start) FROM pg_stat_activity a
                     WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
                       AND a.datname = current_database()),
                   'infinity'::timestamptz))
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
