"""A customer's contacts: who gets its emails and meeting invitations, and who its primary is.

Contacts come from the CRM (`PUT /api/customers/{externalId}/contacts/{contactExternalId}`,
upserted on the customer and the CRM's id) and from CSMs on the customer page (no external id).
Rules: an email is stored lower-cased and belongs to one contact per customer; a customer with
contacts has exactly one primary contact (congratulations emails and feedback requests go to it
first): its first contact becomes primary, making another one primary clears the one before, and
when the primary is removed or set to not primary the role passes to the longest-standing other
contact. Removing a contact keeps the feedback it gave (unlinked). Every change is audited.
"""

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import paging
from core.accounts.models import User
from core.accounts.service import acting_user
from core.audit.service import record_audit
from core.base import Role
from core.customers.models import Contact, Customer, Feedback
from core.customers.queries import customer_id_for
from core.customers.schemas import ContactIn, ContactOut
from core.errors import Conflict, Forbidden, NotFound

EDITORS = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})
_FIELDS = ("name", "email", "title", "is_primary")


def contact_out(contact: Contact) -> ContactOut:
    """Return a contact as the API and the page show it."""
    return ContactOut(
        id=contact.id,
        customer_id=contact.customer_id,
        external_id=contact.external_id,
        name=contact.name,
        email=contact.email,
        title=contact.title,
        primary=contact.is_primary,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


CONTACTS = paging.Keyset(
    "contacts.primary_first",
    (
        (Contact.is_primary, True),
        (func.lower(Contact.name), False),
        (Contact.email, False),
        (Contact.id, False),
    ),
    (bool, str, str, uuid.UUID),
)


def list_contacts(*, session: Session, customer_id: uuid.UUID) -> list[ContactOut]:
    """Return the customer's contacts, the primary one first, then by name."""
    return contact_page(session=session, customer_id=customer_id)[0]


def contact_page(
    *,
    session: Session,
    customer_id: uuid.UUID,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[ContactOut], str | None]:
    """Return the customer's contacts (a page with `limit`) and the next page's cursor."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer with id {customer_id}.")
    # The database's lower() goes into the cursor: Python's may fold some letters differently.
    query = select(Contact, func.lower(Contact.name).label("folded"))
    query = query.where(Contact.customer_id == customer_id)
    rows = list(session.execute(CONTACTS.select(query, cursor=cursor, limit=limit)))
    rows, following = CONTACTS.cut(
        rows, limit, lambda r: (r.Contact.is_primary, r.folded, r.Contact.email, r.Contact.id)
    )
    return [contact_out(r.Contact) for r in rows], following


def upsert_contact(
    *, session: Session, customer_ref: str, external_id: str, body: ContactIn, actor: str
) -> tuple[ContactOut, bool]:
    """Create or update the contact the CRM calls `external_id`; True when it was created."""
    customer_id = customer_id_for(session=session, ref=customer_ref)
    contact = session.scalar(
        select(Contact).where(
            Contact.customer_id == customer_id, Contact.external_id == external_id
        )
    )
    created = contact is None
    if created:
        contact = Contact(customer_id=customer_id, external_id=external_id)
    _save(session, contact, body, actor=actor)
    return contact_out(contact), created


def save_contact(
    *,
    session: Session,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    body: ContactIn,
    actor_id: uuid.UUID,
) -> ContactOut:
    """Add a contact (no `contact_id`) or edit one, as the signed-in person on the page."""
    editor = acting_editor(session=session, actor_id=actor_id)
    if contact_id is None:
        if session.get(Customer, customer_id) is None:
            raise NotFound(f"No customer with id {customer_id}.")
        contact = Contact(customer_id=customer_id)
    else:
        contact = _contact(session, contact_id)
        if contact.customer_id != customer_id:
            raise NotFound("That contact is not one of this customer's.")
    _save(session, contact, body, actor=editor.email, actor_user_id=editor.id)
    return contact_out(contact)


def make_primary(*, session: Session, contact_id: uuid.UUID, actor_id: uuid.UUID) -> ContactOut:
    """Make a contact its customer's primary one (the one before stops being it)."""
    editor = acting_editor(session=session, actor_id=actor_id)
    contact = _contact(session, contact_id)
    if not contact.is_primary:
        _take_primary(session, contact)
        session.flush()
        _audit(session, contact, "primary", {"is_primary": True}, editor.email, editor.id)
    return contact_out(contact)


def remove_contact(*, session: Session, contact_id: uuid.UUID, actor_id: uuid.UUID) -> None:
    """Remove a contact; its feedback stays (unlinked) and a removed primary is replaced."""
    editor = acting_editor(session=session, actor_id=actor_id)
    contact = _contact(session, contact_id)
    customer_id, was_primary = contact.customer_id, contact.is_primary
    gone = {"name": contact.name, "email": contact.email, "external_id": contact.external_id}
    session.delete(contact)
    session.flush()
    if was_primary:
        _hand_over(session, customer_id, leaving=contact.id)
    _audit(session, contact, "removed", gone, editor.email, editor.id)


def acting_editor(*, session: Session, actor_id: uuid.UUID) -> User:
    """Return the signed-in person when their role may change a customer's set-up data."""
    user = acting_user(session=session, user_id=actor_id)
    if user.role not in EDITORS:
        raise Forbidden(
            "Only CSMs, CS leaders and admins may change a customer's contacts and feedback."
        )
    return user


def _contact(session: Session, contact_id: uuid.UUID) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("That contact does not exist (any more).")
    return contact


def _save(
    session: Session,
    contact: Contact,
    body: ContactIn,
    *,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
) -> None:
    """Apply `body` to a new or stored contact, keep one primary, link its feedback, audit."""
    given, new = body.model_fields_set, contact.id is None
    same_email = select(Contact).where(
        Contact.customer_id == contact.customer_id, func.lower(Contact.email) == body.email
    )
    holder = session.scalar(same_email if new else same_email.where(Contact.id != contact.id))
    if holder is not None:
        raise Conflict(f"email: {body.email} is already the email of {holder.name}.")
    before = {f: getattr(contact, f) for f in _FIELDS}
    contact.name, contact.email = body.name, body.email
    if new or "title" in given:
        contact.title = body.title
    if new:
        contact.id = uuid.uuid4()
        session.add(contact)
        others = session.scalar(
            select(func.count()).where(
                Contact.customer_id == contact.customer_id, Contact.id != contact.id
            )
        )
        contact.is_primary = False
        _flush(session)
        if body.primary or not others:  # a customer's first contact is its primary one
            _take_primary(session, contact)
    elif body.primary is True and not contact.is_primary:
        _take_primary(session, contact)
    elif body.primary is False and contact.is_primary:
        _hand_over(session, contact.customer_id, leaving=contact.id)  # the only contact stays
    _flush(session)
    _link_feedback(session, contact)
    after = {f: getattr(contact, f) for f in _FIELDS}
    changed = {f: after[f] for f in _FIELDS if new or after[f] != before[f]}
    if changed:
        action = "created" if new else "updated"
        _audit(session, contact, action, changed, actor, actor_user_id)


def _flush(session: Session) -> None:
    # Two requests storing the same contact (or email) at once: the loser is told, not a 500.
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Another change to this customer's contacts was saved at the same moment; "
            "send it again."
        ) from exc


def _take_primary(session: Session, contact: Contact) -> None:
    """Make `contact` the only primary contact of its customer."""
    # Cleared first: the partial unique index allows one primary per customer at any moment.
    session.execute(
        update(Contact)
        .where(
            Contact.customer_id == contact.customer_id,
            Contact.id != contact.id,
            Contact.is_primary,
        )
        .values(is_primary=False)
    )
    contact.is_primary = True


def _hand_over(session: Session, customer_id: uuid.UUID, *, leaving: uuid.UUID) -> None:
    """Pass the primary role to the longest-standing other contact, if there is one."""
    successor = session.scalar(
        select(Contact)
        .where(Contact.customer_id == customer_id, Contact.id != leaving)
        .order_by(Contact.created_at, Contact.name, Contact.id)
        .limit(1)
    )
    if successor is None:
        return
    leaving_contact = session.get(Contact, leaving)
    if leaving_contact is not None:
        leaving_contact.is_primary = False
        session.flush()
    _take_primary(session, successor)


def _link_feedback(session: Session, contact: Contact) -> None:
    """Link the customer's unlinked feedback given from this contact's email."""
    session.execute(
        update(Feedback)
        .where(
            Feedback.customer_id == contact.customer_id,
            Feedback.contact_id.is_(None),
            func.lower(Feedback.respondent_email) == contact.email,
        )
        .values(contact_id=contact.id)
    )


def _audit(
    session: Session,
    contact: Contact,
    action: str,
    changes: dict,
    actor: str,
    actor_user_id: uuid.UUID | None,
) -> None:
    record_audit(
        session=session,
        actor=actor,
        actor_user_id=actor_user_id,
        action=f"customer.contact.{action}",
        entity_type="customer_contact",
        entity_id=contact.id,
        changes={"customer_id": contact.customer_id, **changes},
    )
