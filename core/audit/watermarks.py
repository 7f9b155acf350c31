"""Where an incremental pass left off: one timestamp per key in `sync_watermarks`."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

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
