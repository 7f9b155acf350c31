"""Builders for upsell-tracking tests: plans with metrics and checkpoints, built with the ORM."""

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from core.accounts.models import User
from core.base import Direction, Role, Segment
from core.customers.models import Contact, Customer, Metric, MetricKind, Observation
from core.outbox.models import Delivery
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementMetric,
    MeasurementMode,
    MeasurementStatus,
    Product,
    Upsell,
    UpsellProduct,
    UpsellSource,
    UpsellType,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a Friday
_seq = itertools.count()


def add(session, row):
    """Add and flush one row, returning it."""
    session.add(row)
    session.flush()
    return row


def csm(session, name="Casey Rivera") -> User:
    n = next(_seq)
    return add(session, User(email=f"csm{n}@outcomes.example", name=name, role=Role.CSM))


def customer(session, *, owner=None, name=None, health=60, contacts=("Priya Shah", "Lee Chen")):
    row = add(
        session,
        Customer(
            name=name or f"Northwind {next(_seq)}",
            industry="logistics",
            segment=Segment.MID_MARKET,
            region="NA",
            arr=Decimal(100_000),
            owner_csm_id=owner.id if owner else None,
            health_score=None if health is None else Decimal(health),
        ),
    )
    for i, person in enumerate(contacts):
        email = person.split()[0].lower() + f"{next(_seq)}@customer.example"
        add(session, Contact(customer_id=row.id, name=person, email=email, is_primary=i == 1))
    return row


def metric_def(session, key, *, direction=Direction.HIGHER, kind=MetricKind.USAGE, unit="users"):
    """Return the catalogue row of metric `key`, creating it once."""
    existing = session.get(Metric, key)
    if existing:
        return existing
    return add(
        session,
        Metric(key=key, name=key.replace("_", " "), unit=unit, kind=kind, direction=direction),
    )


def auto(name, key, baseline, target, *, direction=Direction.HIGHER, kind=MetricKind.USAGE):
    """Spec of an automatic metric read from usage observations of `key`."""
    return dict(
        name=name,
        metric_key=key,
        baseline=baseline,
        target=target,
        direction=direction,
        type=kind,
        measurement=MeasurementMode.AUTOMATIC,
        current=None,
    )


def manual(name, baseline, target, current=None, *, direction=Direction.HIGHER, kind=None):
    """Spec of a manually recorded metric."""
    return dict(
        name=name,
        metric_key=None,
        baseline=baseline,
        target=target,
        direction=direction,
        type=kind or MetricKind.OUTCOME,
        measurement=MeasurementMode.MANUAL,
        current=current,
    )


def _dec(value):
    return None if value is None else Decimal(str(value))


def plan(
    session,
    cust,
    *,
    started_on: date,
    metrics: Iterable[dict],
    days=(30, 60, 90),
    status=MeasurementStatus.ACTIVE,
    horizon_days=90,
    product=("ANALYTICS", "Analytics Pro"),
    name="Analytics expansion",
) -> Measurement:
    """Build an upsell, its product line, a plan, its metrics and its checkpoints."""
    code, product_name = product
    if session.get(Product, code) is None:
        add(session, Product(code=code, name=product_name))
    upsell = add(
        session,
        Upsell(
            opportunity_id=f"OPP-T{next(_seq)}",
            customer_id=cust.id,
            source=UpsellSource.MANUAL,
            type=UpsellType.EXPANSION,
            name=name,
            arr_increase=Decimal(24_000),
            close_date=started_on,
        ),
    )
    add(session, UpsellProduct(upsell_id=upsell.id, product_code=code, arr=Decimal(24_000)))
    row = add(
        session,
        Measurement(
            upsell_id=upsell.id,
            customer_id=cust.id,
            status=status,
            started_on=started_on,
            horizon_days=horizon_days,
        ),
    )
    for i, spec in enumerate(metrics):
        spec = dict(spec)
        if spec["metric_key"]:
            metric_def(session, spec["metric_key"], direction=spec["direction"])
        current = _dec(spec.pop("current"))
        session.add(
            MeasurementMetric(
                measurement_id=row.id,
                unit=spec.pop("unit", "units"),
                position=i,
                baseline=_dec(spec.pop("baseline")),
                target=_dec(spec.pop("target")),
                current=current,
                current_at=NOW - timedelta(days=1) if current is not None else None,
                **spec,
            )
        )
    for day in days:
        session.add(
            Checkpoint(
                measurement_id=row.id,
                day=day,
                kind=f"day_{day}",
                due_on=started_on + timedelta(days=day),
                status=CheckpointStatus.SCHEDULED,
            )
        )
    session.flush()
    return row


def observe(session, cust, key, start: date, end: date, value: Callable[[int], float] | float):
    """Write one observation per day at noon from `start` to `end`; `value(i)` for day i."""
    rows, day, i = [], start, 0
    while day <= end:
        v = value(i) if callable(value) else value
        at = datetime.combine(day, time(12), tzinfo=UTC)
        rows.append(
            dict(
                customer_id=cust.id,
                metric_key=key,
                observed_at=at,
                value=Decimal(str(round(v, 4))),
                source="test",
            )
        )
        day, i = day + timedelta(days=1), i + 1
    session.execute(insert(Observation).values(rows).on_conflict_do_nothing())


def metrics_of(session, measurement) -> dict[str, MeasurementMetric]:
    stmt = select(MeasurementMetric).where(MeasurementMetric.measurement_id == measurement.id)
    return {m.name: m for m in session.scalars(stmt.execution_options(populate_existing=True))}


def set_current(session, measurement, values: dict):
    """Set current values of metrics by name (bypassing validation, for status scenarios)."""
    by_name = metrics_of(session, measurement)
    for name, value in values.items():
        by_name[name].current = _dec(value)
    session.flush()


def checkpoints_of(session, measurement) -> dict[int, Checkpoint]:
    stmt = select(Checkpoint).where(Checkpoint.measurement_id == measurement.id)
    return {c.day: c for c in session.scalars(stmt.execution_options(populate_existing=True))}


def deliveries(session, channel=None) -> list[Delivery]:
    stmt = select(Delivery).order_by(Delivery.created_at, Delivery.idempotency_key)
    if channel:
        stmt = stmt.where(Delivery.channel == channel)
    return list(session.scalars(stmt))
