"""Record that someone used a proof point (QBR, renewal, deal, campaign) and count its uses."""

import uuid

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.orm import Session

from core.audit.service import record_audit
from core.customers.models import Customer, TimelineEvent
from core.errors import Invalid, NotFound
from core.repository.consent import fill
from core.repository.models import RepositoryEntry as E
from core.repository.schemas import UsePurpose


def record_uses(
    *, session: Session, entry_ids, purpose, actor: str = "app", actor_user_id=None
) -> dict[uuid.UUID, int]:
    """Count one use of each entry (copy, export, QBR) with audit and timeline lines."""
    try:
        purpose = UsePurpose(purpose)
    except ValueError:
        names = ", ".join(p.value for p in UsePurpose)
        raise Invalid(f"purpose must be one of: {names}.") from None
    ids = list(dict.fromkeys(uuid.UUID(str(i)) for i in entry_ids))
    rows = session.execute(
        sa.update(E)
        .where(E.id.in_(ids), Customer.id == E.customer_id)
        .values(usage_count=E.usage_count + 1, last_used_at=func.now())
        .returning(E.id, E.customer_id, E.title, E.usage_count, Customer.name),
        execution_options={"synchronize_session": False},
    ).all()
    for row in rows:
        record_audit(
            session=session,
            actor=actor,
            actor_user_id=actor_user_id,
            action="repository.use",
            entity_type="value_repository_entry",
            entity_id=row.id,
            changes={"purpose": purpose.value, "usage_count": row.usage_count},
        )
        session.add(
            TimelineEvent(
                customer_id=row.customer_id,
                kind="repository_use",
                actor_user_id=actor_user_id,
                # The customer's own timeline (internal) reads the entry's title with its name.
                title=f"Win used ({purpose.value}): {fill(row.title, (), row.name)}"[:300],
                related_type="value_repository_entry",
                related_id=row.id,
            )
        )
    session.flush()
    return {row.id: row.usage_count for row in rows}


def record_use(
    *, session: Session, entry_id, purpose, actor: str = "app", actor_user_id=None
) -> int:
    """Count one use of an entry and return its new usage count."""
    counts = record_uses(
        session=session,
        entry_ids=[entry_id],
        purpose=purpose,
        actor=actor,
        actor_user_id=actor_user_id,
    )
    if not counts:
        raise NotFound(f"No value repository entry {entry_id}.")
    return next(iter(counts.values()))
