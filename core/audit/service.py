"""Append to the audit log."""

import uuid

from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.schemas import json_ready


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    changes: dict | None = None,
    actor_user_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Write one audit entry in the caller's transaction."""
    entry = AuditEntry(
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=json_ready(changes or {}),
    )
    session.add(entry)
    return entry
