"""Verification rules that decide, from recent observations, whether a metric goal is achieved.

A goal is achieved only when the data proves it:

- **sustained**: the latest `consecutive` observations all meet the target (default 3), or, in
  `window` mode, the average of the last `window_days` days meets it;
- **fresh**: the latest observation is at most `max_age_days` old (default 3), so stale data
  never announces a win;
- **not a spike**: when the qualifying values sit more than `spike_z` standard deviations
  (default 4) beyond the metric's recent spread (floored at 10% of its level), the win is held
  for a CSM to confirm instead of being celebrated. A lone observation over the target that is
  not sustained is held the same way when it is such an outlier, and otherwise waits for data;
- **once**: a goal has at most one achievement (a unique constraint), so a metric that crosses,
  falls back and crosses again is never announced twice.

Direction matters: higher-is-better goals meet the target with `value >= target`,
lower-is-better goals with `value <= target`.
"""

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.base import Direction
from core.goals.models import AchievementStatus, Confidence

DEFAULTS = {
    "mode": "consecutive",
    "consecutive": 3,
    "window_days": 7,
    "max_age_days": 3,
    "spike_z": 4,
}


@dataclass(frozen=True)
class Point:
    observed_at: datetime
    value: Decimal


@dataclass
class Verdict:
    """What the rules decided for one goal, with the evidence to store."""

    status: AchievementStatus | None  # None: not achieved (yet)
    reason: str
    confidence: Confidence | None = None
    achieved_at: datetime | None = None
    achieved_value: Decimal | None = None
    evidence: dict = field(default_factory=dict)


def rules_for(overrides: dict | None) -> dict:
    """Merge a goal's verification overrides onto the defaults."""
    rules = dict(DEFAULTS)
    rules.update({k: v for k, v in (overrides or {}).items() if k in DEFAULTS})
    return rules


def meets(value: Decimal, target: Decimal, direction: Direction) -> bool:
    """Tell whether one value meets the target in the goal's direction."""
    return value >= target if direction == Direction.HIGHER else value <= target


def evaluate(
    points: list[Point], *, target: Decimal, direction: Direction, now: datetime, rules: dict
) -> Verdict:
    """Apply the rules to observations (any order) and return the verdict."""
    if not points:
        return Verdict(None, "no observations yet")
    points = sorted(points, key=lambda p: p.observed_at, reverse=True)
    latest = points[0]
    if now - latest.observed_at > timedelta(days=rules["max_age_days"]):
        return Verdict(None, f"latest observation is older than {rules['max_age_days']} days")
    run = _leading_run(points, target, direction)
    before = [float(p.value) for p in points[len(run) :]][:30]
    if not run:
        return Verdict(None, "latest observation does not meet the target")

    sustained, rule_text, qualifying = _sustained(points, run, target, direction, now, rules)
    z = _spike_z(qualifying, before, direction)
    evidence = {
        "rule": rule_text,
        "target": str(target),
        "direction": direction.value,
        "observations": [
            {"observedAt": p.observed_at.isoformat(), "value": str(p.value)} for p in points[:14]
        ],
        "qualifying": len(qualifying),
        "priorMean": round(statistics.fmean(before), 4) if before else None,
        "spikeZ": round(z, 2) if z is not None else None,
    }
    outlier = z is not None and z > rules["spike_z"]
    if outlier:
        return Verdict(
            AchievementStatus.HELD,
            f"values jump {z:.1f} standard deviations beyond the recent spread; a CSM must confirm",
            Confidence.LOW,
            qualifying[-1].observed_at,
            latest.value,
            evidence,
        )
    if not sustained:
        return Verdict(None, f"target met but not yet sustained ({rule_text})", evidence=evidence)
    confidence = _confidence(qualifying, target, direction, rules)
    return Verdict(
        AchievementStatus.VERIFIED,
        rule_text,
        confidence,
        qualifying[-1].observed_at,
        latest.value,
        evidence,
    )


def _leading_run(points: list[Point], target: Decimal, direction: Direction) -> list[Point]:
    run = []
    for point in points:
        if not meets(point.value, target, direction):
            break
        run.append(point)
    return run


def _sustained(points, run, target, direction, now, rules):
    if rules["mode"] == "window":
        days = rules["window_days"]
        recent = [p for p in points if p.observed_at >= now - timedelta(days=days)]
        if not recent:
            return False, f"no observations in the last {days} days", run
        average = sum(p.value for p in recent) / len(recent)
        text = f"{days}-day average {average:.2f} vs target {target}"
        return meets(average, target, direction), text, recent
    needed = rules["consecutive"]
    text = f"{needed} consecutive observations meet the target ({len(run)} do)"
    return len(run) >= needed, text, run


def _spike_z(qualifying: list[Point], before: list[float], direction: Direction) -> float | None:
    if len(before) < 7:
        return None
    mean = statistics.fmean(before)
    # A quiet metric's spread is floored at 10% of its level: a 25% step is growth, not a spike.
    spread = max(statistics.pstdev(before), abs(mean) * 0.10) or 1.0
    level = statistics.median(float(p.value) for p in qualifying)
    distance = level - mean if direction == Direction.HIGHER else mean - level
    return distance / spread


def _confidence(qualifying, target, direction, rules) -> Confidence:
    margin = min(
        abs(float(p.value) - float(target)) / (abs(float(target)) or 1.0) for p in qualifying
    )
    long_run = len(qualifying) >= 2 * rules["consecutive"]
    if long_run and margin >= 0.02:
        return Confidence.HIGH
    if long_run or margin >= 0.02:
        return Confidence.MEDIUM
    return Confidence.LOW
