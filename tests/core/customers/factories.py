"""Small row builders for customer and dashboard tests (flushed, never committed)."""

import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from core.base import Role, Segment
from core.customers.models import Customer, Feedback, Metric, MetricKind, Observation
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.goals.models import Goal, GoalStatus, GoalType
from core.models import User
from core.upsell.models import Measurement, MeasurementStatus, Upsell, UpsellSource, UpsellType

_seq = itertools.count()


def add(session: Session, row):
    """Add and flush one row, returning it."""
    session.add(row)
    session.flush()
    return row


def user(session: Session, role: Role = Role.CSM, name: str | None = None) -> User:
    n = next(_seq)
    return add(session, User(email=f"user{n}@example.com", name=name or f"User {n}", role=role))


def customer(
    session: Session,
    *,
    owner: User | None = None,
    name: str | None = None,
    industry: str = "Retail",
    segment: Segment = Segment.SMB,
    arr: int = 100_000,
    health: int | None = 50,
) -> Customer:
    return add(
        session,
        Customer(
            name=name or f"Customer {next(_seq)}",
            industry=industry,
            segment=segment,
            region="EMEA",
            arr=Decimal(arr),
            owner_csm_id=owner.id if owner else None,
            health_score=None if health is None else Decimal(health),
        ),
    )


def metric(session: Session, key: str = "active_users", name: str = "Active users") -> Metric:
    existing = session.get(Metric, key)
    if existing:
        return existing
    return add(
        session,
        Metric(
            key=key, name=name, unit="users", kind=MetricKind.USAGE, direction="higher_is_better"
        ),
    )


def goal(session: Session, cust: Customer, status: GoalStatus = GoalStatus.ACTIVE) -> Goal:
    return add(
        session,
        Goal(
            customer_id=cust.id,
            type=GoalType.KPI,
            name=f"Goal {next(_seq)}",
            start_date=date(2026, 1, 1),
            status=status,
        ),
    )


def upsell(
    session: Session,
    cust: Customer,
    *,
    closed: date,
    arr: int = 10_000,
    plan: MeasurementStatus | None = None,
) -> Upsell:
    row = add(
        session,
        Upsell(
            opportunity_id=f"OPP-{next(_seq)}",
            customer_id=cust.id,
            source=UpsellSource.MANUAL,
            type=UpsellType.EXPANSION,
            name="Expansion",
            arr_increase=Decimal(arr),
            close_date=closed,
        ),
    )
    if plan is not None:
        add(
            session,
            Measurement(upsell_id=row.id, customer_id=cust.id, status=plan, started_on=closed),
        )
    return row


def draft(
    session: Session, cust: Customer, owner: User | None, status: DraftStatus = DraftStatus.PENDING
) -> Draft:
    return add(
        session,
        Draft(
            kind=DraftKind.CUSTOMER_EMAIL,
            status=status,
            customer_id=cust.id,
            owner_id=owner.id if owner else None,
            related_type="goal_achievement",
            related_id=uuid.uuid4(),
            subject="Congratulations",
            body="Hi",
            original_subject="Congratulations",
            original_body="Hi",
        ),
    )


def feedback(session: Session, cust: Customer, *, when: datetime, score: int = 9) -> Feedback:
    return add(
        session,
        Feedback(customer_id=cust.id, kind="nps", score=score, comment="Great", responded_at=when),
    )


def observation(session: Session, cust: Customer, key: str, when: datetime, value: float):
    return add(
        session,
        Observation(customer_id=cust.id, metric_key=key, observed_at=when, value=Decimal(value)),
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
