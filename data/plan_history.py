"""Older upsells as the app tracked them at the time: plans, checkpoints, reviews and outcomes.

For each older upsell (data.expansions) the generator writes what the jobs and its CSM did:

- the **plan**, drafted by the app's own rules (`core.upsell.targets.draft_plans`: baselines at
  close, targets from the template uplifts, benchmarks, stated criteria), created hours after the
  close (one in eight took days: someone entered the deal late);
- **hand-measured values** the CSM recorded a few days before each checkpoint;
- each **checkpoint**, prepared on its day from the data as of that day (`core.upsell.asof`,
  summaries by `core.upsell.reviews.build_summary`) and reviewed by the CSM at the review meeting
  two business days later; about one in ten earlier checkpoints passed without a review;
- the **outcome** the app proposed after the last checkpoint (`core.upsell.outcomes.propose`, a
  contraction during the plan fails it), confirmed by the CSM within days, sometimes overridden
  with a reason; a few went undecided and closed as "no decision" after 30 days;
- the **prediction** each plan carried when its outcome was confirmed: `core.upsell.prediction`
  over the outcomes confirmed before (data.plan_decisions), so the outcome report can check it;
- the `upsell_realization` health factor of the customer's confirmed outcome, and the timeline.

Everything is as of its own moment, never as of `as_of`: the plans are completed, so the tracking
job leaves them alone. The similar-upsell history of targets is not replayed (all older plans are
drafted with an empty history); adoption milestones are not laid out for them.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from core.schemas import json_ready
from core.upsell import asof, curve, frequency, reviews
from core.upsell.checkpoints import meeting_start
from core.upsell.targets import Draft, draft_plans
from data import plan_decisions
from data.catalog import HIGHER, PRODUCTS
from data.expansions import Expansion
from data.load import as_json, copy_rows, midnight, new_id

LATE_PLANS = 0.12  # deals entered days after the close
UNREVIEWED = 0.1  # earlier checkpoints that passed without a review

MEASUREMENT_COLUMNS = (
    "id",
    "upsell_id",
    "customer_id",
    "status",
    "started_on",
    "horizon_days",
    "health_before",
    "planned_products",
    "plan_notes",
    "created_at",
    "updated_at",
)
METRIC_COLUMNS = (
    "id",
    "measurement_id",
    "name",
    "metric_key",
    "type",
    "unit",
    "direction",
    "measurement",
    "baseline",
    "target",
    "origin",
    "position",
    "target_source",
    "target_explanation",
    "frequency",
    "created_at",
    "updated_at",
)
READING_COLUMNS = ("id", "metric_id", "observed_at", "value", "recorded_by_id", "created_at")
AUDIT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_user_id",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "changes",
)
CHECKPOINT_COLUMNS = (
    "id",
    "measurement_id",
    "day",
    "kind",
    "due_on",
    "status",
    "triggered_at",
    "summary",
    "review_due_on",
    "created_at",
    "updated_at",
)
REVIEW_COLUMNS = (
    "id",
    "measurement_id",
    "checkpoint_id",
    "reviewer_id",
    "assessment",
    "findings",
    "next_steps",
    "reviewed_at",
    "created_at",
    "updated_at",
)


@dataclass
class Checkpoint:
    id: uuid.UUID
    day: int
    due: date
    triggered: datetime
    status: str = "triggered"
    summary: dict = field(default_factory=dict)
    review: tuple | None = None  # a REVIEW_COLUMNS row


@dataclass
class Tracked:
    """One older upsell's plan as it happened."""

    deal: Expansion
    id: uuid.UUID
    created: datetime
    draft: Draft
    metrics: list[dict]
    checkpoints: list[Checkpoint]
    products: str
    readings: list[tuple] = field(default_factory=list)
    audits: list[tuple] = field(default_factory=list)
    final: asof.Snapshot | None = None

    @property
    def csm(self):
        return self.deal.account.owner

    @property
    def last(self) -> Checkpoint:
        return self.checkpoints[-1]


def _candidate(e: Expansion) -> SimpleNamespace:
    """The upsell as `draft_plans` reads it (the columns of core.upsell.plans.CANDIDATES)."""
    return SimpleNamespace(
        upsell_id=e.id,
        customer_id=e.account.id,
        close_date=e.close,
        stated_criteria=e.criteria,
        industry=e.account.industry.name,
        segment=e.account.segment,
        health_score=e.account.health,
        measurement_id=None,
        planned_products=[],
        removed_metrics=[],
        offset=0,
        products=sorted(e.codes),
    )


def _created(rng: random.Random, close: date) -> datetime:
    hours = rng.uniform(72, 480) if rng.random() < LATE_PLANS else rng.uniform(2, 40)
    return midnight(close) + timedelta(hours=hours)


def _track(rng: random.Random, e: Expansion, draft: Draft) -> Tracked:
    plan_id, created = new_id(rng), _created(rng, e.close)
    metrics = [
        {
            "id": new_id(rng),
            "position": i,
            **spec,
            "frequency": frequency.default_for(spec["type"], spec["measurement"]).value,
        }
        for i, spec in enumerate(draft.metrics.values())
    ]
    checkpoints = []
    for day in sorted(draft.days):
        due = e.close + timedelta(days=day)
        triggered = midnight(due) + timedelta(minutes=rng.randint(1, 25))
        checkpoints.append(Checkpoint(new_id(rng), day, due, triggered))
    products = ", ".join(sorted(PRODUCTS[c][0] for c in e.codes))
    plan = Tracked(e, plan_id, created, draft, metrics, checkpoints, products)
    _record_values(rng, plan)
    return plan


def _hand_value(rng: random.Random, m: dict, meets: bool, share: float) -> Decimal:
    """A hand-entered value `share` of the way through the plan, heading for the target or not."""
    target, higher = float(m["target"]), m["direction"] == HIGHER
    if m["unit"] == "met":
        return Decimal(int(meets and share >= 0.99))
    start = 0.0 if higher else target * rng.uniform(2.0, 3.0)
    if higher:
        end = target * rng.uniform(1.0, 1.5) if meets else target * rng.uniform(0.25, 0.7)
    else:
        end = target * rng.uniform(0.4, 1.0) if meets else target * rng.uniform(1.5, 2.5)
    return Decimal(max(0, round(start + (end - start) * share)))


def _record_values(rng: random.Random, plan: Tracked) -> None:
    """The CSM records hand-measured values a few days before each checkpoint (audited as
    `core.upsell.progress.record_manual_values` audits them: previous and new value)."""
    manual = [m for m in plan.metrics if m["measurement"] == "manual"]
    if not manual:
        return
    fate = plan.deal.fate
    meets = {
        m["name"]: fate == "success" or (fate == "partial" and rng.random() < 0.6) for m in manual
    }
    csm, previous = plan.csm, {}
    for cp in plan.checkpoints:
        when = midnight(cp.due) - timedelta(days=rng.randint(1, 4)) + timedelta(hours=14)
        share = cp.day / plan.last.day
        values = {}
        for m in manual:
            value = _hand_value(rng, m, meets[m["name"]], share)
            plan.readings.append((new_id(rng), m["id"], when, value, csm.id, when))
            values[m["name"]] = [previous.get(m["name"]), value]
            previous[m["name"]] = value
        changes = {"values": values, "observed_at": when.isoformat()}
        plan.audits.append(
            (
                new_id(rng),
                when,
                csm.id,
                csm.email,
                "measurement.manual_values",
                "measurement",
                str(plan.id),
                as_json(json_ready(changes)),
            )
        )


def _findings(summary: dict) -> str:
    lines = [
        f"{m['name']}: no value yet (target {m['target']} {m['unit']})"
        if m["current"] == "—"
        else f"{m['name']}: {m['current']} {m['unit']} against a target of {m['target']}"
        + (f" ({m['progress']:.0%} of the way)" if m["progress"] is not None else "")
        for m in summary["metrics"]
    ]
    return "\n".join(lines + [f"Risk: {r}" for r in summary["risks"]]) or "No data yet."


def _checkpoint(rng: random.Random, plan: Tracked, cp: Checkpoint, shot: asof.Snapshot) -> None:
    """Prepare the checkpoint from its day's data; the CSM reviews it at the meeting, or not."""
    cp.summary = reviews.build_summary(
        day=cp.day,
        metrics=shot.metrics,
        status=shot.status,
        horizon=shot.horizon,
        days=shot.day,
        products=plan.products,
        now=shot.at,
    ) | {"prepared_on": cp.due.isoformat(), "prepared_day": cp.day}
    final = cp is plan.last
    if not final and rng.random() < UNREVIEWED:
        cp.status = "skipped"  # the next checkpoint came before anyone reviewed this one
        return
    late = timedelta(days=rng.randint(3, 9)) if rng.random() < 0.1 else timedelta(0)
    reviewed = meeting_start(cp.due) + timedelta(minutes=rng.randint(30, 240)) + late
    assessment = shot.status or "at_risk"
    steps = "\n".join(f"- {a}" for a in cp.summary["actions"]) or None
    cp.status = "reviewed"
    cp.review = (
        new_id(rng),
        plan.id,
        cp.id,
        plan.csm.id,
        assessment,
        _findings(cp.summary),
        steps,
        reviewed,
        reviewed,
        reviewed,
    )


def _rows(plans: list[Tracked]):
    measurements, metrics, readings, audits = [], [], [], []
    for p in plans:
        e = p.deal
        measurements.append(
            (
                p.id,
                e.id,
                e.account.id,
                "completed",
                e.close,
                p.last.day,
                e.account.health,
                sorted(e.codes),
                as_json(p.draft.notes),
                p.created,
                p.created,
            )
        )
        for m in p.metrics:
            metrics.append(
                (
                    m["id"],
                    p.id,
                    m["name"],
                    m["metric_key"],
                    m["type"],
                    m["unit"],
                    m["direction"],
                    m["measurement"],
                    m["baseline"],
                    m["target"],
                    m["origin"],
                    m["position"],
                    m["target_source"],
                    m["target_explanation"],
                    m["frequency"],
                    p.created,
                    p.created,
                )
            )
        readings += p.readings
        audits += p.audits
    return measurements, metrics, readings, audits


def _checkpoint_rows(plans: list[Tracked]):
    for p in plans:
        for cp in p.checkpoints:
            yield (
                cp.id,
                p.id,
                cp.day,
                f"day_{cp.day}",
                cp.due,
                cp.status,
                cp.triggered,
                as_json(cp.summary),
                cp.due + timedelta(days=7),
                p.created,
                cp.review[7] if cp.review else cp.triggered,
            )


def load(conn: Connection, rng: random.Random, older: list[Expansion], *, as_of: date) -> dict:
    """Write the older upsells' plans, checkpoints, reviews and outcomes; return row counts."""
    if not older:
        return {}
    session = Session(bind=conn)
    drafts = draft_plans(session=session, targets=[_candidate(e) for e in older])
    plans = [_track(rng, e, drafts[e.id]) for e in sorted(older, key=lambda e: e.close)]
    measurements, metrics, readings, audits = _rows(plans)
    counts = {
        "upsell_measurements": copy_rows(
            conn, "upsell_measurements", MEASUREMENT_COLUMNS, measurements
        ),
        "measurement_metrics": copy_rows(conn, "measurement_metrics", METRIC_COLUMNS, metrics),
        "measurement_readings": copy_rows(conn, "measurement_readings", READING_COLUMNS, readings),
        "audit_log": copy_rows(conn, "audit_log", AUDIT_COLUMNS, audits),
    }
    conn.exec_driver_sql("ANALYZE upsell_measurements, measurement_metrics, measurement_readings")
    # Every checkpoint as of the end of its day, in one query; the expected curve is the linear
    # one the app used before it had finished plans to learn from.
    points = [(cp.id, p.id, asof.end_of(cp.due)) for p in plans for cp in p.checkpoints]
    shots = asof.snapshots(session=session, points=points, shape=curve.LINEAR)
    for p in plans:
        for cp in p.checkpoints:
            _checkpoint(rng, p, cp, shots[cp.id])
        p.final = shots[p.last.id]
    counts["checkpoints"] = copy_rows(
        conn, "checkpoints", CHECKPOINT_COLUMNS, _checkpoint_rows(plans)
    )
    counts["upsell_reviews"] = copy_rows(
        conn,
        "upsell_reviews",
        REVIEW_COLUMNS,
        (cp.review for p in plans for cp in p.checkpoints if cp.review),
    )
    for table, n in plan_decisions.decide(conn, rng, plans, as_of=as_of).items():
        counts[table] = counts.get(table, 0) + n
    session.close()
    return counts
