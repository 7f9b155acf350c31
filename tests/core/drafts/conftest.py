"""People, a customer and drafts for the approval-queue tests (flushed, never committed)."""

import itertools
import uuid
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.base import Role, Segment
from core.customers.models import Customer
from core.drafts import service
from core.drafts.models import Draft, DraftKind

_seq = itertools.count()


def person(session: Session, role: Role, name: str) -> UserSummary:
    """Add a user and return them as the signed-in summary services take as `actor`."""
    n = next(_seq)
    user = User(email=f"{name.lower()}{n}@outcomes.example", name=name, role=role, title="CSM")
    session.add(user)
    session.flush()
    return UserSummary.model_validate(user, from_attributes=True)


def account(session: Session, owner: UserSummary | None, name: str = "Acme") -> Customer:
    row = Customer(
        name=f"{name} {next(_seq)}",
        industry="Retail",
        segment=Segment.SMB,
        region="EMEA",
        arr=Decimal(1000),
        owner_csm_id=owner.id if owner else None,
    )
    session.add(row)
    session.flush()
    return row


def new_draft(
    session: Session,
    customer: Customer,
    owner: UserSummary | None,
    *,
    kind: DraftKind = DraftKind.CUSTOMER_EMAIL,
    to: tuple[str, ...] = ("pat@acme.example",),
    subject: str = "Congratulations on faster resolution",
    body: str = "Hi Pat,\n\nYou did it.\n\nCasey",
) -> Draft:
    return service.create_draft(
        session=session,
        kind=kind,
        customer_id=customer.id,
        owner_id=owner.id if owner else None,
        related_type="goal_achievement",
        related_id=uuid.uuid4(),
        to=list(to),
        subject=subject,
        body=body,
    )


@pytest.fixture
def people(session):
    return {
        "csm": person(session, Role.CSM, "Casey"),
        "other": person(session, Role.CSM, "Robin"),
        "admin": person(session, Role.ADMIN, "Ada"),
        "leader": person(session, Role.LEADER, "Lee"),
        "marketing": person(session, Role.MARKETING, "Mo"),
    }


@pytest.fixture
def customer(session, people):
    return account(session, people["csm"])


@pytest.fixture
def draft(session, customer, people):
    return new_draft(session, customer, people["csm"])
