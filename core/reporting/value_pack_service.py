"""Use a value pack: record its wins' use in the value repository, queue its Google Doc.

One pack per customer, day and audience: its key (`pack_key`) is the Google Doc's idempotency
key and the Drive record id, so a double click makes one document, and the wins' use is counted
once for it however often the pack is downloaded or asked for. Each use is the repository's own
(`core.repository.service.record_uses`: the entry's count, its last use, an audit line
`repository.use` naming who, and a timeline line); the pack adds one audit line
`value_pack.use` on the customer listing the entries, the audience, the purpose and how it was
used (download format or Google Doc), and `value_pack.google_doc` when its document is queued.
"""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.audit.service import record_audit
from core.base import Role
from core.outbox.models import Channel, Delivery, DeliveryStatus
from core.outbox.service import enqueue
from core.reporting.value_pack import build_value_pack
from core.reporting.value_pack_render import doc_blocks
from core.reporting.value_pack_schemas import PackAudience, PackDoc, PackRequestOut, ValuePack
from core.repository.schemas import UsePurpose
from core.repository.service import record_uses

RELATED_TYPE = "value_pack"  # outbox rows of a pack point at its customer
USE_ACTION = "value_pack.use"
DOC_ACTION = "value_pack.google_doc"


def pack_key(customer_id: uuid.UUID, day: date, audience: PackAudience | str) -> str:
    """The key of one customer's pack of one day for one audience."""
    return f"value_pack:{customer_id}:{day.isoformat()}:{PackAudience(audience).value}"


def record_pack_use(
    *,
    session: Session,
    pack: ValuePack,
    purpose: UsePurpose | str,
    via: str,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
) -> int:
    """Record that the pack's wins were used, once per pack; return how many entries counted."""
    key = pack_key(pack.customer_id, pack.prepared_on, pack.audience)
    # Two requests for the same pack (a double click, two tabs) take turns here.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    done = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.entity_type == "customer",
            AuditEntry.entity_id == str(pack.customer_id),
            AuditEntry.action == USE_ACTION,
            AuditEntry.changes["key"].astext == key,
        )
        .limit(1)
    )
    if done is not None:
        return 0
    entries = [w.entry_id for w in pack.wins if w.entry_id is not None]
    counted = (
        record_uses(
            session=session,
            entry_ids=entries,
            purpose=purpose,
            actor=actor,
            actor_user_id=actor_user_id,
        )
        if entries
        else {}
    )
    record_audit(
        session=session,
        actor=actor,
        actor_user_id=actor_user_id,
        action=USE_ACTION,
        entity_type="customer",
        entity_id=pack.customer_id,
        changes={
            "key": key,
            "audience": pack.audience.value,
            "purpose": UsePurpose(purpose).value,
            "via": via,
            "entryIds": [str(i) for i in counted],
            "achievementIds": [str(w.achievement_id) for w in pack.wins],
        },
    )
    session.flush()
    return len(counted)


def pack_delivery(
    *, session: Session, customer_id: uuid.UUID, audience: PackAudience | str, day: date
) -> Delivery | None:
    """Return the Google Doc delivery of that day's pack, if one was asked for."""
    key = pack_key(customer_id, day, audience)
    return session.scalar(select(Delivery).where(Delivery.idempotency_key == key))


def doc_status(
    *, session: Session, customer_id: uuid.UUID, audience: PackAudience | str, day: date
) -> PackDoc | None:
    """Return where the Google Doc of that day's pack stands (None: nobody asked for it)."""
    found = pack_delivery(session=session, customer_id=customer_id, audience=audience, day=day)
    if found is None:
        return None
    return PackDoc(
        status=found.status,
        doc_url=found.external_ref if found.status == DeliveryStatus.SENT else None,
        attempts=found.attempts,
        last_error=found.last_error,
        sent_at=found.sent_at,
    )


def request_google_doc(
    *,
    session: Session,
    customer_id: uuid.UUID,
    viewer: Role | None,
    audience: PackAudience | str,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
    purpose: UsePurpose | str = UsePurpose.QBR,
    now: datetime | None = None,
) -> PackRequestOut:
    """Queue today's pack as a Google Doc (once per customer, day and audience) and record use."""
    now = now or datetime.now(UTC)
    pack = build_value_pack(
        session=session, customer_id=customer_id, viewer=viewer, audience=audience, now=now
    )
    key = pack_key(customer_id, pack.prepared_on, pack.audience)
    payload = {"recordId": key, "title": pack.title, "blocks": doc_blocks(pack)}
    queued = enqueue(
        session=session,
        channel=Channel.GOOGLE_DOC,
        payload=payload,
        idempotency_key=key,
        related_type=RELATED_TYPE,
        related_id=customer_id,
    )
    used = record_pack_use(
        session=session,
        pack=pack,
        purpose=purpose,
        via="google_doc",
        actor=actor,
        actor_user_id=actor_user_id,
    )
    if queued is not None:
        record_audit(
            session=session,
            actor=actor,
            actor_user_id=actor_user_id,
            action=DOC_ACTION,
            entity_type="customer",
            entity_id=customer_id,
            changes={"key": key, "audience": pack.audience.value, "deliveryId": str(queued)},
        )
    session.flush()
    delivery = pack_delivery(
        session=session, customer_id=customer_id, audience=pack.audience, day=pack.prepared_on
    )
    return PackRequestOut(
        idempotency_key=key,
        delivery_id=delivery.id,
        queued=queued is not None,
        status=delivery.status,
        doc_url=delivery.external_ref if delivery.status == DeliveryStatus.SENT else None,
        title=pack.title,
        audience=pack.audience,
        wins=len(pack.wins),
        entries_used=used,
        requested_at=now,
    )
