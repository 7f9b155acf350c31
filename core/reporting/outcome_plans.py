"""The plans behind the upsell outcome charts, named as people know them (products by name)."""

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.reporting.landing_schemas import OutcomePlan, OutcomePlans
from core.reporting.outcome_periods import NO_FILTERS
from core.upsell.analysis import PLANS
from core.upsell.models import Product

LIMIT = 5000  # a table to read and filter, not an export
ROWS = text(
    PLANS
    + """
SELECT f.id AS measurement_id, f.customer, f.upsell, f.product, f.segment, f.industry,
       f.arr_band, f.sales_rep, f.outcome, f.confirmed, f.metrics, f.met, f.signal_30,
       f.predicted_success, count(*) OVER () AS total
  FROM facts f
 ORDER BY f.customer, f.upsell, f.id
 LIMIT :rows
"""
)
NO_PRODUCT = "No product"


def product_names(*, session: Session) -> dict[str, str]:
    """Return every product's name by its key."""
    return dict(session.execute(select(Product.code, Product.name)).tuples().all())


def outcome_plans(*, session: Session, limit: int = LIMIT, **filters) -> OutcomePlans:
    """Return the plans the outcome report covers for `filters` (not cancelled), by customer."""
    names = product_names(session=session)
    rows = session.execute(ROWS, NO_FILTERS | filters | {"rows": limit}).all()
    plans = [
        OutcomePlan(
            measurement_id=r.measurement_id,
            customer=r.customer,
            upsell=r.upsell,
            product=r.product,
            product_name=NO_PRODUCT if r.product == "none" else names.get(r.product, r.product),
            segment=r.segment,
            industry=r.industry,
            arr_band=r.arr_band,
            sales_rep=r.sales_rep,
            outcome=r.outcome,
            confirmed=r.confirmed,
            metrics=r.metrics,
            met=r.met,
            signal_30=r.signal_30,
            predicted_success=None if r.predicted_success is None else float(r.predicted_success),
        )
        for r in rows
    ]
    return OutcomePlans(
        plans=plans, total=rows[0].total if rows else 0, products=names | {"none": NO_PRODUCT}
    )
