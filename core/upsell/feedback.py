"""Customer feedback at the 60-day review: one ask per plan, through the approval queue.

The ask: once an active plan is 60 days past its close (and still within its horizon), a short
CSAT and feedback request to the customer's primary contact (else their first contact by name)
is drafted into the approval queue from the `feedback_request` template, related to the plan.
Drafts are unique per kind and related row, so a plan gets one ask however often the pass runs;
a customer without contacts gets none until one is added. Nothing reaches the customer before
the CSM approves it. A plan whose ask cannot be drafted (say the subject would break a rule) is
recorded as failed with its reason and tried again on the next pass; the other plans go on.

The answers: the customer's NPS and CSAT responses (`customer_feedback`; a quote a CSM logged
without a score is no answer) from the moment the ask was approved (it is sent then) to
ANSWER_DAYS later. A pending ask has no answers yet and a rejected one none at all (nothing was
asked). The plan page shows them; `feedback_lines` gives the sentences a review or the 90-day
assessment cites.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.audit.failures import batch
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.drafts.service import ONCE_PER, draft_row
from core.drafts.templates import get_template, preview
from core.upsell import bulk, curve

ASK_DAY = 60
ANSWER_DAYS = 60
TEMPLATE = "feedback_request"
RELATED = "measurement"
ITEM = "feedback_ask"  # a plan's feedback ask to draft (job_item_failures.item_type)
SCALES = {"csat": 5, "nps": 10}
ANSWERED = (DraftStatus.APPROVED.value, DraftStatus.SENT.value)  # the ask went out
_ANSWERED_SQL = ", ".join(f"'{s}'" for s in ANSWERED)
ASK_LABELS = {
    DraftStatus.PENDING.value: "Drafted, waiting for the CSM's approval",
    DraftStatus.APPROVED.value: "Approved, being sent",
    DraftStatus.SENT.value: "Sent",
    DraftStatus.REJECTED.value: "Not sent: the draft was rejected",
    DraftStatus.FAILED.value: "Could not be sent",
}

DUE = text(
    f"""
    SELECT m.id, m.customer_id, (CAST(:today AS date) - m.started_on) AS days,
           c.name AS customer, u.id AS csm_id, u.name AS csm_name,
           ct.email, ct.name AS contact_name,
           coalesce((SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM upsell_products l
                       JOIN products p ON p.code = l.product_code WHERE l.upsell_id = up.id),
                    up.name) AS products
      FROM upsell_measurements m
      JOIN customers c ON c.id = m.customer_id
      JOIN upsells up ON up.id = m.upsell_id
      LEFT JOIN users u ON u.id = c.owner_csm_id
      JOIN LATERAL (SELECT x.email, x.name FROM customer_contacts x WHERE x.customer_id = c.id
                     ORDER BY x.is_primary DESC, x.name, x.email LIMIT 1) ct ON true
     WHERE m.status = 'active'
       AND m.started_on + {ASK_DAY} <= CAST(:today AS date)
       AND CAST(:today AS date) - m.started_on <= {curve.HORIZON}
       AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.kind = '{DraftKind.FEEDBACK_REQUEST.value}'
                        AND d.related_type = '{RELATED}' AND d.related_id = m.id)
     ORDER BY m.id
    """
)
ANSWERS = text(
    f"""
    SELECT d.related_id AS plan_id, d.id AS draft_id, d.status, d.created_at, d.decided_at,
           d.to_addresses, f.kind, f.score, f.comment, f.respondent_name, f.respondent_title,
           f.responded_at
      FROM drafts d
      LEFT JOIN customer_feedback f ON f.customer_id = d.customer_id
       AND d.status IN ({_ANSWERED_SQL}) AND f.responded_at >= d.decided_at
       AND f.responded_at < d.decided_at + interval '{ANSWER_DAYS} days'
       AND f.score IS NOT NULL
     WHERE d.kind = '{DraftKind.FEEDBACK_REQUEST.value}' AND d.related_type = '{RELATED}'
       AND d.related_id = ANY(CAST(:ids AS uuid[]))
     ORDER BY d.related_id, f.responded_at
    """
)


@dataclass
class Answer:
    """One NPS or CSAT response that came back after the ask."""

    kind: str
    score: int
    comment: str | None
    respondent_name: str | None
    respondent_title: str | None
    responded_at: datetime


@dataclass
class Ask:
    """A plan's feedback ask: its draft, where it stands and the answers so far."""

    draft_id: uuid.UUID
    status: str
    drafted_at: datetime
    sent_at: datetime | None
    to: list[str]
    answers: list[Answer] = field(default_factory=list)


def ask_due(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Draft the 60-day feedback ask of every plan that reached day 60 and has none yet."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    session.flush()
    due = session.execute(DUE, {"today": now.date()}).all()
    if not due:
        return {"feedback_asks": 0}
    template = get_template(session=session, key=TEMPLATE)  # read once for the whole pass
    drafts = []
    with batch(session, ITEM) as asks_done:
        for row in due:
            # One plan's ask that cannot be drafted stays alone; the rest are written together.
            with asks_done.item(row.id, savepoint=False):
                drafts.append(_ask(template, row))
        drafted = bulk.insert(
            asks_done, Draft.__table__, drafts, key=_plan_of, skip_conflicts_on=ONCE_PER
        )
    return {"feedback_asks": drafted}


def _plan_of(draft: dict) -> uuid.UUID:
    return draft["related_id"]


def _ask(template, row) -> dict:
    """Return the draft row of one plan's ask; raise Invalid if its text breaks a rule."""
    context = {
        "customer_name": row.customer,
        "contact_name": row.contact_name.split()[0] if row.contact_name else "there",
        "product_names": row.products,
        "days_since_start": str(row.days),
        "csm_name": row.csm_name or "the customer success team",
    }
    subject, body = preview(subject=template.subject, body=template.body, context=context)
    return draft_row(
        kind=DraftKind.FEEDBACK_REQUEST,
        customer_id=row.customer_id,
        owner_id=row.csm_id,
        related_type=RELATED,
        related_id=row.id,
        to=[row.email],
        subject=subject,
        body=body,
    )


def asks(*, session: Session, measurement_ids: list[uuid.UUID]) -> dict[uuid.UUID, Ask]:
    """Return each plan's feedback ask with its answers (plans never asked are left out)."""
    found: dict[uuid.UUID, Ask] = {}
    answers: dict[uuid.UUID, list[Answer]] = defaultdict(list)
    for row in session.execute(ANSWERS, {"ids": list(measurement_ids)}):
        sent = row.decided_at if row.status in ANSWERED else None
        found.setdefault(
            row.plan_id,
            Ask(row.draft_id, row.status, row.created_at, sent, list(row.to_addresses)),
        )
        if row.responded_at is not None:
            answers[row.plan_id].append(
                Answer(
                    kind=row.kind,
                    score=row.score,
                    comment=row.comment,
                    respondent_name=row.respondent_name,
                    respondent_title=row.respondent_title,
                    responded_at=row.responded_at,
                )
            )
    for plan_id, ask in found.items():
        ask.answers = answers[plan_id]
    return found


def answer_line(answer: Answer) -> str:
    """Say one answer in plain words: 'CSAT 4 of 5 from Priya Shah (VP Ops) on 2026-11-03: …'."""
    scale = SCALES.get(str(answer.kind), 10)
    who = answer.respondent_name or "an unnamed respondent"
    if answer.respondent_name and answer.respondent_title:
        who += f" ({answer.respondent_title})"
    day: date = answer.responded_at.astimezone(UTC).date()
    line = f"{str(answer.kind).upper()} {answer.score} of {scale} from {who} on {day.isoformat()}"
    return f"{line}: “{answer.comment.strip()}”" if answer.comment else f"{line}."


def feedback_lines(ask: Ask | None) -> list[str]:
    """Return what the plan's feedback ask brought back, for a review to cite."""
    if ask is None:
        return []
    if ask.sent_at is None:
        return (
            ["The 60-day feedback request was not sent."]
            if ask.status == DraftStatus.REJECTED
            else []
        )
    if not ask.answers:
        return [f"No feedback yet since the request on {ask.sent_at.date().isoformat()}."]
    return [f"Customer feedback: {answer_line(a)}" for a in ask.answers]
