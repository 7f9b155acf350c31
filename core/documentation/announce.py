"""Announce documented wins: the Slack celebration, the record's Google Doc, held-win DMs."""

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.audit.failures import batch, failed_ids
from core.outbox.bulk import delivery
from core.outbox.models import Channel
from core.outbox.service import enqueue
from core.records import render
from core.records.facts import RecordFacts
from core.records.models import SuccessRecord

HELD_ITEM = "held_win"  # a held win's DM to its CSM (job_item_failures.item_type)


def announcements(facts: RecordFacts, record_id: uuid.UUID) -> list[dict]:
    """Return the deliveries of a documented win: its Slack celebration and its Google Doc."""
    return [
        delivery(
            channel=Channel.SLACK_MESSAGE,
            payload=render.slack_announcement(facts),
            idempotency_key=f"achievement:{facts.achievement_id}:slack",
            related_type="achievement",
            related_id=uuid.UUID(facts.achievement_id),
        ),
        delivery(
            channel=Channel.GOOGLE_DOC,
            payload={
                "recordId": str(record_id),
                "title": f"Success record — {render.title(facts)}",
                "blocks": render.doc_blocks(facts),
            },
            idempotency_key=f"success_record:{record_id}:doc",
            related_type="success_record",
            related_id=record_id,
        ),
    ]


def record_doc_written(session: Session, record_id: uuid.UUID, url: str) -> None:
    """Keep the Google Doc's address on the success record once Drive has it."""
    record = session.get(SuccessRecord, record_id)
    if record is not None:
        record.doc_url = url


def notify_held(*, session: Session, achievement_ids: list[uuid.UUID]) -> int:
    """DM the CSM about each win held for confirmation (a lone spike in the data).

    Each DM is its own item: one that cannot be queued is recorded as failed and tried again on
    the next call, until it is queued or the win is no longer held.
    """
    retry = [uuid.UUID(i) for i in failed_ids(session=session, item_type=HELD_ITEM)]
    held = session.execute(
        text(
            "SELECT a.id, g.name, c.name AS customer, u.email, a.rule FROM goal_achievements a "
            "JOIN goals g ON g.id = a.goal_id JOIN customers c ON c.id = a.customer_id "
            "JOIN users u ON u.id = c.owner_csm_id "
            "WHERE a.id = ANY(:ids) AND a.status = 'held_for_confirmation'"
        ),
        {"ids": [*achievement_ids, *retry]},
    ).all()
    with batch(session, HELD_ITEM) as dms:
        dms.resolved(set(retry) - {row.id for row in held})
        for row in held:
            message = f"Please confirm a possible win for {row.customer}: {row.name}. {row.rule}."
            with dms.item(row.id):
                enqueue(
                    session=session,
                    channel=Channel.SLACK_DM,
                    payload={"email": row.email, "text": message, "blocks": []},
                    idempotency_key=f"achievement:{row.id}:held-dm",
                    related_type="achievement",
                    related_id=row.id,
                )
    return len(held) - len(dms.failed)
