"""Builders for upsell source, plan and prediction tests: catalogue, customers, upsells, history."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert

from core.accounts.models import User
from core.base import Direction, Role, Segment
from core.customers.models import Customer, Metric, MetricKind, Observation
from core.integrations.base import Amendment, Opportunity
from core.upsell.models import (
    IndustryBenchmark,
    Measurement,
    MeasurementMetric,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
    Product,
    SuccessTemplate,
    Upsell,
    UpsellProduct,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CLOSE = date(2026, 11, 1)
HIGHER, LOWER = Direction.HIGHER.value, Direction.LOWER.value
_seq = itertools.count(1)

METRICS = {
    "feature_adoption": ("%", MetricKind.ADOPTION, Direction.HIGHER),
    "weekly_active_users": ("users", MetricKind.USAGE, Direction.HIGHER),
    "automation_runs": ("runs/day", MetricKind.USAGE, Direction.HIGHER),
    "time_saved_hours": ("hours", MetricKind.ROI, Direction.HIGHER),
    "ticket_resolution_hours": ("hours", MetricKind.OUTCOME, Direction.LOWER),
}


def criterion(name, key, kind, unit, target, direction=HIGHER, manual=False) -> dict:
    """Return one template criterion in the stored JSON shape (camelCase)."""
    return {
        "name": name,
        "metricKey": key,
        "type": kind,
        "unit": unit,
        "target": target,
        "direction": direction,
        "measurement": "manual" if manual else "automatic",
    }


TEMPLATES = {
    "analytics": (
        [
            criterion("Core feature adoption", "feature_adoption", "adoption", "%", 60),
            criterion("Weekly active users", "weekly_active_users", "usage", "users", 150),
            criterion("Executive dashboards in use", None, "outcome", "dashboards", 3, manual=True),
        ],
        [30, 60, 90],
    ),
    "automation": (
        [
            criterion("Automation runs", "automation_runs", "usage", "runs/day", 400),
            criterion("Time saved per week", "time_saved_hours", "roi", "hours", None),
        ],
        [30, 60, 90, 180],
    ),
    "support": (
        [criterion("Resolution time", "ticket_resolution_hours", "outcome", "hours", None, LOWER)],
        [30, 60, 90],
    ),
}


def add(session, row):
    """Add and flush one row, returning it."""
    session.add(row)
    session.flush()
    return row


def catalog(session) -> None:
    """Create the metrics, products, templates and one benchmark row the tests plan with."""
    for key, (unit, kind, direction) in METRICS.items():
        if session.get(Metric, key) is None:
            session.add(
                Metric(
                    key=key, name=key.replace("_", " "), unit=unit, kind=kind, direction=direction
                )
            )
    session.flush()
    for code, (criteria, days) in TEMPLATES.items():
        add(session, Product(code=code, name=code.title(), family=code))
        add(session, SuccessTemplate(product_code=code, metrics=criteria, checkpoint_days=days))
    add(session, Product(code="no-template", name="No template"))
    for key, median in (("time_saved_hours", 30), ("ticket_resolution_hours", 14)):
        add(
            session,
            IndustryBenchmark(
                industry="Logistics",
                segment=Segment.MID_MARKET,
                metric_key=key,
                median=median,
                top_quartile=median,
            ),
        )


def csm(session) -> User:
    n = next(_seq)
    return add(session, User(email=f"csm{n}@outcomes.example", name=f"Casey {n}", role=Role.CSM))


def customer(session, *, crm_id=None, segment=Segment.MID_MARKET, health=64, industry="Logistics"):
    n = next(_seq)
    return add(
        session,
        Customer(
            name=f"Northwind {n}",
            industry=industry,
            segment=segment,
            region="NA",
            arr=Decimal(90_000),
            health_score=None if health is None else Decimal(health),
            crm_id=crm_id,
        ),
    )


def upsell(
    session,
    cust,
    products=("analytics",),
    *,
    close=CLOSE,
    criteria=None,
    arr=20_000,
    source="manual",
    opportunity_id=None,
) -> Upsell:
    row = add(
        session,
        Upsell(
            opportunity_id=opportunity_id or f"006TEST{next(_seq)}",
            customer_id=cust.id,
            source=source,
            type="expansion",
            name="Expansion",
            arr_increase=Decimal(arr),
            close_date=close,
            stated_criteria=criteria,
        ),
    )
    for code in products:
        add(session, UpsellProduct(upsell_id=row.id, product_code=code, arr=Decimal(arr)))
    return row


def observe(session, cust, key, values_by_day: dict[date, float]) -> None:
    """Write one observation at noon UTC on each given day."""
    rows = [
        {
            "customer_id": cust.id,
            "metric_key": key,
            "value": Decimal(str(v)),
            "source": "test",
            "observed_at": datetime.combine(d, time(12), tzinfo=UTC),
        }
        for d, v in values_by_day.items()
    ]
    session.execute(insert(Observation).values(rows))


def days_before(close: date, *offsets: int) -> list[date]:
    return [close - timedelta(days=o) for o in offsets]


def past_plan(session, cust, product, status=OutcomeStatus.SUCCESS, *, metrics=(), started=None):
    """A completed plan with a confirmed outcome; `metrics` = [(name, key, target)]."""
    started = started or date(2025, 6, 1)
    sold = upsell(session, cust, (product,), close=started)
    plan = add(
        session,
        Measurement(
            upsell_id=sold.id,
            customer_id=cust.id,
            status=MeasurementStatus.COMPLETED,
            started_on=started,
            horizon_days=90,
            planned_products=[product],
        ),
    )
    for name, key, target in metrics:
        add(
            session,
            MeasurementMetric(
                measurement_id=plan.id,
                name=name,
                metric_key=key,
                type="usage",
                unit="u",
                direction=HIGHER,
                measurement="automatic",
                target=Decimal(target),
            ),
        )
    if status is not None:
        add(session, Outcome(measurement_id=plan.id, proposed_status=status, status=status))
    return plan


def opportunity(
    id,
    account_id,
    *,
    products=(("analytics", "Analytics", 1, 20000.0),),
    amount=20000,
    modified=NOW,
    close=CLOSE,
    criteria=None,
    **extra,
) -> Opportunity:
    return Opportunity(
        id=id,
        account_id=account_id,
        name=extra.pop("name", f"Expansion {id}"),
        type=extra.pop("type", "Expansion"),
        amount=amount,
        close_date=close,
        owner_name="Olive Owner",
        owner_email="olive@example.com",
        last_modified=modified,
        success_criteria=criteria,
        products=[{"code": c, "name": n, "quantity": q, "arr": a} for c, n, q, a in products],
    )


def amendment(
    id,
    account_id,
    change,
    *,
    opportunity_id=None,
    signed=date(2026, 11, 10),
    modified=NOW,
    description=None,
) -> Amendment:
    return Amendment(
        id=id,
        account_id=account_id,
        opportunity_id=opportunity_id,
        signed_date=signed,
        last_modified=modified,
        arr_change=change,
        description=description,
    )
