"""Reads of the approval queue: who sees which drafts, their status as people see it, the list.

A CSM sees the drafts they own and those of their customers; CS leaders and admins see every
draft; other roles none. A draft's status follows its email: an approved draft whose email was
sent reads "sent", one whose email was dead-lettered reads "failed".
"""

import uuid
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from core.accounts.models import User
from core.base import Role
from core.customers.models import Customer
from core.drafts.models import Draft, DraftStatus
from core.drafts.schemas import (
    Choice,
    DraftDetail,
    DraftFilters,
    DraftListRow,
    DraftOptions,
    DraftPage,
    DraftRow,
    DraftSort,
)
from core.errors import Forbidden, Invalid, NotFound
from core.outbox.models import Delivery, DeliveryStatus
from core.schemas import problems_text


def visible(viewer_id: uuid.UUID, viewer_role: Role | str) -> ColumnElement[bool]:
    """Return the condition for drafts this viewer may see; Forbidden for other roles."""
    role = Role(viewer_role)
    if role in (Role.ADMIN, Role.LEADER):
        return true()
    if role == Role.CSM:
        return or_(Draft.owner_id == viewer_id, Customer.owner_csm_id == viewer_id)
    raise Forbidden("The approval queue is for CSMs, CS leaders and admins.")


def may_act(viewer_role: Role | str) -> bool:
    """Say whether this role may edit and decide the pending drafts it sees."""
    return Role(viewer_role) in (Role.ADMIN, Role.CSM)


def queue_status() -> ColumnElement[str]:
    """Draft status as people see it: a dead-lettered email makes its draft 'failed'."""
    sent = (Draft.status == DraftStatus.SENT) | (Delivery.status == DeliveryStatus.SENT)
    failed = (Draft.status == DraftStatus.FAILED) | (Delivery.status == DeliveryStatus.DEAD)
    return case(
        (Draft.status.in_([DraftStatus.PENDING, DraftStatus.REJECTED]), cast(Draft.status, String)),
        (sent, literal("sent")),
        (failed, literal("failed")),
        else_=literal("approved"),
    )


def status_is(status: DraftStatus | str) -> ColumnElement[bool]:
    """Return the condition for drafts whose queue status is `status`."""
    status = DraftStatus(status)
    if status in (DraftStatus.PENDING, DraftStatus.REJECTED):
        return Draft.status == status  # the stored status decides alone: the index can serve it
    return queue_status() == status.value


def queue(columns: list, viewer_id: uuid.UUID, viewer_role: Role | str) -> Select:
    """Select `columns` over the drafts this viewer sees, with their customer and email."""
    key = literal("draft:") + cast(Draft.id, String) + literal(":gmail")
    return (
        select(*columns)
        .select_from(Draft)
        .join(Customer, Customer.id == Draft.customer_id)
        .outerjoin(Delivery, Delivery.idempotency_key == key)
        .where(visible(viewer_id, viewer_role))
    )


def row_of(d: Draft, customer, owner_name, decided_by, delivery, status, *, acts: bool) -> dict:
    """Return the fields of a DraftRow from a queue row."""
    return dict(
        id=d.id,
        kind=d.kind,
        status=DraftStatus(status),
        customer_id=d.customer_id,
        customer_name=customer,
        owner_id=d.owner_id,
        owner_name=owner_name,
        to_addresses=list(d.to_addresses or []),
        subject=d.subject,
        body=d.body,
        edited=(d.subject, d.body) != (d.original_subject, d.original_body),
        version=d.version,
        created_at=d.created_at,
        decided_at=d.decided_at,
        decided_by_name=decided_by,
        rejected_reason=d.rejected_reason,
        delivery_status=delivery.status.value if delivery else None,
        delivery_error=delivery.last_error if delivery else None,
        sent_at=delivery.sent_at if delivery else None,
        can_act=acts and status == DraftStatus.PENDING.value,
    )


def detailed(session: Session, viewer_id: uuid.UUID, viewer_role: Role | str, stmt) -> list:
    """Run a queue statement for full rows: each draft with its names and delivery."""
    owner, decider, status = aliased(User), aliased(User), queue_status()
    columns = [Draft, Customer.name, owner.name, decider.name, Delivery, status]
    full = (
        queue(columns, viewer_id, viewer_role)
        .outerjoin(owner, owner.id == Draft.owner_id)
        .outerjoin(decider, decider.id == Draft.decided_by_id)
    )
    return list(session.execute(stmt(full, status)))


def filters_of(**kwargs) -> DraftFilters:
    """Return the queue filters; Invalid naming each field as the API would, in plain words."""
    try:
        return DraftFilters(**kwargs)
    except ValidationError as exc:
        raise Invalid(problems_text(exc)) from None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(f: DraftFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions = []
    if f.status:
        conditions.append(status_is(f.status))
    if f.kind:
        conditions.append(Draft.kind == f.kind)
    if f.customer_id:
        conditions.append(Draft.customer_id == f.customer_id)
    if f.owner_id:
        conditions.append(Draft.owner_id == f.owner_id)
    if f.older_than_days is not None:
        conditions.append(Draft.created_at <= now - timedelta(days=f.older_than_days))
    if f.search:
        pattern = _like(f.search)
        conditions.append(or_(Customer.name.ilike(pattern), Draft.subject.ilike(pattern)))
    return conditions


def _sort_key(sort: DraftSort) -> tuple[list[ColumnElement], bool]:
    """Return the columns the list is ordered by and whether it runs newest first."""
    if sort == DraftSort.CUSTOMER:
        return [func.lower(Customer.name), Draft.created_at, Draft.id], False
    return [Draft.created_at, Draft.id], sort == DraftSort.NEWEST


def _ordered(stmt: Select, sort: DraftSort) -> Select:
    key, descending = _sort_key(sort)
    return stmt.order_by(*(c.desc() if descending else c.asc() for c in key))


def _list_columns(owner) -> list:
    return [
        Draft.id,
        Draft.kind,
        Draft.customer_id,
        Customer.name.label("customer_name"),
        Draft.owner_id,
        owner.name.label("owner_name"),
        Draft.to_addresses,
        Draft.subject,
        ((Draft.subject != Draft.original_subject) | (Draft.body != Draft.original_body)).label(
            "edited"
        ),
        Draft.version,
        Draft.created_at,
        queue_status().label("status"),
    ]


def draft_page(
    *,
    session: Session,
    viewer_id: uuid.UUID,
    viewer_role: Role | str,
    now: datetime | None = None,
    **filters,
) -> DraftPage:
    """Return one page of the drafts this viewer sees that match `filters`, and their total."""
    f = filters_of(**filters)
    conditions = _conditions(f, now or datetime.now(UTC))
    owner = aliased(User)
    stmt = (
        queue(_list_columns(owner), viewer_id, viewer_role)
        .outerjoin(owner, owner.id == Draft.owner_id)
        .where(*conditions)
    )
    total = session.scalar(queue([func.count()], viewer_id, viewer_role).where(*conditions))
    acts = may_act(viewer_role)
    rows = [
        DraftListRow(
            **{**r._mapping, "status": DraftStatus(r.status), "to_addresses": r.to_addresses or []},
            can_act=acts and r.status == DraftStatus.PENDING.value,
        )
        for r in session.execute(_ordered(stmt, f.sort).offset(f.offset).limit(f.limit))
    ]
    return DraftPage(rows=rows, total=total or 0, offset=f.offset, limit=f.limit)


def next_draft(
    *,
    session: Session,
    viewer_id: uuid.UUID,
    viewer_role: Role | str,
    after: uuid.UUID,
    now: datetime | None = None,
    **filters,
) -> uuid.UUID | None:
    """Return the draft after `after` in the list's order (else the one before it), or None.

    `after` need not match the filters any more (it was just decided): its place in the order
    is read from the draft itself.
    """
    f = filters_of(**filters)
    key, descending = _sort_key(f.sort)
    place = session.execute(
        select(*key).join(Customer, Customer.id == Draft.customer_id).where(Draft.id == after)
    ).one_or_none()
    if place is None:
        return None
    stmt = queue([Draft.id], viewer_id, viewer_role).where(
        *_conditions(f, now or datetime.now(UTC)), Draft.id != after
    )
    mark = tuple_(*(literal(v, type_=c.type) for v, c in zip(place, key, strict=True)))
    later = tuple_(*key) < mark if descending else tuple_(*key) > mark
    found = session.scalar(_ordered(stmt.where(later), f.sort).limit(1))
    if found is not None:
        return found
    backwards = (c.asc() if descending else c.desc() for c in key)
    return session.scalar(stmt.where(~later).order_by(*backwards).limit(1))


def draft_options(
    *,
    session: Session,
    viewer_id: uuid.UUID,
    viewer_role: Role | str,
    status: DraftStatus | str | None = None,
) -> DraftOptions:
    """Return the customers and owners of the drafts this viewer sees (of `status`), by name."""
    drafts = queue([Draft.customer_id, Draft.owner_id], viewer_id, viewer_role)
    if status:
        drafts = drafts.where(status_is(status))
    seen = drafts.subquery()
    customers = session.execute(
        select(Customer.id, Customer.name)
        .where(Customer.id.in_(select(seen.c.customer_id)))
        .order_by(func.lower(Customer.name), Customer.id)
    )
    owners = session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(seen.c.owner_id)))
        .order_by(func.lower(User.name), User.id)
    )
    return DraftOptions(
        customers=[Choice(id=i, name=n) for i, n in customers],
        owners=[Choice(id=i, name=n) for i, n in owners],
    )


def draft_detail(
    *, session: Session, viewer_id: uuid.UUID, viewer_role: Role | str, draft_id: uuid.UUID
) -> DraftDetail:
    """Return one draft the viewer sees, with its generated text; NotFound otherwise."""
    found = detailed(
        session, viewer_id, viewer_role, lambda stmt, _: stmt.where(Draft.id == draft_id)
    )
    if not found:
        raise NotFound("This draft does not exist, or it is not one of yours.")
    d, *rest = found[0]
    return DraftDetail(
        **row_of(d, *rest, acts=may_act(viewer_role)),
        original_subject=d.original_subject,
        original_body=d.original_body,
        related_type=d.related_type,
        related_id=d.related_id,
    )


def as_row(found, viewer_role: Role | str) -> DraftRow:
    """Return a DraftRow from a row `detailed` read."""
    return DraftRow(**row_of(*found, acts=may_act(viewer_role)))
