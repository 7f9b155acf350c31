"""Small builders for goal tests: a customer, a metric, a goal, daily observations."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert

from core.accounts.models import User
from core.base import Consent, Direction, Role, Segment
from core.customers.models import Customer, Metric, MetricKind, Observation
from core.goals.models import Goal, GoalType, Milestone, SuccessPlan

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def csm(session, email="casey@outcomes.example"):
    user = User(email=email, name="Casey Rivera", role=Role.CSM, slack_user_id="U0CASEY")
    session.add(user)
    session.flush()
    return user


def customer(session, *, owner=None, name="Acme Health", industry="healthcare"):
    row = Customer(
        name=name,
        industry=industry,
        segment=Segment.MID_MARKET,
        region="NA",
        arr=Decimal("120000"),
        owner_csm_id=owner.id if owner else None,
        health_score=Decimal("72"),
        consent_level=Consent.FULL_PUBLIC,
        use_case="Support automation",
        customer_since=date(2023, 2, 1),
    )
    session.add(row)
    session.flush()
    return row


def metric(session, key="resolution_hours", direction=Direction.LOWER, unit="hours"):
    existing = session.get(Metric, key)
    if existing:
        return existing
    row = Metric(
        key=key,
        name=key.replace("_", " ").title(),
        unit=unit,
        kind=MetricKind.OUTCOME,
        direction=direction,
    )
    session.add(row)
    session.flush()
    return row


def goal(
    session,
    cust,
    *,
    type=GoalType.KPI,
    metric_key=None,
    target=None,
    direction=Direction.HIGHER,
    baseline=None,
    cost=None,
    start=date(2026, 6, 1),
    **extra,
):
    row = Goal(
        customer_id=cust.id,
        type=type,
        name=extra.pop("name", "Reach the target"),
        metric_key=metric_key,
        target=None if target is None else Decimal(str(target)),
        baseline=None if baseline is None else Decimal(str(baseline)),
        direction=direction,
        cost=cost,
        start_date=start,
        **extra,
    )
    session.add(row)
    session.flush()
    return row


def observe(session, cust, key, values, *, end=NOW - timedelta(hours=6), ingested_at=None):
    """Write daily values ending at `end`; `ingested_at` defaults to the database's now."""
    n = len(values)
    arrived = {} if ingested_at is None else {"ingested_at": ingested_at}
    rows = [
        {
            "customer_id": cust.id,
            "metric_key": key,
            "observed_at": end - timedelta(days=n - 1 - i),
            "value": Decimal(str(v)),
            "source": "test",
            **arrived,
        }
        for i, v in enumerate(values)
    ]
    session.execute(insert(Observation).values(rows).on_conflict_do_nothing())


def plan_with_milestones(session, cust, goal_row, statuses):
    plan = SuccessPlan(
        customer_id=cust.id, name="Launch plan", status="active", start_date=date(2026, 5, 1)
    )
    session.add(plan)
    session.flush()
    for i, status in enumerate(statuses):
        session.add(
            Milestone(
                plan_id=plan.id,
                goal_id=goal_row.id,
                name=f"Step {i + 1}",
                position=i,
                status=status,
                completed_at=NOW - timedelta(days=10 - i) if status == "done" else None,
            )
        )
    session.flush()
    return plan


def new_id():
    return uuid.uuid4()
