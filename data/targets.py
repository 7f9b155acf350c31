"""Baselines, targets and wording of metric goals, read off the generated observations.

Each goal's scenario (data.scenarios) shaped its series; the target is then placed where the
data makes that scenario true, with margins against the noise:

- shift / ramp: just under the lowest value since the lift arrived, so every day since holds it;
  above the value at the start (otherwise it would be met at start); a shift also clears every
  value of the 30 days before the step, so the crossing is clean;
- flap: at the 80th percentile of the level it settled on, so it keeps crossing and falling back;
- spike: between everything around the spike and the spike itself;
- met at start: just under the lowest value since a month before the start (it never falls back);
- open: a stretch beyond the start and everything in the last RECENT_DAYS days.

A goal whose data does not allow its scenario falls back to a stretch goal still open. Targets are
round numbers (two significant digits, three when two would blur the margin).
"""

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from data import phrases
from data.catalog import HIGHER, METRIC
from data.goals import Goal
from data.scenarios import day_of

# A stretch goal clears everything detection reads (its latest 60 observations), so an old
# outlier day never turns into a held spike nobody meant.
RECENT_DAYS = 65


def _nice(value: float, up: bool, digits: int = 2) -> float:
    """Round to `digits` significant digits, up or down."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return (math.ceil(value / step - 1e-9) if up else math.floor(value / step + 1e-9)) * step


def _dec(value: float, digits: int) -> Decimal:
    return Decimal(f"{value:.{digits}f}")


def _fmt(value: Decimal, unit: str) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return {"%": f"{text}%", "USD": f"${text}", "hours": f"{text} hours"}.get(unit, text)


def probe_windows(goals: list[Goal], as_of: date) -> list[tuple]:
    """Return what data.observations.probe needs per metric goal, reading no more than that.

    A goal met at start reads from a month before its start (it must never fall back); a goal
    with an event from 30 days before it; any other goal its last RECENT_DAYS days.
    """
    rows = []
    for g in goals:
        if not g.metric:
            continue
        event = settled = None
        scan = as_of - timedelta(days=RECENT_DAYS)
        if g.window:
            event, settled = day_of(g.window[0], as_of), day_of(g.window[1], as_of)
            scan = min(scan, event - timedelta(days=30))
        if g.scenario == "met_at_start":
            scan = g.start - timedelta(days=31)
        rows.append((g.account.id, g.metric, g.start, event, settled, scan, g.scenario == "flap"))
    return rows


def _beyond(a: float, b: float | None, up: bool) -> bool:
    """`a` lies strictly beyond `b` in the better direction (anything is beyond nothing)."""
    return b is None or (a > b if up else a < b)


def _choose(value: float, up: bool, ok) -> float | None:
    """Return the roundest target near `value` (rounded towards the data) that passes `ok`."""
    for digits in (2, 3):
        target = _nice(value, not up, digits)  # towards the data: down when higher is better
        if target > 0 and ok(target):
            return target
    return None


def _met(p, up: bool, clean: bool) -> float | None:
    """A target every value since the lift arrived holds, that the start did not meet."""
    floor = p.post_lo if up else p.post_hi
    if floor is None:
        return None
    start = [v * (1.03 if up else 0.97) for v in (p.level, p.at_start) if v is not None]
    before = (p.pre_hi * 1.02 if up else p.pre_lo * 0.98) if clean and p.pre_hi else None

    def ok(t: float) -> bool:
        return all(_beyond(t, s, up) for s in start) and _beyond(t, before, up)

    return _choose(floor * (0.99 if up else 1.01), up, ok)


def _flap(p, up: bool) -> float | None:
    settled = p.post_q80 if up else p.post_q20
    if settled is None or p.pre_hi is None:
        return None
    before = p.pre_hi * 1.02 if up else p.pre_lo * 0.98
    start = [v for v in (p.level, p.at_start) if v is not None]
    target = _nice(settled, up)
    fine = _beyond(target, before, up) and all(_beyond(target, s, up) for s in start)
    return target if fine else None


def _spike(p, up: bool) -> float | None:
    if p.mid_lo is None or p.pre_hi is None or p.post_hi is None:
        return None
    if up:
        target, peak = _nice(max(p.pre_hi, p.post_hi) * 1.12, True), p.mid_lo * 0.92
    else:
        target, peak = _nice(min(p.pre_lo, p.post_lo) * 0.88, False), p.mid_hi * 1.08
    start = [v for v in (p.level, p.at_start) if v is not None]
    fine = _beyond(peak, target, up) and all(_beyond(target, s, up) for s in start)
    return target if fine else None


def _at_start(p, up: bool) -> float | None:
    lowest = p.scan_lo if up else p.scan_hi
    if lowest is None:
        return None
    target = _nice(lowest * (0.995 if up else 1.005), not up)
    return target if target > 0 else None


def _stretch(rng: random.Random, p, key: str, up: bool) -> float:
    level = p.level if p.level is not None else p.at_start or 0.0
    high = max(v for v in (p.recent_hi, p.at_start, level) if v is not None)
    low = min(v for v in (p.recent_lo, p.at_start, level) if v is not None)
    stretch = min(0.35, METRIC[key].swing) * rng.uniform(0.35, 1.0)
    return _nice(high * (1 + stretch), True) if up else _nice(low * (1 - stretch), False)


def _target(rng: random.Random, goal: Goal, p) -> float:
    m = METRIC[goal.metric]
    up = m.direction == HIGHER
    rules = {
        "shift": lambda: _met(p, up, clean=True) or _met(p, up, clean=False),
        "ramp": lambda: _met(p, up, clean=False),
        "flap": lambda: _flap(p, up),
        "spike": lambda: _spike(p, up),
        "met_at_start": lambda: _at_start(p, up),
    }
    target = rules.get(goal.scenario, lambda: None)()
    if target is not None and m.hi is not None and target > m.hi * 0.96:
        # Nobody plans for a perfect score; a cap below what the data holds keeps it met.
        target = None if goal.scenario in ("spike", "flap") else _nice(m.hi * 0.96, False)
    if target is None:
        goal.scenario, goal.met = "open", False
        target = _stretch(rng, p, goal.metric, up)
        if m.hi is not None:
            target = min(target, _nice(m.hi * 0.96, False))
    return target


def set_targets(rng: random.Random, goals: list[Goal], probes) -> None:
    """Set baseline, target, cost and wording of metric goals.

    `probes` holds, per metric goal in order, what data.observations.probe read around it.
    """
    for goal, p in zip([g for g in goals if g.metric], probes, strict=True):
        m = METRIC[goal.metric]
        target = _target(rng, goal, p)
        level = p.level if p.level is not None else p.at_start or 0.0
        goal.baseline = _dec(level, m.decimals)
        goal.start_value = None if p.at_start is None else _dec(p.at_start, m.decimals)
        goal.target = _dec(target, max(m.decimals, 2))
        shown = _fmt(goal.target, m.unit)
        words = rng.choice(phrases.METRIC_GOALS[goal.metric])
        extra = {}
        if goal.type == "roi":
            goal.cost = _dec(_nice(target / rng.uniform(2.5, 5.0), False), 2)
            extra = {"cost": _fmt(goal.cost, "USD"), "multiple": f"{target / float(goal.cost):.1f}"}
        goal.name = words[0].format(target=shown)
        goal.description = words[1].format(target=shown, **extra)
