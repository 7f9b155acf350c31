"""What to expect of a plan: criteria, baselines and targets, and the chance of success.

Drafting (`draft_plans`): criteria come from (a) the success templates of the products, (b) the
success criteria stated on the opportunity (`core.upsell.schemas.parse_criterion`), (c) the
industry benchmark median, used when a template gives no target, and (d) the median that similar
completed plans (same product and segment, at least MIN_HISTORY) reached in the week ending on
day REACHED_DAY; when (c) and (d) both exist the better wins, so the median is a floor. Each
criterion records its `origin`. Baselines average the metric's observations in the BASELINE_DAYS
before close, for every upsell in one query. What could not be done becomes a plan note.

Prediction (`predict`): `predicted_success` is a percentage (0–100, two decimals), the scale of
health scores. A past plan with a confirmed outcome scores 1 for success, 0.5 for partial, else 0.
Rates are shrunk empirical-Bayes style, `(successes + K·prior) / (n + K)` with K = 5: the overall
rate toward PRIOR (0.6, a documented default, used as is without history), a product's rate
toward the overall rate, a product × segment rate toward its product's. A plan with several
products gets the mean of their rates, one without products the overall rate.
`prediction_basis` names every group with its n, successes and rate.
"""

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.upsell.schemas import MANUAL_CRITERION, Draft, criteria_sentences, note, parse_criterion

PRIOR = Decimal("0.6")
K = 5
MIN_HISTORY = 5
REACHED_DAY = 90
DEFAULT_DAYS = (30, 60, 90)
BASELINE_DAYS = 14

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
BASELINES = text(
    """
    SELECT k.customer_id, k.metric_key, k.close_date, round(avg(o.value), 4) AS value
    FROM unnest(CAST(:customers AS uuid[]), CAST(:keys AS text[]), CAST(:closes AS date[]))
         AS k(customer_id, metric_key, close_date)
    JOIN metric_observations o ON o.customer_id = k.customer_id AND o.metric_key = k.metric_key
     AND o.observed_at >= (k.close_date - CAST(:days AS int))::timestamp AT TIME ZONE 'UTC'
     AND o.observed_at < k.close_date::timestamp AT TIME ZONE 'UTC'
    GROUP BY k.customer_id, k.metric_key, k.close_date
    """
)
REACHED = text(
    """
    WITH done AS (
        SELECT m.id, m.customer_id, m.started_on, c.segment, p.product_code
        FROM upsell_measurements m JOIN customers c ON c.id = m.customer_id
        JOIN upsell_products p ON p.upsell_id = m.upsell_id
        WHERE m.status = 'completed' AND p.product_code = ANY(CAST(:products AS text[]))
    ), reached AS (
        SELECT d.product_code, d.segment, mm.metric_key, avg(o.value) AS value
        FROM done d
        JOIN measurement_metrics mm ON mm.measurement_id = d.id AND mm.metric_key IS NOT NULL
        JOIN metric_observations o ON o.customer_id = d.customer_id
         AND o.metric_key = mm.metric_key
         AND o.observed_at >= (d.started_on + CAST(:lo AS int))::timestamp AT TIME ZONE 'UTC'
         AND o.observed_at < (d.started_on + CAST(:hi AS int))::timestamp AT TIME ZONE 'UTC'
        GROUP BY d.product_code, d.segment, mm.metric_key, d.id
    )
    SELECT product_code, segment, NULL AS metric_key, count(DISTINCT id) AS n, NULL AS median
    FROM done GROUP BY product_code, segment
    UNION ALL
    SELECT product_code, segment, metric_key, count(*),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY value)
    FROM reached GROUP BY product_code, segment, metric_key
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


def reached_by_day(*, session: Session, products: list[str]) -> dict:
    """Return {(product, segment): {"plans": n, "metrics": {key: (n, median)}}} at REACHED_DAY."""
    found: dict = defaultdict(lambda: {"plans": 0, "metrics": {}})
    for row in session.execute(
        REACHED, {"products": sorted(set(products)), "lo": REACHED_DAY - 6, "hi": REACHED_DAY + 1}
    ):
        group = found[(row.product_code, row.segment)]
        if row.metric_key is None:
            group["plans"] = row.n
        else:
            group["metrics"][row.metric_key] = (row.n, Decimal(str(row.median)))
    return dict(found)


@dataclass
class _Lookups:
    catalog: dict
    templates: dict
    benchmarks: dict
    history: dict


def _lookups(session: Session, targets) -> _Lookups:
    codes = sorted({c for t in targets for c in t.products})
    templates = session.execute(
        text("SELECT * FROM success_templates WHERE product_code = ANY(:c)"), {"c": codes}
    )
    benchmarks = session.execute(
        text("SELECT * FROM industry_benchmarks WHERE lower(industry) = ANY(:i)"),
        {"i": sorted({t.industry.lower() for t in targets})},
    )
    return _Lookups(
        catalog={r.key: r for r in session.execute(text("SELECT * FROM metrics"))},
        templates={r.product_code: r for r in templates},
        benchmarks={(r.industry.lower(), r.segment, r.metric_key): r.median for r in benchmarks},
        history=reached_by_day(session=session, products=codes),
    )


def _fallback(direction: str, median, peers) -> tuple[Decimal | None, str | None]:
    options = [(Decimal(median), "benchmark")] if median is not None else []
    options += [(peers[1], "history")] if peers else []
    if not options:
        return None, None
    return (max if direction == Direction.HIGHER else min)(options, key=lambda o: o[0])


def _from_templates(t, look: _Lookups, draft: Draft) -> None:
    removed, planned = set(t.removed_metrics or ()), set(t.planned_products or ())
    for code in [c for c in t.products if c not in planned]:
        template = look.templates.get(code)
        if template is None:
            draft.notes.append(note("no_template", f"{code} has no success template."))
            continue
        draft.days |= set(template.checkpoint_days or DEFAULT_DAYS)
        history = look.history.get((code, t.segment), {"plans": 0, "metrics": {}})
        if history["plans"] < MIN_HISTORY:
            draft.notes.append(
                note(
                    "history",
                    f"History skipped for {code} in {t.segment}: {history['plans']} "
                    f"completed plans (fewer than {MIN_HISTORY}).",
                    product=code,
                )
            )
        for raw in template.metrics:
            name, key = raw["name"], raw.get("metricKey")
            if name in draft.metrics or name in removed:
                continue
            peers = history["metrics"].get(key)
            peers = peers if peers and peers[0] >= MIN_HISTORY else None
            if peers:
                draft.notes.append(
                    note(
                        "history",
                        f"{peers[0]} similar {code} plans reached a median of "
                        f"{peers[1]:.2f} on {name} by day {REACHED_DAY}.",
                        metric=name,
                    )
                )
            target, origin = raw.get("target"), "template"
            if target is None:
                median = look.benchmarks.get((t.industry.lower(), t.segment, key))
                target, origin = _fallback(raw["direction"], median, peers)
            if target is None:
                draft.notes.append(note("target_missing", f"{name}: no target anywhere; skipped."))
                continue
            draft.metrics[name] = {
                "name": name,
                "metric_key": key,
                "type": raw["type"],
                "unit": raw["unit"],
                "direction": raw["direction"],
                "target": Decimal(str(target)),
                "origin": origin,
                "measurement": raw.get("measurement") or ("automatic" if key else "manual"),
            }


def _baselines(session: Session, targets, drafts: dict) -> None:
    """Snapshot every automatic criterion's baseline in one query; resolve relative targets."""
    wanted = [
        (t, s["metric_key"])
        for t in targets
        for s in drafts[t.upsell_id].metrics.values()
        if s["measurement"] == "automatic"
    ]
    found = session.execute(
        BASELINES,
        {
            "customers": [t.customer_id for t, _ in wanted],
            "keys": [k for _, k in wanted],
            "closes": [t.close_date for t, _ in wanted],
            "days": BASELINE_DAYS,
        },
    )
    baselines = {(r.customer_id, r.metric_key, r.close_date): r.value for r in found}
    for t in targets:
        draft = drafts[t.upsell_id]
        for spec in draft.metrics.values():
            automatic = spec["measurement"] == "automatic"
            spec["baseline"] = baselines.get((t.customer_id, spec["metric_key"], t.close_date))
            if automatic and spec["baseline"] is None:
                draft.notes.append(
                    note(
                        "baseline_missing",
                        f"{spec['name']}: no {spec['metric_key']} data in the "
                        f"{BASELINE_DAYS} days before close; baseline left empty.",
                        metric=spec["name"],
                    )
                )
            factor = spec.pop("factor", None)
            if factor and spec["baseline"] is None:
                spec.update(MANUAL_CRITERION)
            elif factor:
                spec["target"] = (spec["baseline"] * factor).quantize(Decimal("0.0001"))


def draft_plans(*, session: Session, targets) -> dict[uuid.UUID, Draft]:
    """Work out each upsell's criteria, days and notes (for a re-plan: its new products only)."""
    look = _lookups(session, targets)
    drafts = {}
    for t in targets:
        draft = drafts[t.upsell_id] = Draft()
        _from_templates(t, look, draft)
        for sentence in criteria_sentences(t.stated_criteria) if t.measurement_id is None else ():
            parsed = parse_criterion(sentence, look.catalog)
            draft.metrics.setdefault(sentence, {"name": sentence, **parsed})
        draft.days = draft.days or set(DEFAULT_DAYS)
    _baselines(session, targets, drafts)
    return drafts
