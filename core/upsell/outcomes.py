"""Propose each plan's outcome at its final checkpoint and record the CSM's decision.

Proposal rules, first match wins:
1. failed — the expansion shrank or the customer left: since the plan started, the customer's
   timeline has a "churn" event, or a "contraction" / "upsell_contracted" event (the latter is
   what applied contract amendments write) about this upsell or plan, or about no record at all
   (an account-wide contraction).
2. success — every target met; each metric is listed as evidence.
3. partial — at least half of the targets met, or average progress ≥ 0.7; the gaps are named.
4. failed — average progress below 0.3 at the horizon.
5. at risk — anything else (the customer is still there); an intervention plan is suggested
   from the two weakest metrics.

The proposal reads the plan's data as of its final checkpoint's day (`core/upsell/asof.py`), or as
of now when a CSM decides before that day. The CSM has GRACE_DAYS (30) from the proposal to
decide (`decide_by`); after that the plan closes as "no decision" (`core/upsell/lifecycle.py`),
which a later confirmation replaces. "No decision" is never a choice a person makes.

Each plan is proposed on its own and the proposals are written a chunk at a time
(`core/upsell/bulk.py`): a plan that cannot be proposed, or whose proposal the database refuses,
is recorded with its reason (System page) and tried again on the next pass, while the others
are proposed.

Confirmation completes the plan and upserts the customer's `upsell_realization` health factor:
the outcome sets the band (success 80-100, partial 50-79, at risk 25-49, failed 0-24) and the
plan's average progress (clamped to 0-1) the place in it. The combined health score is then
refreshed (the weighted mean of the customer's factors, core/customers/health.py), which also
queues its write-back to the CRM when it changed.
"""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.audit.bulk import insert_rows
from core.audit.failures import batch
from core.audit.service import record_audit
from core.customers.health import refresh_scores, upsert_factor
from core.customers.models import Customer, TimelineEvent
from core.errors import Conflict, Invalid, NotFound
from core.upsell import asof, bulk, reviews
from core.upsell.curve import fmt, target_met
from core.upsell.models import (
    Checkpoint,
    Measurement,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
    Upsell,
)
from core.upsell.progress import Actor

PARTIAL_AVERAGE, FAILED_AVERAGE = 0.7, 0.3
GRACE_DAYS = 30
CHOICES = tuple(s for s in OutcomeStatus if s != OutcomeStatus.NO_DECISION)
BANDS = {
    OutcomeStatus.SUCCESS: (80, 100),
    OutcomeStatus.PARTIAL: (50, 79),
    OutcomeStatus.AT_RISK: (25, 49),
    OutcomeStatus.FAILED: (0, 24),
}
FACTOR = "upsell_realization"
ONE_PER_PLAN = ("measurement_id",)
ITEM = "outcome"  # a plan whose outcome to propose (job_item_failures.item_type)

SHRINK_KINDS = ("contraction", "upsell_contracted")
READY = text(
    """
    SELECT m.id, m.customer_id, up.name AS upsell,
           (SELECT x.due_on FROM checkpoints x WHERE x.measurement_id = m.id
             ORDER BY x.day DESC LIMIT 1) AS final_due,
           (SELECT coalesce(p.name, p.code) FROM upsell_products l JOIN products p
              ON p.code = l.product_code WHERE l.upsell_id = up.id LIMIT 1) AS product,
           coalesce((SELECT array_agg(e.kind || ': ' || e.title ORDER BY e.occurred_at)
                       FROM timeline_events e
                      WHERE e.customer_id = m.customer_id
                        AND e.occurred_at >= (m.started_on::timestamp AT TIME ZONE 'UTC')
                        AND (e.kind = 'churn' OR e.kind = ANY(:shrink) AND (e.related_id IS NULL
                             OR e.related_id IN (m.id, m.upsell_id)))),
                    '{}') AS shrink_events
      FROM upsell_measurements m
      JOIN upsells up ON up.id = m.upsell_id
     WHERE m.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM upsell_outcomes o WHERE o.measurement_id = m.id)
       AND (CAST(:ids AS uuid[]) IS NOT NULL AND m.id = ANY(CAST(:ids AS uuid[]))
            OR EXISTS (SELECT 1 FROM checkpoints c WHERE c.measurement_id = m.id
                        AND c.status IN ('triggered', 'overdue', 'reviewed')
                        AND c.day = (SELECT max(x.day) FROM checkpoints x
                                      WHERE x.measurement_id = m.id)))
     ORDER BY m.id
    """
)


def _average(metrics: list) -> float | None:
    known = [float(m.progress) for m in metrics if m.progress is not None]
    return sum(known) / len(known) if known else None


def _met(m) -> bool:
    return target_met(current=m.current, target=m.target, direction=m.direction)


def _gap(m) -> str:
    if m.current is None:
        return f"Gap — {m.name}: no value recorded (target {fmt(m.target)} {m.unit})."
    done = f", {float(m.progress):.0%} of the way" if m.progress is not None else ""
    current, target = fmt(m.current), fmt(m.target)
    return f"Gap — {m.name}: {current} against a target of {target} {m.unit}{done}."


def propose(
    metrics: list, *, shrink: list[str], product: str, now: datetime
) -> tuple[OutcomeStatus, list[str]]:
    """Return the proposed outcome and its reasons from the plan's metrics and signals."""
    if shrink:
        return OutcomeStatus.FAILED, shrink
    met = [m for m in metrics if _met(m)]
    average = _average(metrics)
    summary = f"{len(met)} of {len(metrics)} targets met" + (
        f"; average progress {average:.0%}." if average is not None else "; no progress data."
    )
    if metrics and len(met) == len(metrics):
        evidence = [
            f"Evidence — {m.name}: {fmt(m.current)} {m.unit} against a target of "
            f"{fmt(m.target)} (baseline {fmt(m.baseline)})."
            for m in metrics
        ]
        return OutcomeStatus.SUCCESS, [summary, *evidence]
    gaps = [_gap(m) for m in metrics if not _met(m)]
    if metrics and (2 * len(met) >= len(metrics) or (average or 0) >= PARTIAL_AVERAGE):
        return OutcomeStatus.PARTIAL, [summary, *gaps]
    if average is not None and average < FAILED_AVERAGE:
        below = f"Average progress is below {FAILED_AVERAGE:.0%} at the horizon."
        return OutcomeStatus.FAILED, [summary, below, *gaps]
    weakest = sorted(metrics, key=lambda m: float(m.progress) if m.progress is not None else -1)
    plan = reviews.suggest_actions(weakest[:2], products=product, now=now)
    return OutcomeStatus.AT_RISK, [summary, *gaps, *(f"Intervention — {a}" for a in plan)]


def propose_outcomes(
    *,
    session: Session,
    now: datetime | None = None,
    measurement_ids: list | None = None,
    shape: tuple[float, ...] | None = None,
) -> dict[str, int]:
    """Propose an outcome for every active plan whose final checkpoint has been triggered."""
    now = now or datetime.now(UTC)
    session.flush()
    params = {"ids": measurement_ids, "shrink": list(SHRINK_KINDS)}
    plans = session.execute(READY, params).all()
    if not plans:
        return {"outcomes_proposed": 0}
    points = [(p.id, p.id, asof.moment(p.final_due, now)) for p in plans]
    shots = asof.snapshots(session=session, points=points, shape=shape)
    if measurement_ids is not None:
        # A person deciding a plan now gets any error itself; nothing is recorded.
        rows = [_propose_one(plan, shots[plan.id], now) for plan in plans]
        insert_rows(session, Outcome.__table__, rows, skip_conflicts_on=ONE_PER_PLAN)
        return {"outcomes_proposed": len(rows)}
    rows = []
    with batch(session, ITEM) as outcomes:
        for plan in plans:
            # Proposing only computes; one plan that cannot be proposed stays alone, and the
            # proposals are then written a chunk at a time.
            with outcomes.item(plan.id, savepoint=False):
                rows.append(_propose_one(plan, shots[plan.id], now))
        proposed = bulk.insert(
            outcomes, Outcome.__table__, rows, key=_plan_of, skip_conflicts_on=ONE_PER_PLAN
        )
    return {"outcomes_proposed": proposed}


def _plan_of(row: dict) -> uuid.UUID:
    return row["measurement_id"]


def _propose_one(plan, shot: asof.Snapshot, now: datetime) -> dict:
    """Return the proposed outcome row of one plan from its data as of its final checkpoint."""
    status, reasons = propose(
        shot.metrics,
        shrink=[f"Contraction signal — {e}" for e in plan.shrink_events],
        product=plan.product or plan.upsell,
        now=shot.at,
    )
    return {
        "id": uuid.uuid4(),
        "measurement_id": plan.id,
        "proposed_status": status,
        "proposed_reasons": reasons,
        "decide_by": now.date() + timedelta(days=GRACE_DAYS),
    }


def realization_score(status: OutcomeStatus, average: float | None) -> Decimal:
    """Return the upsell_realization factor score: the outcome's band, placed by progress."""
    low, high = BANDS[status]
    place = 0.5 if average is None else min(1.0, max(0.0, average))
    return Decimal(str(round(low + (high - low) * place, 2)))


def confirm_outcome(
    *,
    session: Session,
    measurement_id: uuid.UUID,
    status: OutcomeStatus | str,
    actor: Actor,
    reason: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Confirm (or override, with a reason) a plan's outcome, complete it and update health."""
    now = now or datetime.now(UTC)
    plan = session.get(Measurement, measurement_id)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    outcome = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    undecided = outcome is not None and outcome.status == OutcomeStatus.NO_DECISION
    if plan.status != MeasurementStatus.ACTIVE and not undecided:
        raise Conflict(f"This plan is already {plan.status.value}.")
    try:
        status = OutcomeStatus(status)
    except ValueError as exc:
        raise Invalid(f"Unknown outcome {status!r}.") from exc
    if status not in CHOICES:
        raise Invalid("status: choose success, partial, at risk or failed.")
    if outcome is None:
        propose_outcomes(session=session, now=now, measurement_ids=[plan.id])  # early decisions
        outcome = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    reason = (reason or "").strip() or None
    overriding = status != outcome.proposed_status
    if overriding and reason is None:
        raise Invalid(
            f"The data suggests {outcome.proposed_status.value.replace('_', ' ')}; "
            "give a reason for recording a different outcome."
        )
    outcome.status, outcome.decided_by_id, outcome.decided_at = status, actor.id, now
    outcome.override_reason = reason if overriding else None
    final_due = session.scalar(
        select(Checkpoint.due_on)
        .where(Checkpoint.measurement_id == plan.id)
        .order_by(Checkpoint.day.desc())
        .limit(1)
    )
    point = (plan.id, plan.id, asof.moment(final_due, now))
    metrics = asof.snapshots(session=session, points=[point])[plan.id].metrics
    score = realization_score(status, _average(metrics))
    customer = session.get(Customer, plan.customer_id)
    current = customer.health_score
    if plan.health_before is None:
        plan.health_before = current
    upsell = session.get(Upsell, plan.upsell_id)
    details = {
        "measurement_id": str(plan.id),
        "upsell": upsell.name,
        "outcome": status.value,
        "average_progress": _average(metrics),
    }
    upsert_factor(
        session=session,
        customer_id=customer.id,
        factor=FACTOR,
        score=score,
        source="upsell_tracking",
        details=details,
        now=now,
    )
    refresh_scores(session=session, customer_ids=[customer.id], now=now)
    after = session.scalar(select(Customer.health_score).where(Customer.id == customer.id))
    plan.health_after = after
    plan.status, plan.evaluated_at = MeasurementStatus.COMPLETED, now
    label = status.value.replace("_", " ")
    session.add(
        TimelineEvent(
            customer_id=customer.id,
            occurred_at=now,
            kind="upsell_outcome",
            actor_user_id=actor.id,
            title=f"Upsell outcome for {upsell.name}: {label}",
            body=reason,
            related_type="measurement",
            related_id=plan.id,
        )
    )
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("Someone else changed this plan or customer first; try again.") from exc
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="upsell.outcome.confirm",
        entity_type="measurement",
        entity_id=plan.id,
        changes={
            "status": [outcome.proposed_status.value, status.value],
            "override_reason": outcome.override_reason,
            "realization_score": score,
            "health": [current, after],
        },
    )
    return outcome
