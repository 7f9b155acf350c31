"""Deliver the outbox: Slack, Gmail, Google Docs/Calendar and Salesforce write-backs."""

from sqlalchemy.orm import Session

from core.documentation.announce import record_doc_written
from core.drafts.service import mark_sent
from core.outbox.models import Channel
from core.outbox.service import SentHandlers
from core.outbox.worker import deliver_due
from core.upsell.checkpoints import review_doc_written, review_event_created
from jobs.registry import job

# Every domain's reaction to a delivered message, keyed by the delivery's related type and channel.
SENT_HANDLERS: SentHandlers = {
    ("draft", Channel.GMAIL): mark_sent,
    ("success_record", Channel.GOOGLE_DOC): record_doc_written,
    ("checkpoint", Channel.GOOGLE_DOC): review_doc_written,
    ("checkpoint", Channel.CALENDAR): review_event_created,
}


@job("outbox", seconds=5, exclusive=False, quiet=True)
def outbox(*, session: Session) -> dict:
    """Deliver every due outbox row (retries with backoff; dead letters wait for a person)."""
    return deliver_due(on_sent=SENT_HANDLERS)
