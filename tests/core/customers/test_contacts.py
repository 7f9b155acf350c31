"""Contacts: upserted on the CRM's id, added by CSMs, one email each, exactly one primary."""

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Role
from core.customers.contacts import (
    list_contacts,
    make_primary,
    remove_contact,
    save_contact,
    upsert_contact,
)
from core.customers.models import Contact, Feedback
from core.customers.schemas import ContactIn
from core.errors import Conflict, Forbidden, NotFound
from tests import factories as f

ACTOR = "api:crm"


def body(**changes) -> ContactIn:
    values = {"name": "Dana Ortiz", "email": "Dana.Ortiz@Acme.example", "title": "VP Support"}
    return ContactIn.model_validate(values | changes)


@pytest.fixture
def acme(session):
    return f.customer(session, name="Acme", external_id="acme")


def primaries(session, cust) -> list[str]:
    rows = session.scalars(
        select(Contact.name).where(Contact.customer_id == cust.id, Contact.is_primary)
    )
    return list(rows)


def test_a_crm_contact_is_upserted_on_its_id_with_the_email_lower_cased(session, acme):
    first, created = upsert_contact(
        session=session, customer_ref="acme", external_id="c-1", body=body(), actor=ACTOR
    )
    assert created and first.email == "dana.ortiz@acme.example"
    assert first.external_id == "c-1" and first.primary  # a customer's first contact
    again, created = upsert_contact(
        session=session,
        customer_ref="acme",
        external_id="c-1",
        body=body(title="COO"),
        actor=ACTOR,
    )
    assert not created and again.id == first.id and again.title == "COO"
    kept, _ = upsert_contact(
        session=session,
        customer_ref="acme",
        external_id="c-1",
        body=ContactIn(name="Dana Ortiz", email="dana.ortiz@acme.example"),
        actor=ACTOR,
    )
    assert kept.title == "COO"  # an omitted title keeps the stored one
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(first.id))
    ).all()
    assert actions == ["customer.contact.created", "customer.contact.updated"]


def test_a_new_primary_clears_the_old_one(session, acme):
    upsert_contact(
        session=session, customer_ref="acme", external_id="c-1", body=body(), actor=ACTOR
    )
    second, _ = upsert_contact(
        session=session,
        customer_ref="acme",
        external_id="c-2",
        body=body(name="Lee Park", email="lee@acme.example"),
        actor=ACTOR,
    )
    assert not second.primary and primaries(session, acme) == ["Dana Ortiz"]
    upsert_contact(
        session=session,
        customer_ref="acme",
        external_id="c-2",
        body=body(name="Lee Park", email="lee@acme.example", primary=True),
        actor=ACTOR,
    )
    assert primaries(session, acme) == ["Lee Park"]
    upsert_contact(
        session=session,
        customer_ref="acme",
        external_id="c-2",
        body=body(name="Lee Park", email="lee@acme.example", primary=False),
        actor=ACTOR,
    )
    assert primaries(session, acme) == ["Dana Ortiz"]  # the role passes on, never lost


def test_the_only_contact_stays_primary(session, acme):
    only, _ = upsert_contact(
        session=session,
        customer_ref="acme",
        external_id="c-1",
        body=body(primary=False),
        actor=ACTOR,
    )
    assert only.primary and primaries(session, acme) == ["Dana Ortiz"]


def test_an_email_belongs_to_one_contact_per_customer(session, acme):
    upsert_contact(
        session=session, customer_ref="acme", external_id="c-1", body=body(), actor=ACTOR
    )
    with pytest.raises(Conflict, match="^email: dana.ortiz@acme.example is already the email of"):
        upsert_contact(
            session=session,
            customer_ref="acme",
            external_id="c-2",
            body=body(name="Someone Else", email="DANA.ORTIZ@acme.example"),
            actor=ACTOR,
        )
    other = f.customer(session, name="Globex", external_id="globex")
    shared, created = upsert_contact(
        session=session, customer_ref="globex", external_id="c-1", body=body(), actor=ACTOR
    )
    assert created and shared.customer_id == other.id  # ids and emails are per customer


@pytest.mark.parametrize("email", ["dana", "dana@", "@acme.example", "dana@acme", "a b@acme.io"])
def test_an_email_must_look_like_one(email):
    with pytest.raises(ValidationError) as problem:
        body(email=email)
    [error] = problem.value.errors()
    assert error["loc"] == ("email",) and "must be an email address" in error["msg"]


def test_unknown_customer_is_not_found(session):
    with pytest.raises(NotFound):
        upsert_contact(
            session=session, customer_ref="nobody", external_id="c-1", body=body(), actor=ACTOR
        )


def test_a_csm_adds_edits_promotes_and_removes_contacts(session, acme):
    casey = f.csm(session)
    dana = save_contact(
        session=session, customer_id=acme.id, contact_id=None, body=body(), actor_id=casey.id
    )
    assert dana.external_id is None and dana.primary
    lee = save_contact(
        session=session,
        customer_id=acme.id,
        contact_id=None,
        body=body(name="Lee Park", email="lee@acme.example", title=None),
        actor_id=casey.id,
    )
    edited = save_contact(
        session=session,
        customer_id=acme.id,
        contact_id=lee.id,
        body=body(name="Lee Park", email="lee.park@acme.example", title="CFO"),
        actor_id=casey.id,
    )
    assert (edited.email, edited.title, edited.primary) == ("lee.park@acme.example", "CFO", False)

    assert make_primary(session=session, contact_id=lee.id, actor_id=casey.id).primary
    assert [c.name for c in list_contacts(session=session, customer_id=acme.id)] == [
        "Lee Park",
        "Dana Ortiz",
    ]
    remove_contact(session=session, contact_id=lee.id, actor_id=casey.id)
    assert primaries(session, acme) == ["Dana Ortiz"]  # the removed primary is replaced
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(lee.id)).order_by(AuditEntry.id)
    ).all()
    assert {a.action for a in audit} == {
        "customer.contact.created",
        "customer.contact.updated",
        "customer.contact.primary",
        "customer.contact.removed",
    }
    assert all(a.actor == casey.email and a.actor_user_id == casey.id for a in audit)


def test_removing_a_contact_keeps_its_feedback(session, acme):
    casey = f.csm(session)
    dana = f.contact(session, acme, "Dana Ortiz", email="dana@acme.example", primary=True)
    said = f.feedback(session, acme, contact_id=dana.id, respondent_name="Dana Ortiz")
    remove_contact(session=session, contact_id=dana.id, actor_id=casey.id)
    session.expire_all()
    kept = session.get(Feedback, said.id)
    assert kept.contact_id is None and kept.respondent_name == "Dana Ortiz"
    assert list_contacts(session=session, customer_id=acme.id) == []


def test_feedback_given_before_the_contact_existed_is_linked(session, acme):
    said = f.feedback(session, acme, respondent_email="dana.ortiz@acme.example")
    dana, _ = upsert_contact(
        session=session, customer_ref="acme", external_id="c-1", body=body(), actor=ACTOR
    )
    session.refresh(said)
    assert said.contact_id == dana.id


def test_only_cs_staff_may_change_contacts(session, acme):
    seller = f.user(session, Role.SALES)
    with pytest.raises(Forbidden):
        save_contact(
            session=session,
            customer_id=acme.id,
            contact_id=None,
            body=body(),
            actor_id=seller.id,
        )
