"""Find customers and read one customer's goals, feedback, timeline and metric history."""

import uuid
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    String,
    any_,
    bindparam,
    case,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.customers.models import Customer
from core.customers.schemas import HealthBand
from core.errors import NotFound
from core.schemas import as_uuid

# Health scores run 0-100; the bands are what people scan for. Scores show as whole numbers,
# so a band starts where its first whole number does: 69.6 shows as 70 and is Healthy (70+),
# never "70 · Watch (40-69)".
HEALTHY_FROM = Decimal(70)
WATCH_FROM = Decimal(40)
SHOWN_AS = Decimal("0.5")  # a score this far below a threshold is shown as the threshold
HEALTHY_AT = HEALTHY_FROM - SHOWN_AS  # the exact scores the bands start at
WATCH_AT = WATCH_FROM - SHOWN_AS


def health_band_expr(score: ColumnElement) -> ColumnElement[str]:
    """Return a SQL expression naming the health band of `score`."""
    return case(
        (score.is_(None), literal(HealthBand.UNKNOWN.value)),
        (score >= HEALTHY_AT, literal(HealthBand.HEALTHY.value)),
        (score >= WATCH_AT, literal(HealthBand.WATCH.value)),
        else_=literal(HealthBand.AT_RISK.value),
    )


def health_band(score: Decimal | None) -> HealthBand:
    """Return the health band of `score` (the same thresholds as `health_band_expr`)."""
    if score is None:
        return HealthBand.UNKNOWN
    if score >= HEALTHY_AT:
        return HealthBand.HEALTHY
    return HealthBand.WATCH if score >= WATCH_AT else HealthBand.AT_RISK


def resolve_customers(*, session: Session, refs: Iterable[str]) -> dict[str, uuid.UUID]:
    """Map references to customer ids: our UUID when one matches, else the external id."""
    refs = set(refs)
    as_ids = {ref: parsed for ref in refs if (parsed := as_uuid(ref))}
    ids = bindparam("ids", list(as_ids.values()), ARRAY(Customer.id.type))
    externals = bindparam("refs", list(refs), ARRAY(String))
    rows = session.execute(
        select(Customer.id, Customer.external_id).where(
            or_(Customer.id == any_(ids), Customer.external_id == any_(externals))
        )
    ).all()
    known = {row.id for row in rows}
    found = {row.external_id: row.id for row in rows if row.external_id in refs}
    found.update({ref: parsed for ref, parsed in as_ids.items() if parsed in known})
    return found


def customer_id_for(*, session: Session, ref: str) -> uuid.UUID:
    """Return the id of the customer `ref` names (our UUID or external id), or NotFound."""
    found = resolve_customers(session=session, refs=[ref]).get(ref)
    if found is None:
        raise NotFound(f"No customer '{ref}' (neither our id nor an external id).")
    return found
