"""Score metrics and plans against the expected adoption curve, and learn that curve from history.

Formulas (all progress values are fractions: 0 = baseline, 1 = target):

- Metric progress = (current − baseline) ÷ (target − baseline). The formula is direction-aware by
  itself when the target lies on the "better" side of the baseline (lower is better: baseline 8 h,
  target 4 h, current 6 h → (6 − 8) ÷ (4 − 8) = 0.5). It is clamped to [−0.5, 1.5] so one metric
  that collapsed or overshot cannot swamp the plan's average. A target that is not better than its
  baseline gives 1 when met and 0 when not. A missing baseline counts as 0 when higher is better
  (usage starts from nothing); for lower-is-better metrics there is no neutral start, so progress
  is left empty with a note (whether the target is met is still known from current vs target).
- Expected progress = curve(min(1, days since start ÷ horizon)), horizon = the plan's last
  checkpoint day (else `horizon_days`). The curve is linear until at least 10 completed plans
  have usage history; then it is learned: at each tenth of their horizons, the mean progress of
  those plans divided by their mean progress at the horizon (so it still ends at 1), made
  non-decreasing, 0 at the start. Past the horizon expected progress stays 1.
- Plan status uses the plan's **average** metric progress (the weakest metric is named in alerts
  and reviews instead; the weakest alone would flag most multi-metric plans as behind):
  exceeding when every target is met or average ≥ expected + 0.15; on track when average ≥
  expected − 0.10; at risk when ≥ expected − 0.25; else behind. A plan with every target met is
  therefore never behind, also after its horizon.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.upsell.models import ProgressStatus

PROGRESS_MIN, PROGRESS_MAX = -0.5, 1.5
EXCEEDING_MARGIN, ON_TRACK_MARGIN, AT_RISK_MARGIN = 0.15, 0.10, 0.25
LEARN_MIN_PLANS = 10
LEARN_MAX_PLANS = 500
STEPS = 10
LABELS = {
    "on_track": "on track",
    "at_risk": "at risk",
    "behind": "behind",
    "exceeding": "exceeding",
}
LINEAR: tuple[float, ...] = tuple(k / STEPS for k in range(STEPS + 1))

# The plan's horizon: its last checkpoint day, else the stored horizon (never below one day).
HORIZON = (
    "greatest(coalesce((SELECT max(c.day) FROM checkpoints c WHERE c.measurement_id = m.id), "
    "m.horizon_days), 1)"
)

HISTORY = text(
    f"""
    WITH done AS (
      SELECT m.id, m.customer_id, m.started_on, {HORIZON} AS horizon
        FROM upsell_measurements m
       WHERE m.status = 'completed'
       ORDER BY m.started_on DESC
       LIMIT :limit
    )
    SELECT d.id AS plan_id, k.k AS step, mm.direction, mm.baseline, mm.target, w.value
      FROM done d
      JOIN measurement_metrics mm ON mm.measurement_id = d.id
       AND mm.measurement = 'automatic' AND mm.metric_key IS NOT NULL
     CROSS JOIN generate_series(0, {STEPS}) AS k(k)
     CROSS JOIN LATERAL (
       SELECT avg(o.value) AS value
         FROM metric_observations o
        WHERE o.customer_id = d.customer_id AND o.metric_key = mm.metric_key
          AND o.observed_at < ((d.started_on + round(d.horizon * k.k / {STEPS}.0)::int + 1)
                               ::timestamp AT TIME ZONE 'UTC')
          AND o.observed_at >= ((d.started_on + round(d.horizon * k.k / {STEPS}.0)::int - 6)
                                ::timestamp AT TIME ZONE 'UTC')
     ) w
     WHERE w.value IS NOT NULL
    """
)


@dataclass(frozen=True)
class MetricScore:
    """Progress of one metric (None when it cannot be computed), whether its target is met."""

    progress: float | None
    met: bool
    note: str | None = None


@dataclass(frozen=True)
class PlanScore:
    """A plan's average progress, expected progress and resulting status."""

    actual: float | None
    expected: float
    status: ProgressStatus | None
    all_met: bool


DIRECTIONS = {d.value: d for d in Direction}


def direction_of(value: Direction | str) -> Direction:
    """Return `Direction(value)`; a known value is looked up (a pass asks for each metric)."""
    try:
        return DIRECTIONS[value]
    except (KeyError, TypeError):
        return Direction(value)


def target_met(*, current, target, direction: Direction | str) -> bool:
    """Return whether `current` reaches `target` in the metric's better direction."""
    if current is None or target is None:
        return False
    sign = 1 if direction_of(direction) == Direction.HIGHER else -1
    return (float(current) - float(target)) * sign >= 0


def score_metric(*, current, baseline, target, direction: Direction | str) -> MetricScore:
    """Return the clamped, direction-aware progress of one metric from baseline to target."""
    met = target_met(current=current, target=target, direction=direction)
    if current is None:
        return MetricScore(None, False, "no value yet")
    higher = direction_of(direction) == Direction.HIGHER
    if baseline is None and not higher:
        return MetricScore(None, met, "no baseline, so progress cannot be computed")
    start = 0.0 if baseline is None else float(baseline)
    sign = 1 if higher else -1
    needed = (float(target) - start) * sign
    if needed <= 0:
        return MetricScore(1.0 if met else 0.0, met, "target is not beyond the baseline")
    raw = (float(current) - start) * sign / needed
    return MetricScore(round(min(PROGRESS_MAX, max(PROGRESS_MIN, raw)), 4), met)


def expected_at(*, days: float, horizon: float, shape: tuple[float, ...] = LINEAR) -> float:
    """Return the progress expected `days` into a plan of `horizon` days on curve `shape`."""
    fraction = min(1.0, max(0.0, days / max(horizon, 1)))
    x = fraction * STEPS
    i = min(int(x), STEPS - 1)
    return round(shape[i] + (shape[i + 1] - shape[i]) * (x - i), 4)


def classify(*, actual: float | None, expected: float, all_met: bool) -> ProgressStatus | None:
    """Return the plan status from average and expected progress (None without any data)."""
    if all_met:
        return ProgressStatus.EXCEEDING
    if actual is None:
        return None
    gap = round(actual - expected, 6)  # rounding keeps 0.5 vs 0.6 − 0.1 from flapping
    if gap >= EXCEEDING_MARGIN:
        return ProgressStatus.EXCEEDING
    if gap >= -ON_TRACK_MARGIN:
        return ProgressStatus.ON_TRACK
    if gap >= -AT_RISK_MARGIN:
        return ProgressStatus.AT_RISK
    return ProgressStatus.BEHIND


def score_plan(
    *, metrics: list[MetricScore], days: float, horizon: float, shape: tuple[float, ...] = LINEAR
) -> PlanScore:
    """Combine metric scores into the plan's average, expected progress and status."""
    known = [m.progress for m in metrics if m.progress is not None]
    actual = round(sum(known) / len(known), 4) if known else None
    expected = expected_at(days=days, horizon=horizon, shape=shape)
    all_met = bool(metrics) and all(m.met for m in metrics)
    status = classify(actual=actual, expected=expected, all_met=all_met)
    return PlanScore(actual, expected, status, all_met)


def fit_curve(trajectories: Iterable[dict[int, float]]) -> tuple[float, ...] | None:
    """Fit the expected curve from plan trajectories {step: progress}; None if too few."""
    plans = [t for t in trajectories if t]
    if len(plans) < LEARN_MIN_PLANS:
        return None
    means: list[float | None] = []
    for k in range(STEPS + 1):
        values = [t[k] for t in plans if k in t]
        means.append(sum(values) / len(values) if values else None)
    end = means[STEPS]
    if end is None or end < 0.05:  # history that never moved says nothing about the shape
        return None
    shape, floor = [0.0], 0.0
    for value in means[1:STEPS]:
        floor = floor if value is None else min(1.0, max(floor, value / end))
        shape.append(round(floor, 4))
    return (*shape, 1.0)


def learned_curve(*, session: Session, limit: int = LEARN_MAX_PLANS) -> tuple[float, ...] | None:
    """Learn the expected curve from completed plans' usage history (None below 10 plans)."""
    by_plan: dict[uuid.UUID, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in session.execute(HISTORY, {"limit": limit}):
        score = score_metric(
            current=row.value, baseline=row.baseline, target=row.target, direction=row.direction
        )
        if score.progress is not None:
            by_plan[row.plan_id][row.step].append(score.progress)
    trajectories = ({k: sum(v) / len(v) for k, v in steps.items()} for steps in by_plan.values())
    return fit_curve(trajectories)


FOUR_PLACES = Decimal("0.0001")


def as_decimal(value: float | None) -> Decimal | None:
    """Return a float as a 4-place Decimal (the precision of Amount columns)."""
    return None if value is None else Decimal(str(round(value, 4))).quantize(FOUR_PLACES)


WHOLE, CENTS = Decimal(1), Decimal("0.01")


def fmt(value: Decimal | float | None) -> str:
    """Format a metric value for people: 64.5714 → 64.57, 1234.5 → 1235 ("—" when missing)."""
    if value is None:
        return "—"
    # A Decimal reads back from its text as itself: only other numbers go through text.
    number = value if type(value) is Decimal else Decimal(str(value))
    places = WHOLE if abs(number) >= 100 else CENTS
    return f"{number.quantize(places).normalize():f}"
