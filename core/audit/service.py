"""Append to the audit log.

An entry names the person who acted and, for changes made through the API, the key they called
with. The API stamps its key on the request's session once (`act_with_key`), so every entry the
request's services write carries it without each service passing it along.
"""

import uuid

from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.schemas import json_ready

_KEY = "audit_api_key_id"


def act_with_key(*, session: Session, api_key_id: uuid.UUID | None) -> None:
    """Attribute every audit entry this session writes from now on to the API key `api_key_id`."""
    session.info[_KEY] = api_key_id


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    changes: dict | None = None,
    actor_user_id: uuid.UUID | None = None,
    api_key_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Write one audit entry in the caller's transaction (with the session's API key, if any)."""
    entry = AuditEntry(
        actor=actor,
        actor_user_id=actor_user_id,
        api_key_id=api_key_id or session.info.get(_KEY),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=json_ready(changes or {}),
    )
    session.add(entry)
    return entry
