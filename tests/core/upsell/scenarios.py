"""Upsell scenarios the planning, source and tracking tests share.

The product catalogue that plans are drafted from (metrics, products with success templates, one
industry benchmark), a tracked customer's contacts, Salesforce opportunity and amendment records,
and reading a plan's metrics, checkpoints and outbox deliveries back. Generic rows (customers,
upsells, plans) come from tests/factories.py.
"""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.base import Direction, Segment
from core.customers.models import Metric, MetricKind
from core.integrations.base import Amendment, Opportunity
from core.outbox.models import Delivery
from core.upsell.models import (
    Checkpoint,
    IndustryBenchmark,
    MeasurementMetric,
    Product,
    SuccessTemplate,
)
from tests.factories import CLOSE, NOW, add

HIGHER, LOWER = Direction.HIGHER.value, Direction.LOWER.value

# The two contacts of a tracked customer (for `customer(contacts=...)`): reviews invite them, the
# summary and the feedback ask go to them; Lee Chen, first, is the primary contact.
CONTACTS = ("Lee Chen", "Priya Shah")

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


def days_before(close: date, *offsets: int) -> list[date]:
    return [close - timedelta(days=o) for o in offsets]


# --- Salesforce records --------------------------------------------------------------------------


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


# --- Reading a plan back -------------------------------------------------------------------------


def metrics_of(session, measurement) -> dict[str, MeasurementMetric]:
    stmt = select(MeasurementMetric).where(MeasurementMetric.measurement_id == measurement.id)
    return {m.name: m for m in session.scalars(stmt.execution_options(populate_existing=True))}


def set_current(session, measurement, values: dict):
    """Set current values of metrics by name (bypassing validation, for status scenarios)."""
    by_name = metrics_of(session, measurement)
    for name, value in values.items():
        by_name[name].current = None if value is None else Decimal(str(value))
    session.flush()


def checkpoints_of(session, measurement) -> dict[int, Checkpoint]:
    stmt = select(Checkpoint).where(Checkpoint.measurement_id == measurement.id)
    return {c.day: c for c in session.scalars(stmt.execution_options(populate_existing=True))}


def deliveries(session, channel=None) -> list[Delivery]:
    stmt = select(Delivery).order_by(Delivery.created_at, Delivery.idempotency_key)
    if channel:
        stmt = stmt.where(Delivery.channel == channel)
    return list(session.scalars(stmt))
