"""Customers added by a person: an id made from the name, never another customer's id."""

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.customers.models import Customer
from core.customers.schemas import CustomerIn
from core.customers.service import add_customer, slug
from core.errors import Conflict, Invalid


def body(name: str = "Acme Corp") -> CustomerIn:
    return CustomerIn(name=name, industry="Retail", segment="smb", region="EMEA", arr=1200)


def test_without_an_id_the_id_is_made_from_the_name(session):
    created = add_customer(session=session, body=body(), external_id=" ", actor="csm@example.com")
    assert created.external_id == "acme-corp"
    stored = session.scalar(select(Customer).where(Customer.external_id == "acme-corp"))
    assert stored.name == "Acme Corp"
    audit = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(stored.id)))
    assert audit.actor == "csm@example.com"


def test_an_id_in_use_is_refused_naming_the_field_and_the_holder(session):
    add_customer(session=session, body=body(), external_id="acme", actor="a@example.com")
    with pytest.raises(Conflict, match=r"^externalId: 'acme' already belongs to customer Acme"):
        add_customer(session=session, body=body("Other"), external_id="acme", actor="a@x.io")


def test_a_name_without_letters_or_digits_needs_an_id(session):
    with pytest.raises(Invalid, match="^externalId:"):
        add_customer(session=session, body=body("***"), external_id=None, actor="a@x.io")


def test_slug_keeps_letters_and_digits():
    assert slug("  Zeta & Sons, Ltd. 2 ") == "zeta-sons-ltd-2"
