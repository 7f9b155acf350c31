"""The approval queue: drafts are edited, approved or rejected; only approved ones are sent."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.audit.bulk import insert_rows
from core.audit.service import record_audit
from core.base import Role
from core.customers.models import Customer, TimelineEvent
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.drafts.queries import as_row, detailed, queue, queue_status, status_is
from core.drafts.schemas import KIND_LABELS, BulkResult, DraftRow
from core.drafts.templates import check_subject, diff_summary
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from core.outbox.models import Channel
from core.outbox.service import enqueue

STALE = "Someone else saved this draft since you opened it."


def delivery_key(draft_id: uuid.UUID) -> str:
    """Return the outbox idempotency key of a draft's email."""
    return f"draft:{draft_id}:gmail"


def _check_text(subject: str, body: str) -> tuple[str, str]:
    subject = check_subject(subject or "")
    if not (body or "").strip():
        raise Invalid("The body must not be empty.")
    return subject, body


def _recipients(to: Sequence[str]) -> list[str]:
    addresses = [str(a).strip() for a in to]
    bad = [a for a in addresses if "@" not in a or "\r" in a or "\n" in a]
    if bad:
        raise Invalid(f"Not an email address: {bad[0]!r}.")
    return addresses


ONCE_PER = ["kind", "related_type", "related_id"]  # one draft of a kind per related row


def draft_row(
    *,
    kind: DraftKind | str,
    customer_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    related_type: str,
    related_id: uuid.UUID,
    to: Sequence[str],
    subject: str,
    body: str,
) -> dict:
    """Return the row of a pending draft; raise Invalid if its text or recipients break a rule."""
    subject, body = _check_text(subject, body)
    return dict(
        id=uuid.uuid4(),
        kind=DraftKind(kind),
        status=DraftStatus.PENDING,
        customer_id=customer_id,
        owner_id=owner_id,
        related_type=related_type,
        related_id=related_id,
        to_addresses=_recipients(to),
        subject=subject,
        body=body,
        original_subject=subject,
        original_body=body,
        version=1,
    )


def create_draft(
    *,
    session: Session,
    kind: DraftKind | str,
    customer_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    related_type: str,
    related_id: uuid.UUID,
    to: Sequence[str],
    subject: str,
    body: str,
) -> Draft | None:
    """Add a pending draft once per (kind, related row); return None if it already exists."""
    values = draft_row(
        kind=kind,
        customer_id=customer_id,
        owner_id=owner_id,
        related_type=related_type,
        related_id=related_id,
        to=to,
        subject=subject,
        body=body,
    )
    new_id = session.execute(
        insert(Draft)
        .values(**values)
        .on_conflict_do_nothing(index_elements=ONCE_PER)
        .returning(Draft.id)
    ).scalar_one_or_none()
    return None if new_id is None else session.get(Draft, new_id)


def create_drafts(*, session: Session, rows: Sequence[dict]) -> None:
    """Add pending drafts made by `draft_row`, each once per (kind, related row)."""
    insert_rows(session, Draft.__table__, rows, skip_conflicts_on=ONCE_PER)


def list_drafts(
    *,
    session: Session,
    viewer_id: uuid.UUID,
    viewer_role: Role | str,
    status: DraftStatus | str | None = None,
    kind: DraftKind | str | None = None,
    limit: int = 100,
) -> list[DraftRow]:
    """Return the drafts this viewer may see, with customer, recipients and delivery state."""

    def chosen(stmt, _):
        if status:
            stmt = stmt.where(status_is(status))
        if kind:
            stmt = stmt.where(Draft.kind == DraftKind(kind))
        newest = status != DraftStatus.PENDING
        order = Draft.created_at.desc() if newest else Draft.created_at.asc()
        return stmt.order_by(order, Draft.id).limit(limit)

    return [as_row(r, viewer_role) for r in detailed(session, viewer_id, viewer_role, chosen)]


def approval_stats(
    *, session: Session, viewer_id: uuid.UUID, viewer_role: Role | str
) -> dict[str, int]:
    """Count the drafts this viewer may see by queue status (every status present)."""
    status = queue_status()
    stmt = queue([status, func.count()], viewer_id, viewer_role).group_by(status)
    counts = {s.value: 0 for s in DraftStatus}
    counts.update({s: n for s, n in session.execute(stmt)})
    return counts


def _load(session: Session, draft_id: uuid.UUID) -> tuple[Draft, Customer]:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"No draft {draft_id}.")
    return draft, session.get(Customer, draft.customer_id)


def _check_may_act(draft: Draft, customer: Customer, actor: UserSummary, verb: str) -> None:
    owns = actor.role == Role.CSM and actor.id in (draft.owner_id, customer.owner_csm_id)
    if actor.role != Role.ADMIN and not owns:
        raise Forbidden(f"Only the CSM who owns this draft, or an admin, can {verb} it.")


def _check_current(draft: Draft, expected_version: int, verb: str) -> None:
    if draft.status != DraftStatus.PENDING:
        raise Conflict(f"This draft was already {draft.status.value}; it can no longer be {verb}.")
    if draft.version != expected_version:
        raise Conflict(STALE)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(STALE) from exc


def _audit(session: Session, actor: UserSummary, action: str, draft: Draft, changes: dict):
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action=action,
        entity_type="draft",
        entity_id=draft.id,
        changes=changes,
    )


def _edit(session: Session, draft: Draft, subject: str, body: str, actor: UserSummary) -> None:
    subject, body = _check_text(subject, body)
    if (subject, body) == (draft.subject, draft.body):
        return
    before = [draft.subject, subject] if subject != draft.subject else None
    changes = {"subject": before, "body": diff_summary(draft.body, body)}
    draft.subject, draft.body = subject, body
    _flush(session)
    _audit(session, actor, "draft.update", draft, changes)


def update_draft(
    *,
    session: Session,
    draft_id: uuid.UUID,
    subject: str,
    body: str,
    expected_version: int,
    actor: UserSummary,
) -> Draft:
    """Save an edit of a pending draft; Conflict if someone saved or decided it first."""
    draft, customer = _load(session, draft_id)
    _check_may_act(draft, customer, actor, "edit")
    _check_current(draft, expected_version, "edited")
    _edit(session, draft, subject, body, actor)
    return draft


def _approve(session: Session, draft: Draft, customer: Customer, actor: UserSummary) -> bool:
    send = draft.kind == DraftKind.CUSTOMER_EMAIL or bool(draft.to_addresses)
    if send and not draft.to_addresses:
        raise Invalid("This email has no recipients; add a contact to the customer first.")
    draft.status, draft.decided_by_id = DraftStatus.APPROVED, actor.id
    draft.decided_at = datetime.now(UTC)
    _flush(session)
    if send:
        owner = session.get(User, draft.owner_id or customer.owner_csm_id or actor.id)
        sender, to = (owner.email if owner else actor.email), list(draft.to_addresses)
        payload = {"sender": sender, "to": to, "subject": draft.subject, "text": draft.body}
        enqueue(
            session=session,
            channel=Channel.GMAIL,
            payload=payload,
            related_type="draft",
            related_id=draft.id,
            idempotency_key=delivery_key(draft.id),
        )
    session.add(
        TimelineEvent(
            customer_id=draft.customer_id,
            kind="draft_approved",
            body=draft.subject,
            title=f"{KIND_LABELS[draft.kind]} approved by {actor.name}",
            actor_user_id=actor.id,
            related_type="draft",
            related_id=draft.id,
        )
    )
    _audit(session, actor, "draft.approve", draft, {"status": ["pending", "approved"]})
    return send


def approve(
    *,
    session: Session,
    draft_id: uuid.UUID,
    expected_version: int,
    actor: UserSummary,
    subject: str | None = None,
    body: str | None = None,
) -> Draft:
    """Approve a pending draft (saving a final edit first) and queue its email in this change."""
    draft, customer = _load(session, draft_id)
    _check_may_act(draft, customer, actor, "approve")
    _check_current(draft, expected_version, "approved")
    if subject is not None or body is not None:
        _edit(
            session,
            draft,
            draft.subject if subject is None else subject,
            draft.body if body is None else body,
            actor,
        )
    _approve(session, draft, customer, actor)
    return draft


def reject(
    *,
    session: Session,
    draft_id: uuid.UUID,
    reason: str,
    expected_version: int,
    actor: UserSummary,
) -> Draft:
    """Reject a pending draft with a reason; nothing is sent."""
    draft, customer = _load(session, draft_id)
    _check_may_act(draft, customer, actor, "reject")
    if not (reason := (reason or "").strip()):
        raise Invalid("Give a reason to reject the draft; it is kept with the draft.")
    _check_current(draft, expected_version, "rejected")
    draft.status, draft.rejected_reason = DraftStatus.REJECTED, reason
    draft.decided_by_id, draft.decided_at = actor.id, datetime.now(UTC)
    _flush(session)
    changes = {"status": ["pending", "rejected"], "reason": reason}
    _audit(session, actor, "draft.reject", draft, changes)
    return draft


def bulk_approve(
    *,
    session: Session,
    draft_ids: Sequence[uuid.UUID],
    actor: UserSummary,
    expected_versions: Mapping[uuid.UUID, int] | None = None,
) -> BulkResult:
    """Approve several drafts, all or none; `expected_versions` are the versions people saw."""
    ids = list(dict.fromkeys(draft_ids))
    if not ids:
        raise Invalid("Choose at least one draft to approve.")
    queued = 0
    with session.begin_nested():
        drafts = list(session.scalars(select(Draft).where(Draft.id.in_(ids)).order_by(Draft.id)))
        if len(drafts) != len(ids):
            raise NotFound("Some of the chosen drafts no longer exist; nothing was approved.")
        for draft in drafts:
            customer = session.get(Customer, draft.customer_id)
            try:
                _check_may_act(draft, customer, actor, "approve")
                expected = (expected_versions or {}).get(draft.id, draft.version)
                _check_current(draft, expected, "approved")
                queued += _approve(session, draft, customer, actor)
            except DomainError as exc:
                name = f"{customer.name} — “{draft.subject}”"
                raise type(exc)(f"{name}: {exc} Nothing was approved.") from exc
    return BulkResult(approved=len(drafts), emails_queued=queued)


def mark_sent(session: Session, draft_id: uuid.UUID, message_id: str) -> None:
    """Mark the draft sent and keep the Gmail message id on the customer's timeline."""
    sent = session.execute(
        update(Draft)
        .where(Draft.id == draft_id, Draft.status.in_([DraftStatus.APPROVED, DraftStatus.FAILED]))
        .values(status=DraftStatus.SENT, version=Draft.version + 1)
        .returning(Draft.customer_id, Draft.kind, Draft.subject)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if sent is not None:  # a repeated callback (at-least-once delivery) adds nothing
        session.add(
            TimelineEvent(
                customer_id=sent.customer_id,
                kind="email_sent",
                related_type="draft",
                title=f"{KIND_LABELS[sent.kind]} sent",
                related_id=draft_id,
                body=f"{sent.subject}\nGmail message id: {message_id}",
            )
        )
