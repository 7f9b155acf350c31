"""The chance that a plan succeeds, learned from confirmed outcomes of similar upsells.

What is predicted: the probability that a person confirms the plan's outcome as "success"
(partial, at risk and failed count as not succeeding; unconfirmed, machine-proposed outcomes and
any other confirmed status, such as "no decision", are not history). `predicted_success` is that
probability in percent (0–100, two decimals).

Features of a plan (the same definitions the outcome report groups by):
- early signal — its status at the day-30 checkpoint once it has reached it: the latest review's
  assessment there, else the checkpoint summary's status; "on track" (on track or exceeding) or
  "lagging" (at risk or behind); none before day 30;
- product — the upsell line with the most ARR; segment — the customer's; ARR band of the ARR
  increase: <10k, 10–50k, 50–150k, >150k.

Partial pooling (empirical Bayes), K = 5, PRIOR = 0.6. The base rate of all N confirmed
upsells (S successes) is shrunk toward the prior: base = (S + K·PRIOR) / (N + K). The plan's
features, in this order — early signal (when it has one), product, segment, ARR band — define
nested groups of similar upsells: Gᵢ = those matching the first i features (nᵢ plans, sᵢ
successes). Ring i = Gᵢ minus Gᵢ₊₁: the plans that share exactly the first i features (the last
ring is the closest group itself). Starting from the base rate, the rings are taken in from the
least to the most similar, each plan counted once:
    π₀ = base
    πᵢ = ((sᵢ − sᵢ₊₁) + K·πᵢ₋₁) / ((nᵢ − nᵢ₊₁) + K)      for i = 1 … d   (n_{d+1} = s_{d+1} = 0)
    p  = π_d
A ring's own rate counts as much as K plans' worth of what the less similar upsells say, so a
few examples move the chance only a little (one success moves it 1/(1 + K) of the way to 100%)
and an empty ring changes nothing: without any history p is the prior (shown as "no history
yet"), without similar upsells it is the base rate. `prediction_basis` keeps the features, the
base rate and every group with its n and successes.

`predict` scores given plans (new and re-planned ones, from the sync job); the tracking job calls
`refresh_predictions`, which re-scores every active plan without a confirmed outcome and writes
only those whose features (for instance the day-30 signal that just arrived) or history changed.
A plan's own outcome is never part of its history, and confirmation freezes its last prediction:
that is the one the outcome report checks.
"""

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.upsell.models import Measurement

PRIOR = Decimal("0.6")
K = 5
EARLY_DAY = 30
DECIDED = ("success", "partial", "at_risk", "failed")  # confirmed outcomes that are history
SUCCESS = "success"
ARR_BANDS = ("<10k", "10–50k", "50–150k", ">150k")
ARR_BAND_LIMITS = (10_000, 50_000, 150_000)  # upper bounds of the first three bands
FEATURES = ("earlySignal", "product", "segment", "arrBand")
EARLY = {"on_track": "on_track", "exceeding": "on_track", "at_risk": "lagging", "behind": "lagging"}

# SQL pieces over a plan `m` and its upsell `u`, shared with the outcome report.
MAIN_PRODUCT_SQL = """(SELECT p.product_code FROM upsell_products p WHERE p.upsell_id = u.id
                        ORDER BY p.arr DESC, p.product_code LIMIT 1)"""
ARR_BAND_SQL = (
    "CASE "
    + " ".join(
        f"WHEN u.arr_increase < {limit} THEN '{band}'"
        for limit, band in zip(ARR_BAND_LIMITS, ARR_BANDS, strict=False)
    )
    + f" ELSE '{ARR_BANDS[-1]}' END"
)


def checkpoint_status_sql(day: int) -> str:
    """Return SQL for plan `m`'s status at its day-`day` checkpoint (review, else summary)."""
    return f"""coalesce((SELECT r.assessment::text FROM upsell_reviews r JOIN checkpoints k
                          ON k.id = r.checkpoint_id WHERE k.measurement_id = m.id AND k.day = {day}
                        ORDER BY r.reviewed_at DESC LIMIT 1),
                       (SELECT k.summary->>'status' FROM checkpoints k
                         WHERE k.measurement_id = m.id AND k.day = {day}))"""


_PLANS = f"""
    SELECT m.id, m.predicted_success, m.prediction_basis, o.status::text AS outcome,
           c.segment::text AS segment, {ARR_BAND_SQL} AS arr_band,
           lp.code AS product, coalesce(pr.name, lp.code) AS product_name,
           {checkpoint_status_sql(EARLY_DAY)} AS early
      FROM upsell_measurements m
      JOIN upsells u ON u.id = m.upsell_id
      JOIN customers c ON c.id = m.customer_id
      LEFT JOIN upsell_outcomes o ON o.measurement_id = m.id
      LEFT JOIN LATERAL (SELECT {MAIN_PRODUCT_SQL} AS code) lp ON true
      LEFT JOIN products pr ON pr.code = lp.code
     WHERE m.status <> 'cancelled' AND {{where}}
"""
_CONFIRMED = "o.status::text = ANY(CAST(:decided AS text[]))"
HISTORY = text(_PLANS.format(where=f"{_CONFIRMED} AND m.id <> ALL(CAST(:ids AS uuid[]))"))
GIVEN = text(_PLANS.format(where="m.id = ANY(CAST(:ids AS uuid[]))"))
ACTIVE = text(_PLANS.format(where="m.status = 'active' AND o.status IS NULL"))  # undecided
STORE = text(
    """
    UPDATE upsell_measurements m SET predicted_success = v.score, prediction_basis = v.basis
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id uuid, score numeric, basis jsonb)
    WHERE m.id = v.id
    """
)


def features(row) -> dict:
    """Return a plan's features from a row of the plans query."""
    return {
        "earlySignal": EARLY.get(row.early),
        "product": row.product,
        "productName": row.product_name,
        "segment": row.segment,
        "arrBand": row.arr_band,
    }


def _chain(feats: dict) -> list[tuple[str, str | None]]:
    """Return the nested (feature, value) groups: early signal first when known."""
    names = FEATURES if feats["earlySignal"] else FEATURES[1:]
    return [(name, feats[name]) for name in names]


def tally(history: list[dict]) -> dict:
    """Count confirmed plans and successes in every nested group a plan could ask about."""
    counts: dict = defaultdict(lambda: [0, 0])
    for past in history:
        won = past["success"]
        counts[()][0] += 1
        counts[()][1] += won
        chains = [_chain(past)]
        if past["earlySignal"]:
            chains.append(_chain(past | {"earlySignal": None}))
        for chain in chains:
            for i in range(1, len(chain) + 1):
                counts[tuple(chain[:i])][0] += 1
                counts[tuple(chain[:i])][1] += won
    return counts


def _shrink(n: int, successes: int, toward: Decimal) -> Decimal:
    return (successes + K * toward) / (n + K)


def explain(counts: dict, feats: dict) -> tuple[Decimal, dict]:
    """Return the pooled success probability (0..1) of a plan with these features, and its basis."""
    groups, key = [counts.get((), (0, 0))], ()
    steps = []
    for name, value in _chain(feats):
        key += ((name, value),)
        n, successes = counts.get(key, (0, 0))
        groups.append((n, successes))
        steps.append({"feature": name, "value": value, "n": n, "successes": successes})
    total, won = groups[0]
    rate = base = _shrink(total, won, PRIOR)
    for (n, s), (inner_n, inner_s) in zip(groups[1:], [*groups[2:], (0, 0)], strict=True):
        rate = _shrink(n - inner_n, s - inner_s, rate)  # each ring: its own plans only
    basis = {
        "scale": "percent (0-100)",
        "outcome": "a confirmed outcome of success (partial, at risk and failed count as not)",
        "method": f"partial pooling: base = (S + {K}·prior) / (N + {K}); then, ring by ring "
        f"from the least to the most similar upsells (sharing early signal, product, segment, "
        f"ARR band), rate = (ring successes + {K}·rate so far) / (ring plans + {K})",
        "prior": float(PRIOR),
        "k": K,
        "features": feats,
        "history": total,
        "base": {"n": total, "successes": won, "rate": round(float(base), 4)},
        "steps": steps,
        "rate": round(float(rate), 4),
    }
    if total == 0:
        basis["note"] = f"no history yet: no upsell has a confirmed outcome, prior {PRIOR} used"
    return rate, basis


def _history(session: Session, exclude: list[uuid.UUID]) -> dict:
    rows = session.execute(HISTORY, {"decided": list(DECIDED), "ids": exclude})
    return tally([features(r) | {"success": r.outcome == SUCCESS} for r in rows])


def _score(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _store(session: Session, targets: list, *, now: datetime, only_changed: bool) -> int:
    counts = _history(session, [t.id for t in targets])
    # Plans with the same features get the same prediction: worked out once per combination.
    explained: dict[tuple, tuple[Decimal, dict]] = {}
    rows = []
    for target in targets:
        feats = features(target)
        key = tuple(feats.values())
        if key not in explained:
            explained[key] = explain(counts, feats)
        rate, shared = explained[key]
        basis = dict(shared)  # each plan's own top level: its prediction time is added below
        score = _score(rate)
        stored = dict(target.prediction_basis or {})
        stored.pop("predictedAt", None)
        if only_changed and target.predicted_success == score and stored == basis:
            continue
        basis["predictedAt"] = now.isoformat()
        rows.append({"id": str(target.id), "score": str(score), "basis": basis})
    if rows:
        session.execute(STORE, {"rows": json.dumps(rows)})
        for obj in list(session.identity_map.values()):  # the UPDATE bypassed the ORM
            if isinstance(obj, Measurement):
                session.expire(obj, ["predicted_success", "prediction_basis"])
    return len(rows)


def predict(
    *, session: Session, measurement_ids: list[uuid.UUID], now: datetime | None = None
) -> int:
    """Store an explainable success prediction on each plan; return how many were predicted."""
    ids = list(measurement_ids)
    if not ids:
        return 0
    session.flush()
    targets = session.execute(GIVEN, {"ids": ids}).all()
    return _store(session, targets, now=now or datetime.now(UTC), only_changed=False)


def refresh_predictions(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Re-predict undecided plans whose features or history changed (e.g. the day-30 signal)."""
    session.flush()
    targets = session.execute(ACTIVE).all()
    updated = _store(session, targets, now=now or datetime.now(UTC), only_changed=True)
    return {"predictions_updated": updated}
