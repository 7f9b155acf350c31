"""The chance that a plan succeeds, predicted from past outcomes (empirical Bayes).

`predicted_success` is a percentage (0–100, two decimals), the scale of health scores. A past plan
with a confirmed outcome scores 1 for success, 0.5 for partial, else 0. Rates are shrunk
empirical-Bayes style, `(successes + K·prior) / (n + K)` with K = 5: the overall rate toward PRIOR
(0.6, a documented default, used as is without history), a product's rate toward the overall
rate, a product × segment rate toward its product's. A plan with several products gets the mean
of their rates, one without products the overall rate. `prediction_basis` names every group with
its n, successes and rate.
"""

import json
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

PRIOR = Decimal("0.6")
K = 5

PAST = text(
    """
    SELECT m.id, c.segment, CASE o.status WHEN 'success' THEN 1 WHEN 'partial' THEN 0.5 ELSE 0
           END AS score,
           coalesce(array_agg(DISTINCT p.product_code) FILTER (WHERE p.product_code IS NOT NULL),
                    '{}') AS products
    FROM upsell_outcomes o
    JOIN upsell_measurements m ON m.id = o.measurement_id AND m.status <> 'cancelled'
    JOIN customers c ON c.id = m.customer_id
    LEFT JOIN upsell_products p ON p.upsell_id = m.upsell_id
    WHERE o.status IS NOT NULL AND m.id <> ALL(CAST(:ids AS uuid[]))
    GROUP BY m.id, c.segment, o.status
    """
)
TARGETS = text(
    """
    SELECT m.id, c.segment,
           coalesce(array_agg(p.product_code ORDER BY p.product_code)
                    FILTER (WHERE p.product_code IS NOT NULL), '{}') AS products
    FROM upsell_measurements m JOIN customers c ON c.id = m.customer_id
    LEFT JOIN upsell_products p ON p.upsell_id = m.upsell_id
    WHERE m.id = ANY(CAST(:ids AS uuid[]))
    GROUP BY m.id, c.segment
    """
)
STORE = text(
    """
    UPDATE upsell_measurements m SET predicted_success = v.score, prediction_basis = v.basis
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id uuid, score numeric, basis jsonb)
    WHERE m.id = v.id
    """
)


def _group(n: int, successes: Decimal, prior: Decimal) -> dict:
    rate = (successes + K * prior) / (n + K)
    return {"n": n, "successes": float(successes), "rate": round(float(rate), 4), "_rate": rate}


def _tallies(session: Session, exclude: list[uuid.UUID]) -> dict:
    tally: dict = defaultdict(lambda: [0, Decimal(0)])
    for row in session.execute(PAST, {"ids": exclude}):
        score = Decimal(str(row.score))
        for key in (
            ["overall"] + [(p,) for p in row.products] + [(p, row.segment) for p in row.products]
        ):
            tally[key][0] += 1
            tally[key][1] += score
    return tally


def explain(tally: dict, products: list[str], segment: str) -> tuple[Decimal, dict]:
    """Return the shrunk success rate (0..1) for these products in this segment, and its basis."""
    overall = _group(*tally.get("overall", (0, Decimal(0))), PRIOR)
    groups = []
    for code in products:
        product = _group(*tally.get((code,), (0, Decimal(0))), overall["_rate"])
        both = _group(*tally.get((code, segment), (0, Decimal(0))), product["_rate"])
        groups.append(
            {
                "product": code,
                "segment": segment,
                "productRate": product,
                "productSegmentRate": both,
            }
        )
    rates = [g["productSegmentRate"]["_rate"] for g in groups] or [overall["_rate"]]
    rate = sum(rates) / len(rates)
    for shown in [overall] + [g[k] for g in groups for k in ("productRate", "productSegmentRate")]:
        shown.pop("_rate")
    basis = {
        "scale": "percent (0-100)",
        "method": f"empirical Bayes: (successes + {K}·prior) / (n + {K}); product × segment "
        "shrunk toward product, product toward overall, overall toward the prior",
        "scores": {"success": 1, "partial": 0.5, "other": 0},
        "prior": float(PRIOR),
        "overall": overall,
        "groups": groups,
        "rate": round(float(rate), 4),
    }
    if overall["n"] == 0:
        basis["note"] = f"no completed plans with a confirmed outcome yet: prior {PRIOR} used"
    return rate, basis


def predict(*, session: Session, measurement_ids: list[uuid.UUID]) -> int:
    """Store an explainable success prediction on each plan; return how many were predicted."""
    ids = list(measurement_ids)
    if not ids:
        return 0
    tally = _tallies(session, ids)
    rows = []
    for target in session.execute(TARGETS, {"ids": ids}):
        rate, basis = explain(tally, list(target.products), target.segment)
        score = (rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        rows.append({"id": str(target.id), "score": str(score), "basis": basis})
    session.execute(STORE, {"rows": json.dumps(rows)})
    return len(rows)
