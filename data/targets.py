"""Baselines, targets and wording of metric goals, read off the generated observations.

A goal meant to be met gets a target its data crossed after the start and has stayed past for
the last RECENT_DAYS days, so the detection job finds a win; any other goal gets a stretch target
the data has not reached yet.
"""

import math
import random
from decimal import Decimal

from data import phrases
from data.catalog import HIGHER, METRIC
from data.goals import Goal

RECENT_DAYS = 28


def _nice(value: float, up: bool) -> float:
    """Round to two significant digits, away from the data when `up` is as given."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return (math.ceil(value / step) if up else math.floor(value / step)) * step


def _dec(value: float, digits: int) -> Decimal:
    return Decimal(f"{value:.{digits}f}")


def _fmt(value: Decimal, unit: str) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return {"%": f"{text}%", "USD": f"${text}", "hours": f"{text} hours"}.get(unit, text)


def set_targets(rng: random.Random, goals: list[Goal], probes) -> None:
    """Set baseline, target, cost and wording of metric goals.

    `probes` holds, per metric goal in order, (level around the start day, min and max of the
    last RECENT_DAYS days).
    """
    for goal, (level, low, high) in zip([g for g in goals if g.metric], probes, strict=True):
        m = METRIC[goal.metric]
        up = m.direction == HIGHER
        if level is None:  # an outage around the start day
            level = (low if up else high) or 0.0
        low = level if low is None else low
        high = level if high is None else high
        target = None
        if goal.met and up and _nice(low * 0.99, False) > level * 1.03:
            target = _nice(low * 0.99, False)
        elif goal.met and not up and _nice(high * 1.01, True) < level * 0.97:
            target = _nice(high * 1.01, True)
        goal.met = target is not None
        stretch = min(0.35, m.swing) * rng.uniform(0.35, 1.0)  # how far a goal still open reaches
        if target is None and up:
            target = _nice(max(high, level) * (1 + stretch), True)
        elif target is None:
            target = _nice(min(low, level) * (1 - stretch), False)
        if m.hi is not None:  # nobody plans for a perfect score
            target = min(target, m.hi * 0.96)
        goal.baseline = _dec(level, m.decimals)
        goal.target = _dec(target, max(m.decimals, 2))
        shown = _fmt(goal.target, m.unit)
        words = rng.choice(phrases.METRIC_GOALS[goal.metric])
        extra = {}
        if goal.type == "roi":
            goal.cost = _dec(_nice(target / rng.uniform(2.5, 5.0), False), 2)
            extra = {"cost": _fmt(goal.cost, "USD"), "multiple": f"{target / float(goal.cost):.1f}"}
        goal.name = words[0].format(target=shown)
        goal.description = words[1].format(target=shown, **extra)
