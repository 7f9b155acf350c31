"""Build review summaries from plan data and record the reviews CSMs hold at checkpoints.

A summary lists each metric against its target and expected progress, its trend over the last
30 days (value then vs the 7-day average 30 days earlier; ±5 % of the baseline-to-target distance
counts as flat), the risks the data shows and actions suggested from the metric kinds at risk.
The metrics come as of the checkpoint's day (`core/upsell/asof.py`), and so does "now" below.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.service import record_audit
from core.base import Direction
from core.customers.models import MetricKind, TimelineEvent
from core.errors import Invalid, NotFound
from core.upsell.curve import LABELS, ON_TRACK_MARGIN, direction_of, fmt, target_met
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementStatus,
    ProgressStatus,
    Review,
)
from core.upsell.progress import Actor

TREND_DAYS = 30
STALE_DAYS = 30
FLAT_BAND = 0.05
MAX_ACTIONS = 5
TITLES = {30: "30-day check", 60: "60-day adoption review", 90: "90-day value assessment"}

ACTIONS = {
    MetricKind.USAGE: "Run an enablement session with the teams not yet using {products} "
    "to lift {metric}.",
    MetricKind.ADOPTION: "Run an enablement session with the teams not yet using {products} "
    "to lift {metric}.",
    MetricKind.ROI: "Walk through the {metric} workflow with the customer's champion to find "
    "what blocks the expected return.",
    MetricKind.OUTCOME: "Walk through the {metric} workflow with the customer's champion to find "
    "what blocks it.",
    MetricKind.SATISFACTION: "Ask the users behind {metric} what gets in their way and fix the "
    "top issue.",
}


def checkpoint_title(day: int) -> str:
    """Return the name of the checkpoint held `day` days into a plan."""
    return TITLES.get(day, f"{day}-day review")


def trend(m) -> dict:
    """Return the metric's 30-day trend: from, to, change and improving/worsening/flat/unknown."""
    if m.month_ago is None or m.current is None:
        return {"from": None, "to": fmt(m.current), "direction": "unknown"}
    change = float(m.current) - float(m.month_ago)
    sign = 1 if direction_of(m.direction) == Direction.HIGHER else -1
    span = abs(float(m.target) - float(m.baseline)) if m.baseline is not None else 0
    scale = span or abs(float(m.month_ago)) or 1.0
    relative = change * sign / scale
    direction = "flat"
    if relative >= FLAT_BAND:
        direction = "improving"
    elif relative <= -FLAT_BAND:
        direction = "worsening"
    return {
        "from": fmt(m.month_ago),
        "to": fmt(m.current),
        "change": fmt(round(change, 4)),
        "direction": direction,
    }


def _lagging(m) -> bool:
    return (
        m.progress is not None
        and m.expected is not None
        and (float(m.progress) < float(m.expected) - ON_TRACK_MARGIN)
    )


def _stale_days(m, now: datetime) -> int | None:
    if m.mode != "manual" or m.current_at is None:
        return None
    days = (now - m.current_at).days
    return days if days > STALE_DAYS else None


def risks(metrics: list, *, status: str | None, now: datetime) -> list[str]:
    """List what the data says could stop the plan reaching its targets."""
    return _risks(metrics, [trend(m) for m in metrics], status=status, now=now)


def _risks(metrics: list, trends: list[dict], *, status: str | None, now: datetime) -> list[str]:
    found = []
    if status in ("at_risk", "behind"):
        found.append(f"The plan is {LABELS[status]} against its expected adoption curve.")
    for m, moved in zip(metrics, trends, strict=True):
        if m.current is None:
            found.append(
                f"{m.name} has no value yet."
                if m.current_at is None
                else f"{m.name} has no recent value (last recorded {m.current_at:%Y-%m-%d})."
            )
            continue
        if _lagging(m):
            found.append(
                f"{m.name} is {float(m.progress):.0%} of the way to target; "
                f"{float(m.expected):.0%} was expected by now."
            )
        if moved["direction"] == "worsening":
            found.append(f"{m.name} worsened over the last {TREND_DAYS} days.")
        if (days := _stale_days(m, now)) is not None:
            found.append(f"{m.name} was last recorded {days} days ago.")
    return found


def suggest_actions(metrics: list, *, products: str, now: datetime) -> list[str]:
    """Suggest next steps for the metrics at risk (the weakest first), or for a plan on track."""
    return _actions(metrics, [trend(m) for m in metrics], products=products, now=now)


def _actions(metrics: list, trends: list[dict], *, products: str, now: datetime) -> list[str]:
    actions: list[str] = []
    weak = [
        m
        for m, moved in zip(metrics, trends, strict=True)
        if m.current is None
        or _lagging(m)
        or moved["direction"] == "worsening"
        or _stale_days(m, now) is not None
    ]
    weak.sort(key=lambda m: float(m.progress) if m.progress is not None else -1.0)
    for m in weak:
        if m.current is None and m.mode == "automatic":
            action = f"Check that usage data for {m.name} is arriving."
        elif m.mode == "manual" and (m.current is None or _stale_days(m, now) is not None):
            action = f"Ask the customer for a current value of {m.name}."
        else:
            action = ACTIONS[MetricKind(m.type)].format(metric=m.name, products=products)
        if action not in actions:
            actions.append(action)
    if not actions:
        met = bool(metrics) and all(
            target_met(current=m.current, target=m.target, direction=m.direction) for m in metrics
        )
        actions.append(
            "Document the result and agree on the next goal with the customer."
            if met
            else "Keep the current cadence and confirm the next checkpoint with the customer."
        )
    return actions[:MAX_ACTIONS]


def build_summary(
    *,
    day: int,
    metrics: list,
    status: str | None,
    days: int,
    horizon: int,
    products: str,
    now: datetime,
) -> dict:
    """Return the review summary stored on a checkpoint: metrics, trend, risks and actions."""
    trends = [trend(m) for m in metrics]  # read by the rows, the risks and the actions
    known = [float(m.progress) for m in metrics if m.progress is not None]
    expected = next((float(m.expected) for m in metrics if m.expected is not None), None)
    rows = [
        {
            "name": m.name,
            "unit": m.unit,
            "direction": m.direction,
            "baseline": fmt(m.baseline),
            "target": fmt(m.target),
            "current": fmt(m.current),
            "progress": None if m.progress is None else round(float(m.progress), 4),
            "expected": None if m.expected is None else round(float(m.expected), 4),
            "met": target_met(current=m.current, target=m.target, direction=m.direction),
            "trend": moved,
        }
        for m, moved in zip(metrics, trends, strict=True)
    ]
    notes = [
        f"{m.name}: no baseline, so progress is not computed."
        for m in metrics
        if m.baseline is None and Direction(m.direction) == Direction.LOWER
    ]
    return {
        "title": checkpoint_title(day),
        "day": day,
        "as_of": now.date().isoformat(),
        "status": status,
        "days_since_start": days,
        "horizon": horizon,
        "average_progress": round(sum(known) / len(known), 4) if known else None,
        "expected_progress": expected,
        "metrics": rows,
        "risks": _risks(metrics, trends, status=status, now=now),
        "actions": _actions(metrics, trends, products=products, now=now),
        "notes": notes,
    }


def record_review(
    *,
    session: Session,
    measurement_id: uuid.UUID,
    assessment: ProgressStatus | str,
    findings: str,
    actor: Actor,
    checkpoint_day: int | None = None,
    next_steps: str | None = None,
) -> Review:
    """Record a CSM's review of a plan; the checkpoint of `checkpoint_day` becomes reviewed."""
    plan = session.get(Measurement, measurement_id)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    if plan.status == MeasurementStatus.CANCELLED:
        raise Invalid("This plan was cancelled; it takes no more reviews.")
    if assessment is None:
        raise Invalid("assessment: choose how the plan is doing (on track, at risk, behind …).")
    try:
        assessment = ProgressStatus(assessment)
    except ValueError as exc:
        raise Invalid(f"Unknown assessment {assessment!r}.") from exc
    if not (findings := (findings or "").strip()):
        raise Invalid("Write down what the review found; findings are required.")
    next_steps = (next_steps or "").strip() or None
    checkpoint = None
    if checkpoint_day is not None:
        checkpoint = session.scalar(
            select(Checkpoint).where(
                Checkpoint.measurement_id == plan.id, Checkpoint.day == checkpoint_day
            )
        )
        if checkpoint is None:
            raise Invalid(f"This plan has no day-{checkpoint_day} checkpoint.")
    review = Review(
        id=uuid.uuid4(),
        measurement_id=plan.id,
        reviewer_id=actor.id,
        assessment=assessment,
        checkpoint_id=checkpoint.id if checkpoint else None,
        findings=findings,
        next_steps=next_steps,
        reviewed_at=datetime.now(UTC),
    )
    session.add(review)
    before = checkpoint.status.value if checkpoint else None
    if checkpoint is not None:
        checkpoint.status = CheckpointStatus.REVIEWED
    title = checkpoint_title(checkpoint_day) if checkpoint_day is not None else "Plan review"
    body = findings + (f"\n\nNext steps: {next_steps}" if next_steps else "")
    session.add(
        TimelineEvent(
            customer_id=plan.customer_id,
            kind="upsell_review",
            actor_user_id=actor.id,
            title=f"{title} recorded: {LABELS[assessment.value]}",
            body=body,
            related_type="upsell_review",
            related_id=review.id,
        )
    )
    session.flush()
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="upsell.review",
        entity_type="measurement",
        entity_id=plan.id,
        changes={
            "review_id": review.id,
            "checkpoint_day": checkpoint_day,
            "checkpoint_status": [before, "reviewed"] if checkpoint else None,
            "assessment": assessment.value,
        },
    )
    return review
