"""Customer feedback: NPS and CSAT responses, quotes CSMs log, and which of them may be quoted.

Responses come from survey tools through `POST /api/customers/{externalId}/feedback` (source
"api"), stored once per source id: the same response again changes nothing, a corrected one
(score, comment, respondent, time) updates it, and a source id already recorded for another
customer is a conflict. A CSM logs a quote from a call on the customer page (source "call"),
with a score when the customer gave one, else as kind "quote" without a score.

Rules: NPS is scored 0-10, CSAT 1-5 (the usual scales; a quote has no score); the response
lies between 2000-01-01 and now; a respondent email that matches one of the customer's contacts
links the feedback to that contact (a logged quote without an email: a contact of that exact
name, when only one has it), and an empty name or title is taken from the contact.

Success records quote a customer's *quotable* feedback (`core/records/facts.py`): positive
(an NPS promoter 9-10, a satisfied CSAT 4-5, or a quote a CSM logged without a score) and at
least `QUOTE_MIN_LENGTH` characters. A quote logged from a call is chosen on purpose, so it is
quoted before survey comments. Every write is audited.
"""

import enum
import uuid
from datetime import UTC, datetime, time

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import paging
from core.audit.service import record_audit
from core.customers.contacts import acting_editor
from core.customers.models import Contact, Customer, Feedback, FeedbackKind, FeedbackSource
from core.customers.queries import customer_id_for
from core.customers.schemas import (
    FEEDBACK_KINDS,
    FeedbackIn,
    FeedbackOut,
    FeedbackPage,
    QuoteIn,
    RespondentOut,
)
from core.errors import Conflict, Invalid, NotFound

QUOTE_MIN_LENGTH = 30
SCALES = {FeedbackKind.NPS: (0, 10), FeedbackKind.CSAT: (1, 5)}


class Sentiment(enum.StrEnum):
    """Where a score falls on its scale."""

    PROMOTER = "promoter"  # NPS 9-10
    PASSIVE = "passive"  # NPS 7-8
    DETRACTOR = "detractor"  # NPS 0-6
    SATISFIED = "satisfied"  # CSAT 4-5
    NEUTRAL = "neutral"  # CSAT 3
    DISSATISFIED = "dissatisfied"  # CSAT 1-2


def sentiment(kind: str, score: int | None) -> Sentiment | None:
    """Return where a score falls on its kind's scale (None for a quote without a score)."""
    if score is None:
        return None
    if kind == FeedbackKind.NPS:
        if score >= 9:
            return Sentiment.PROMOTER
        return Sentiment.PASSIVE if score >= 7 else Sentiment.DETRACTOR
    if score >= 4:
        return Sentiment.SATISFIED
    return Sentiment.NEUTRAL if score == 3 else Sentiment.DISSATISFIED


def positive(kind: str, score: int | None) -> bool:
    """Return True for a promoter, a satisfied customer or a quote a CSM logged without a score."""
    if kind == FeedbackKind.QUOTE:
        return True
    return sentiment(kind, score) in (Sentiment.PROMOTER, Sentiment.SATISFIED)


def quotable(kind: str, score: int | None, comment: str | None) -> bool:
    """Return True when success records may quote this feedback."""
    return positive(kind, score) and len((comment or "").strip()) >= QUOTE_MIN_LENGTH


def check_score(kind: str | None, score: int | None) -> FeedbackKind:
    """Return the kind, or Invalid naming the field when the kind or the score breaks a rule."""
    if kind is None and score is None:
        return FeedbackKind.QUOTE
    if kind not in FEEDBACK_KINDS:
        raise Invalid(
            "kind: must be one of nps (scored 0-10), csat (scored 1-5)"
            if kind is not None
            else "kind: say whether the score is NPS (0-10) or CSAT (1-5)"
        )
    kind = FeedbackKind(kind)
    low, high = SCALES[kind]
    if score is None:
        raise Invalid(f"score: give the {kind.value.upper()} score ({low}-{high})")
    if not low <= score <= high:
        raise Invalid(f"score: {kind.value.upper()} is scored from {low} to {high}, not {score}")
    return kind


def feedback_out(fb: Feedback, contact_email: str | None = None) -> FeedbackOut:
    """Return a piece of feedback as the API and the page show it."""
    return FeedbackOut(
        id=fb.id,
        customer_id=fb.customer_id,
        kind=fb.kind.value,
        score=fb.score,
        comment=fb.comment,
        respondent=RespondentOut(
            name=fb.respondent_name,
            title=fb.respondent_title,
            email=fb.respondent_email or contact_email,
            contact_id=fb.contact_id,
        ),
        responded_at=fb.responded_at,
        source=fb.source,
        source_id=fb.source_id,
        quotable=quotable(fb.kind, fb.score, fb.comment),
    )


NEWEST_FEEDBACK = "feedback.newest"
NEWEST_FEEDBACK_ORDER = ((Feedback.responded_at, True), (Feedback.id, False))


def list_feedback(
    *,
    session: Session,
    customer_id: uuid.UUID,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
) -> FeedbackPage:
    """Return the customer's feedback, newest first, one page at a time."""
    paging.start(cursor=cursor, offset=offset)
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer with id {customer_id}.")
    mine = Feedback.customer_id == customer_id
    total = session.scalar(select(func.count()).select_from(Feedback).where(mine))
    if cursor:
        key = paging.decode(cursor, NEWEST_FEEDBACK, (datetime.fromisoformat, uuid.UUID))
        mine = and_(mine, paging.after(NEWEST_FEEDBACK_ORDER, key))
    rows = session.execute(
        select(Feedback, Contact.email)
        .outerjoin(Contact, Contact.id == Feedback.contact_id)
        .where(mine)
        .order_by(Feedback.responded_at.desc(), Feedback.id)
        .limit(limit + 1)
        .offset(offset)
    ).all()
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1][0] if more else None
    return FeedbackPage(
        total=total,
        items=[feedback_out(fb, email) for fb, email in rows],
        next_cursor=last and paging.encode(NEWEST_FEEDBACK, (last.responded_at, last.id)),
    )


def record_feedback(
    *,
    session: Session,
    customer_ref: str,
    body: FeedbackIn,
    actor: str,
) -> tuple[FeedbackOut, bool]:
    """Record a survey response once per source id; True when it was created."""
    customer_id = customer_id_for(session=session, ref=customer_ref)
    kind = check_score(body.kind, body.score)
    key = (Feedback.source == FeedbackSource.API.value, Feedback.source_id == body.source_id)
    stored = session.scalar(select(Feedback).where(*key))
    if stored is not None and stored.customer_id != customer_id:
        holder = session.scalar(select(Customer.name).where(Customer.id == stored.customer_id))
        raise Conflict(f"sourceId: '{body.source_id}' is already recorded for {holder}.")
    who = body.respondent
    values = _values(
        session,
        customer_id,
        kind=kind,
        score=body.score,
        comment=body.comment,
        name=who.name if who else None,
        title=who.title if who else None,
        email=who.email if who else None,
        responded_at=body.responded_at,
    )
    created = False
    if stored is None:
        row = {"id": uuid.uuid4(), "customer_id": customer_id, **values}
        row |= {"source": FeedbackSource.API.value, "source_id": body.source_id}
        stmt = (
            insert(Feedback)
            .values(row)
            .on_conflict_do_nothing(index_elements=["source", "source_id"])
        )
        created = session.execute(stmt.returning(Feedback.id)).first() is not None
        stored = session.scalar(
            select(Feedback).where(*key).execution_options(populate_existing=True)
        )
        if stored.customer_id != customer_id:  # a concurrent request stored it for another one
            raise Conflict(
                f"sourceId: '{body.source_id}' is already recorded for another customer."
            )
    if created:
        _audit(session, stored, "created", values, actor)
    elif any(getattr(stored, f) != v for f, v in values.items()):
        session.execute(update(Feedback).where(Feedback.id == stored.id).values(**values))
        session.refresh(stored)
        _audit(session, stored, "updated", values, actor)
    return feedback_out(stored), created


def log_quote(
    *,
    session: Session,
    customer_id: uuid.UUID,
    body: QuoteIn,
    actor_id: uuid.UUID,
    now: datetime | None = None,
) -> FeedbackOut:
    """Log what a customer said (say on a call) as the signed-in CSM; it may be quoted."""
    editor = acting_editor(session=session, actor_id=actor_id)
    now = now or datetime.now(UTC)
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer with id {customer_id}.")
    kind = check_score(body.kind, body.score)
    if len(body.quote) < QUOTE_MIN_LENGTH:
        raise Invalid(
            f"quote: must be at least {QUOTE_MIN_LENGTH} characters; shorter words are not "
            "quoted in success records"
        )
    if body.said_on > now.date():
        raise Invalid("saidOn: must not be in the future")
    values = _values(
        session,
        customer_id,
        kind=kind,
        score=body.score,
        comment=body.quote,
        name=body.respondent_name,
        title=body.respondent_title,
        email=body.respondent_email,
        responded_at=datetime.combine(body.said_on, time(), UTC),
    )
    fb = Feedback(
        id=uuid.uuid4(), customer_id=customer_id, source=FeedbackSource.CALL.value, **values
    )
    session.add(fb)
    session.flush()
    _audit(session, fb, "logged", values, editor.email, editor.id)
    return feedback_out(fb)


def _values(
    session: Session,
    customer_id: uuid.UUID,
    *,
    kind: FeedbackKind,
    score: int | None,
    comment: str | None,
    name: str | None,
    title: str | None,
    email: str | None,
    responded_at: datetime,
) -> dict:
    """Return the columns to store, linked to the contact who said it when one matches."""
    contact = _speaker(session, customer_id, email=email, name=name)
    return {
        "kind": kind,
        "score": score,
        "comment": comment or None,
        "respondent_name": name or (contact.name if contact else None),
        "respondent_title": title or (contact.title if contact else None),
        "respondent_email": email,
        "contact_id": contact.id if contact else None,
        "responded_at": responded_at,
    }


def _speaker(
    session: Session, customer_id: uuid.UUID, *, email: str | None, name: str | None
) -> Contact | None:
    """Return the contact with `email`; without one, the only contact called `name`."""
    mine = select(Contact).where(Contact.customer_id == customer_id)
    if email:
        return session.scalar(mine.where(func.lower(Contact.email) == email))
    if not name:
        return None
    named = session.scalars(mine.where(func.lower(Contact.name) == name.lower()).limit(2)).all()
    return named[0] if len(named) == 1 else None


def _audit(
    session: Session,
    fb: Feedback,
    action: str,
    values: dict,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
) -> None:
    record_audit(
        session=session,
        actor=actor,
        actor_user_id=actor_user_id,
        action=f"customer.feedback.{action}",
        entity_type="customer_feedback",
        entity_id=fb.id,
        changes={
            "customer_id": fb.customer_id,
            **{f: values[f] for f in ("kind", "score", "contact_id", "responded_at")},
        },
    )
