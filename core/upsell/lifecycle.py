"""Follow a plan through to its end: escalate overdue reviews once, close undecided plans.

A plan runs from its close date through its checkpoints. After the last one it proposes an
outcome (`outcomes.propose_outcomes`) and waits for the CSM, who has 30 days from the proposal
(`upsell_outcomes.decide_by`) to confirm or override it; the plan then closes (`completed`). If
nobody decides in time, the plan closes as "no decision": an outcome that counts neither as a
success nor as a failure (the outcome report and predictions leave it out), with no health
factor. A CSM can still record the decision later; it replaces "no decision".

An overdue checkpoint review (see `checkpoints.py`) is escalated once: one Slack DM to the
customer's CSM (idempotency key `checkpoint:<id>:overdue`, `checkpoints.escalated_at` set), never
again on later passes. Without a CSM nothing is sent until someone owns the customer. A reminder
that cannot be queued leaves its checkpoint unescalated (tried again on the next pass) and is
recorded with its reason; the others go out.
"""

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.audit.failures import batch
from core.integrations import escape
from core.outbox.bulk import delivery
from core.outbox.models import Channel
from core.upsell import bulk
from core.upsell.models import Checkpoint, Measurement, Outcome
from core.upsell.reviews import checkpoint_title

ITEM = "overdue_review"  # an overdue checkpoint review to remind (job_item_failures.item_type)
OVERDUE = text(
    """
    SELECT c.id, c.day, c.review_due_on, c.doc_url, cu.name AS customer, up.name AS upsell,
           u.email
      FROM checkpoints c
      JOIN upsell_measurements m ON m.id = c.measurement_id
      JOIN customers cu ON cu.id = m.customer_id
      JOIN upsells up ON up.id = m.upsell_id
      JOIN users u ON u.id = cu.owner_csm_id
     WHERE c.status = 'overdue' AND c.escalated_at IS NULL AND m.status = 'active'
     ORDER BY c.review_due_on, c.id
    """
)
ESCALATED = text(
    """
    UPDATE checkpoints SET escalated_at = :now, updated_at = now()
     WHERE id = ANY(CAST(:ids AS uuid[]))
    """
)
CLOSE_UNDECIDED = text(
    """
    WITH outcomes AS (
      UPDATE upsell_outcomes o SET status = 'no_decision', decided_at = :now, updated_at = now()
        FROM upsell_measurements m
       WHERE m.id = o.measurement_id AND m.status = 'active'
         AND o.status IS NULL AND o.decide_by < :today
      RETURNING o.measurement_id, o.proposed_status, o.decide_by
    ), plans AS (
      UPDATE upsell_measurements m
         SET status = 'completed', evaluated_at = :now, version = m.version + 1,
             updated_at = now()
        FROM outcomes o
       WHERE m.id = o.measurement_id
      RETURNING m.id, m.customer_id, m.upsell_id, o.proposed_status, o.decide_by
    ), lines AS (
      INSERT INTO timeline_events (id, customer_id, occurred_at, kind, title, body,
                                   related_type, related_id)
      SELECT gen_random_uuid(), p.customer_id, :now, 'upsell_outcome',
             'Upsell plan for ' || up.name || ' closed without a decision',
             'Nobody confirmed the proposed outcome (' || replace(p.proposed_status, '_', ' ')
               || ') by ' || to_char(p.decide_by, 'YYYY-MM-DD') || '.',
             'measurement', p.id
        FROM plans p JOIN upsells up ON up.id = p.upsell_id
    )
    INSERT INTO audit_log (actor, action, entity_type, entity_id, changes)
    SELECT 'upsell_tracking', 'upsell.outcome.no_decision', 'measurement', p.id::text,
           jsonb_build_object('proposed', p.proposed_status, 'decide_by', p.decide_by,
                              'status', jsonb_build_array('active', 'completed'))
      FROM plans p
    """
)


def _payload(row) -> dict:
    title = checkpoint_title(row.day)
    since = row.review_due_on.isoformat()
    headline = escape.mrkdwn(
        "*{customer}*: the {title} of {upsell} is overdue; its review was due by {since}.",
        customer=row.customer,
        title=title,
        upsell=row.upsell,
        since=since,
    )
    doc = f"\nReview document: {escape.slack_link(row.doc_url, 'open')}" if row.doc_url else ""
    return {
        "email": row.email,
        "text": f"{row.customer}: the {title} of {row.upsell} is overdue since {since}.",
        "blocks": [
            escape.header(f"Review overdue: {row.customer}"),
            escape.section(headline + doc, escape=False),
            escape.context("Record the review in Outcomes. This reminder is sent once."),
        ],
    }


def escalate_overdue(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """DM the CSM once about each overdue checkpoint review not escalated yet."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    session.flush()
    rows = session.execute(OVERDUE).all()
    dms = []
    with batch(session, ITEM) as reminders:
        for row in rows:
            # Preparing only computes; the reminders are then queued a chunk at a time, and
            # one that cannot be queued is tried on the next pass.
            with reminders.item(row.id, savepoint=False):
                dms.append(_remind(row))
        sent = bulk.enqueue(reminders, dms)
        escalated = [d["related_id"] for d in dms if reminders.ok(d["related_id"])]
        if escalated:
            session.execute(ESCALATED, {"now": now, "ids": escalated})
            _expire(session)
    return {"overdue_escalations": sent}


def _remind(row) -> dict:
    """Return the reminder DM of one overdue checkpoint review (a delivery row)."""
    return delivery(
        channel=Channel.SLACK_DM,
        payload=_payload(row),
        idempotency_key=f"checkpoint:{row.id}:overdue",
        related_type="checkpoint",
        related_id=row.id,
    )


def close_undecided(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Close as "no decision" every active plan whose proposed outcome went undecided too long."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    session.flush()
    closed = session.execute(CLOSE_UNDECIDED, {"now": now, "today": now.date()}).rowcount
    if closed:
        _expire(session)
    return {"plans_closed_undecided": closed}


def _expire(session: Session) -> None:
    """Forget loaded rows the raw SQL above changed behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Checkpoint | Measurement | Outcome):
            session.expire(obj)
