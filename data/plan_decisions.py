"""How the older upsells ended: the proposed and confirmed outcomes, and what they taught.

After each older plan's last checkpoint the app proposed an outcome from the data as of that day
(`core.upsell.outcomes.propose`; a contraction since the plan started fails it). The CSM
confirmed it at or after the assessment meeting, or recorded another outcome with a reason (one
in ten: hand-measured criteria the data cannot see, a recovery plan agreed); one in twenty went
undecided and closed as "no decision" after the 30-day grace period.

In the order the outcomes were confirmed, each plan carries the prediction the app held when its
outcome was confirmed: `core.upsell.prediction` over the outcomes confirmed before it, with the
plan's own early signal (its day-30 review, else the checkpoint), product, segment and ARR band.
The outcome report checks exactly these. A confirmed outcome sets the customer's
`upsell_realization` health factor and the health after (`core.customers.health.combine` of the
score the CRM had sent, counting double, and that factor).
"""

import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from sqlalchemy import Connection, text

from core.customers.events import title as event_title
from core.customers.health import combine
from core.customers.models import CustomerEventKind
from core.upsell.checkpoints import meeting_start
from core.upsell.curve import LABELS
from core.upsell.outcomes import FACTOR, GRACE_DAYS, propose, realization_score
from core.upsell.prediction import (
    ARR_BAND_LIMITS,
    ARR_BANDS,
    DECIDED,
    EARLY_DAY,
    SUCCESS,
    explain,
    features,
    tally,
)
from core.upsell.reviews import checkpoint_title
from data.activity import TIMELINE_COLUMNS
from data.catalog import PRODUCTS
from data.load import as_json, copy_rows, midnight, new_id

UNDECIDED = 0.05
OVERRIDES = 0.1
# A CSM's different call, with the reason they give.
OVERRIDE = {
    "at_risk": (
        "partial",
        "The customer confirmed on the assessment call that the hand-measured criteria are met; "
        "usage data lags behind.",
    ),
    "failed": (
        "at_risk",
        "The customer committed to a recovery plan with a new champion; not a loss yet.",
    ),
    "partial": (
        "success",
        "Every criterion the customer cares about is met; the remaining metric was a stretch.",
    ),
}
OUTCOME_COLUMNS = (
    "id",
    "measurement_id",
    "proposed_status",
    "proposed_reasons",
    "status",
    "decided_by_id",
    "override_reason",
    "decided_at",
    "decide_by",
    "created_at",
    "updated_at",
)
FACTOR_COLUMNS = (
    "id",
    "customer_id",
    "factor",
    "score",
    "weight",
    "details",
    "source",
    "updated_at",
)
PLANS_DONE = text(
    """
    UPDATE upsell_measurements m
       SET progress_status = v.status, predicted_success = v.score, prediction_basis = v.basis,
           health_after = v.health, evaluated_at = v.done, updated_at = v.done
      FROM jsonb_to_recordset(CAST(:rows AS jsonb))
           AS v(id uuid, status text, score numeric, basis jsonb, health numeric,
                done timestamptz)
     WHERE m.id = v.id
    """
)
METRICS_DONE = text(
    """
    UPDATE measurement_metrics x
       SET current = v.current, current_at = v.current_at, progress = v.progress,
           expected = v.expected
      FROM jsonb_to_recordset(CAST(:rows AS jsonb))
           AS v(id uuid, current numeric, current_at timestamptz, progress numeric,
                expected numeric)
     WHERE x.id = v.id
    """
)


def _band(arr: Decimal) -> str:
    """The ARR band of an upsell (as core.upsell.prediction.ARR_BAND_SQL puts it)."""
    bands = zip(ARR_BAND_LIMITS, ARR_BANDS, strict=False)
    return next((band for limit, band in bands if arr < limit), ARR_BANDS[-1])


def _shrink(plan) -> list[str]:
    """The contraction signals the proposal rules read: contractions since the plan started."""
    e = plan.deal
    if e.contraction is None or e.contraction[0] > plan.last.due:
        return []
    line = event_title(CustomerEventKind.CONTRACTION, e.contraction[1])
    return [f"Contraction signal — contraction: {line}"]


def _propose(rng: random.Random, plan, as_of: date) -> SimpleNamespace:
    """The outcome the app proposed after the last checkpoint and what the CSM decided."""
    e, final = plan.deal, plan.final
    shrink = _shrink(plan)
    proposed, reasons = propose(
        final.metrics, shrink=shrink, product=PRODUCTS[e.main_product][0], now=final.at
    )
    at = plan.last.triggered + timedelta(minutes=2)
    decide_by = at.date() + timedelta(days=GRACE_DAYS)
    decided = SimpleNamespace(proposed=proposed, reasons=reasons, at=at, decide_by=decide_by)
    closed = decide_by + timedelta(days=1)  # the job closes it the day after the grace period
    if not e.pinned and closed < as_of and rng.random() < UNDECIDED:
        decided.status, decided.by, decided.why = "no_decision", None, None
        decided.done = midnight(closed) + timedelta(minutes=5)
        return decided
    decided.status, decided.by, decided.why = proposed.value, e.account.owner.id, None
    if not shrink and proposed.value in OVERRIDE and rng.random() < OVERRIDES:
        decided.status, decided.why = OVERRIDE[proposed.value]
    decided.done = meeting_start(plan.last.due) + timedelta(hours=rng.uniform(0.5, 72))
    return decided


def _average(metrics) -> float | None:
    known = [float(m.progress) for m in metrics if m.progress is not None]
    return sum(known) / len(known) if known else None


def _early(plan) -> str | None:
    """The plan's status at its day-30 checkpoint: the review's assessment, else the summary's."""
    cp = next((c for c in plan.checkpoints if c.day == EARLY_DAY), None)
    if cp is None:
        return None
    return cp.review[4] if cp.review else cp.summary.get("status")


def _predict(plans, decisions) -> dict:
    """Return {plan id: (score, basis)}: the prediction each plan held when it was decided."""
    counts = tally([])
    changed: datetime | None = None
    found = {}
    for plan, d in sorted(zip(plans, decisions, strict=True), key=lambda pd: pd[1].done):
        e = plan.deal
        row = SimpleNamespace(
            early=_early(plan),
            product=e.main_product,
            product_name=PRODUCTS[e.main_product][0],
            segment=e.account.segment,
            arr_band=_band(e.total),
        )
        feats = features(row)
        rate, basis = explain(counts, feats)
        day30 = next((c.triggered for c in plan.checkpoints if c.day == EARLY_DAY), plan.created)
        basis["predictedAt"] = max(filter(None, (plan.created, day30, changed))).isoformat()
        score = (rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        found[plan.id] = (score, basis)
        if d.status in DECIDED:  # confirmed by a person: history from now on
            for key, (n, s) in tally([feats | {"success": d.status == SUCCESS}]).items():
                counts[key][0] += n
                counts[key][1] += s
            changed = d.done
    return found


def _timeline(rng: random.Random, plan, d):
    e = plan.deal
    for cp in plan.checkpoints:
        if cp.review:
            review_id, assessment, findings, steps, when = (
                cp.review[0],
                cp.review[4],
                cp.review[5],
                cp.review[6],
                cp.review[7],
            )
            body = findings + (f"\n\nNext steps: {steps}" if steps else "")
            yield (
                new_id(rng),
                e.account.id,
                when,
                "upsell_review",
                f"{checkpoint_title(cp.day)} recorded: {LABELS[assessment]}",
                body,
                plan.csm.id,
                "upsell_review",
                review_id,
            )
    if d.status == "no_decision":
        title = f"Upsell plan for {e.name} closed without a decision"
        body = (
            f"Nobody confirmed the proposed outcome ({d.proposed.value.replace('_', ' ')}) "
            f"by {d.decide_by.isoformat()}."
        )
    else:
        title = f"Upsell outcome for {e.name}: {d.status.replace('_', ' ')}"
        body = d.why
    yield (
        new_id(rng),
        e.account.id,
        d.done,
        "upsell_outcome",
        title,
        body,
        d.by,
        "measurement",
        plan.id,
    )


def decide(conn: Connection, rng: random.Random, plans: list, *, as_of: date) -> dict[str, int]:
    """Write the older plans' outcomes, predictions, health factors and timeline lines."""
    decisions = [_propose(rng, p, as_of) for p in plans]
    predictions = _predict(plans, decisions)
    outcomes, factors, lines, done, values = [], [], [], [], []
    for plan, d in zip(plans, decisions, strict=True):
        e = plan.deal
        average = _average(plan.final.metrics)
        outcomes.append(
            (
                new_id(rng),
                plan.id,
                d.proposed.value,
                as_json(d.reasons),
                d.status,
                d.by,
                d.why,
                d.done,
                d.decide_by,
                d.at,
                d.done,
            )
        )
        health = None
        if d.status in DECIDED:
            score = realization_score(d.status, average)
            details = {
                "measurement_id": str(plan.id),
                "upsell": e.name,
                "outcome": d.status,
                "average_progress": average,
            }
            factors.append(
                (
                    new_id(rng),
                    e.account.id,
                    FACTOR,
                    score,
                    Decimal(1),
                    as_json(details),
                    "upsell_tracking",
                    d.done,
                )
            )
            health = combine([(e.account.health, Decimal(2)), (score, Decimal(1))])
        score, basis = predictions[plan.id]
        done.append(
            {
                "id": str(plan.id),
                "status": plan.final.status,
                "score": str(score),
                "basis": basis,
                "health": None if health is None else str(health),
                "done": d.done.isoformat(),
            }
        )
        names = {m["name"]: m["id"] for m in plan.metrics}
        values += [
            {
                "id": str(names[m.name]),
                "current": None if m.current is None else str(m.current),
                "current_at": None if m.current_at is None else m.current_at.isoformat(),
                "progress": None if m.progress is None else str(m.progress),
                "expected": None if m.expected is None else str(m.expected),
            }
            for m in plan.final.metrics
        ]
        lines += list(_timeline(rng, plan, d))
    conn.execute(PLANS_DONE, {"rows": as_json(done)})
    if values:
        conn.execute(METRICS_DONE, {"rows": as_json(values)})
    return {
        "upsell_outcomes": copy_rows(conn, "upsell_outcomes", OUTCOME_COLUMNS, outcomes),
        "health_factors": copy_rows(conn, "health_factors", FACTOR_COLUMNS, factors),
        "timeline_events": copy_rows(conn, "timeline_events", TIMELINE_COLUMNS, lines),
    }
