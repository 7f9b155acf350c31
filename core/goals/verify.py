"""Verification rules that decide, from recent observations, whether a metric goal is achieved.

This is the readable reference: detection decides the same rules in SQL
(`core.goals.verify_sql`), and a property test holds the two to the same verdicts.

The observations are read oldest first and cut into *excursions*: stretches of consecutive points
that meet the target. What the latest excursions look like decides:

- **level shift**: the series moves past the target and stays there for the sustain window:
  verified, celebrated;
- **lone spike**: a few points beyond the target that fall back, far outside the spread before
  them: held for a CSM to confirm;
- **flapping**: it crosses and falls back, again and again: nothing until one crossing holds for
  the sustain window, then one win;
- **met at start**: the baseline or the value at the start already meets the target: never a win;
  a sustained fall back re-arms the goal.

In detail:

- **sustain window**: the latest `consecutive` observations meet the target (default 3), or, in
  `window` mode, the average and the median of the last `window_days` days meet it (the latest
  observation too). How big the jump was never holds a sustained shift.
- **fresh**: the latest observation is at most `max_age_days` old (default 3), so stale data never
  announces a win.
- **lone spike**: an excursion shorter than `consecutive` points that has fallen back, whose median
  lies more than `spike_z` standard deviations (default 4) beyond the 30 points before it (the
  spread floored at 10% of their level; at least 7 points needed). An excursion still under way is
  never judged a spike: it may be the start of a level shift, so it waits.
- **met at start**: a goal whose stated baseline or whose value at the start (the latest
  observation in the month before `start_date`, else the first one after it) meets the target is
  marked met at start. It becomes active again once the metric falls short for `consecutive`
  observations in a row; a crossing after that is a real win.
- **once**: a goal has one achievement (a unique constraint).

Direction matters: higher-is-better goals meet the target with `value >= target`, lower-is-better
goals with `value <= target`; spreads, margins and improvements mirror.
"""

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.base import Direction
from core.formatting import plain
from core.goals.models import AchievementStatus, Confidence
from core.goals.results import improvement_pct

DEFAULTS = {
    "mode": "consecutive",
    "consecutive": 3,
    "window_days": 7,
    "max_age_days": 3,
    "spike_z": 4,
}
SPREAD_POINTS = 30  # points before an excursion that define "the recent spread"
MIN_SPREAD_POINTS = 7  # fewer than this: too little history to call anything a spike
SHOWN = 14  # observations kept in the evidence
# Where a win's baseline came from (evidence "baselineSource").
STATED, OBSERVED_AT_START, FELL_BACK_TO = (
    "stated",
    "observed at the start",
    "the level it fell back to",
)


@dataclass(frozen=True)
class Point:
    observed_at: datetime
    value: Decimal


@dataclass(frozen=True)
class Start:
    """Where a goal stood when it started, and what the stored state says about it."""

    baseline: Decimal | None = None  # stated on the goal, in the measure's terms
    observed: Decimal | None = None  # the value at the start (see the module docstring)
    # When the points do not reach back to the start, the stored state: True when the goal is
    # marked met at start, False when it was armed earlier. None: decide from the data.
    earlier: bool | None = None


@dataclass
class Verdict:
    """What the rules decided for one goal, with the evidence to store."""

    status: AchievementStatus | None  # None: not achieved (yet)
    reason: str
    confidence: Confidence | None = None
    achieved_at: datetime | None = None
    achieved_value: Decimal | None = None
    evidence: dict = field(default_factory=dict)
    met_at_start: bool = False
    baseline: Decimal | None = None
    improvement: Decimal | None = None


@dataclass
class _Scan:
    armed: bool  # a crossing now counts (the goal was not met at start, or fell back since)
    armed_from: int  # index of the first point after the goal was armed
    runs: list[range]  # excursions (after arming) that fell back, oldest first
    ongoing: range | None  # the excursion the latest point belongs to


def rules_for(overrides: dict | None) -> dict:
    """Merge a goal's verification overrides onto the defaults."""
    rules = dict(DEFAULTS)
    rules.update({k: v for k, v in (overrides or {}).items() if k in DEFAULTS})
    return rules


def meets(value: Decimal, target: Decimal, direction: Direction) -> bool:
    """Tell whether one value meets the target in the goal's direction."""
    return value >= target if direction == Direction.HIGHER else value <= target


def met_at_start(start: Start, target: Decimal, direction: Direction) -> bool:
    """Tell whether the stated baseline or the value at the start already meets the target."""
    known = [v for v in (start.baseline, start.observed) if v is not None]
    return any(meets(v, target, direction) for v in known)


def evaluate(
    points: list[Point],
    *,
    target: Decimal,
    direction: Direction,
    now: datetime,
    rules: dict,
    start: Start | None = None,
) -> Verdict:
    """Apply the rules to observations (any order) and return the verdict."""
    start = start or Start()
    if start.earlier is None:
        armed = not met_at_start(start, target, direction)
    else:
        armed = not start.earlier
    if not points:
        return Verdict(None, "no observations yet", met_at_start=not armed)
    series = sorted(points, key=lambda p: p.observed_at)
    scan = _scan(series, target, direction, armed, rules["consecutive"])
    evidence = _evidence(series, target, direction, start)
    if not scan.armed:
        met = [v for v in (start.observed, start.baseline) if v is not None]
        value = next((v for v in met if meets(v, target, direction)), None)
        shown = "" if value is None else f" ({plain(value)} at the start, target {plain(target)})"
        reason = (
            f"already met when the goal started{shown}; a crossing counts once it has fallen "
            f"short for {rules['consecutive']} observations in a row"
        )
        return Verdict(
            None, reason, evidence=evidence | {"pattern": "met_at_start"}, met_at_start=True
        )
    latest = series[-1]
    if now - latest.observed_at > timedelta(days=rules["max_age_days"]):
        return Verdict(None, f"latest observation is older than {rules['max_age_days']} days")
    if scan.ongoing is not None:
        return _crossing(series, scan, target, direction, now, rules, start, evidence)
    spike = _last_spike(series, scan.runs, direction, rules)
    if spike is not None:
        return _held(series, spike, target, direction, start, evidence)
    reason = "latest observation does not meet the target"
    if scan.runs:
        times = "once" if len(scan.runs) == 1 else f"{len(scan.runs)} times"
        reason += f" (it crossed {times} and fell back; a win needs it to hold)"
    return Verdict(None, reason, evidence=evidence | {"crossings": len(scan.runs)})


def _scan(series: list[Point], target, direction, armed: bool, needed: int) -> _Scan:
    runs, begin, short, armed_from = [], None, 0, 0
    for i, point in enumerate(series):
        if meets(point.value, target, direction):
            short = 0
            if armed and begin is None:
                begin = i
            continue
        if begin is not None:
            runs.append(range(begin, i))
            begin = None
        short += 1
        if not armed and short >= needed:
            armed, armed_from = True, i - short + 1
    ongoing = range(begin, len(series)) if begin is not None else None
    return _Scan(armed, armed_from, runs, ongoing)


def _crossing(series, scan: _Scan, target, direction, now, rules, start, evidence) -> Verdict:
    """Judge the excursion under way: a win once it has held for the sustain window."""
    run = series[scan.ongoing.start :]
    sustained, rule_text, proof = _sustained(
        series[scan.armed_from :], run, target, direction, now, rules
    )
    flapped = len(scan.runs)
    before = _before(series, scan.ongoing.start)
    evidence |= {
        "rule": rule_text,
        "qualifying": len(proof),
        "crossings": flapped + 1,
        "level": str(statistics.median(p.value for p in run)),
        "priorLevel": str(statistics.median(before)) if before else None,
        "heldDays": round((run[-1].observed_at - run[0].observed_at).total_seconds() / 86400, 1),
    }
    _mark(evidence, proof)
    if not sustained:
        return Verdict(None, f"target met but not yet sustained ({rule_text})", evidence=evidence)
    if flapped:
        rule_text = after_flapping(rule_text, flapped)
    evidence["pattern"] = "flapping_then_held" if flapped else "level_shift"
    evidence["rule"] = rule_text
    baseline = _against_baseline(series, scan.ongoing.start, target, direction, start, evidence)
    verdict = Verdict(
        AchievementStatus.VERIFIED,
        rule_text,
        _confidence(run, target, rules, flapped),
        run[0].observed_at,
        series[-1].value,
        evidence,
        **baseline,
    )
    return _improvement(verdict, direction)


def _held(series, spike: range, target, direction, start, evidence) -> Verdict:
    """Hold a lone spike that fell back for a CSM to confirm."""
    points = series[spike.start : spike.stop]
    best = max if direction == Direction.HIGHER else min
    peak = best(p.value for p in points)
    after = series[spike.stop].value
    z = z_score([p.value for p in points], _before(series, spike.start), direction)
    reason = spike_reason(len(points), peak, after, z)
    evidence |= {
        "rule": reason,
        "pattern": "lone_spike",
        "qualifying": 0,
        "spikeZ": round(z, 2),
        "priorMean": round(prior_mean(_before(series, spike.start)), 4),
    }
    if spike.start < len(series) - SHOWN:  # an older spike: show it with the days around it
        evidence["observations"] = _shown(series[max(0, spike.start - 3) :][:SHOWN])
    _mark(evidence, points)
    baseline = _against_baseline(series, spike.start, target, direction, start, evidence)
    verdict = Verdict(
        AchievementStatus.HELD,
        reason,
        Confidence.LOW,
        points[0].observed_at,
        peak,
        evidence,
        **baseline,
    )
    return _improvement(verdict, direction)


def _sustained(since_armed, run, target, direction, now, rules):
    """Return (held for the window?, the rule in words, the points that prove it)."""
    if rules["mode"] == "window":
        days = rules["window_days"]
        recent = [p for p in since_armed if p.observed_at >= now - timedelta(days=days)]
        if not recent:
            return False, f"no observations in the last {days} days", []
        average = sum(p.value for p in recent) / len(recent)
        median = statistics.median(p.value for p in recent)
        text = window_rule(days, average, median, target)
        held = meets(average, target, direction) and meets(median, target, direction)
        return held, text, recent
    needed = rules["consecutive"]
    return len(run) >= needed, consecutive_rule(len(run), needed), run


def consecutive_rule(held: int, needed) -> str:
    """Word the consecutive sustain rule: how many points held, how many it needs."""
    return f"{held} consecutive observations meet the target ({needed} needed)"


def window_rule(days, average: Decimal, median: Decimal, target: Decimal) -> str:
    """Word the window sustain rule: the recent average and median against the target."""
    return (
        f"{days}-day average {plain(average)} and median {plain(median)} vs target {plain(target)}"
    )


def after_flapping(rule_text: str, flapped: int) -> str:
    """Add to a sustain rule how often the metric crossed and fell back before it held."""
    times = "once" if flapped == 1 else f"{flapped} times"
    return f"{rule_text}, after crossing and falling back {times}"


def spike_reason(count: int, peak: Decimal, after: Decimal, z: float) -> str:
    """Word why a lone spike is held for a CSM."""
    shown = "1 observation" if count == 1 else f"{count} observations"
    return (
        f"a lone spike: {shown} beyond the target (up to {plain(peak)}) fell back to "
        f"{plain(after)}, a short jump far outside the usual range ({z:.0f}× the usual "
        "variation); a CSM must confirm"
    )


def _before(series: list[Point], index: int) -> list[Decimal]:
    return [p.value for p in series[max(0, index - SPREAD_POINTS) : index]]


def z_score(values: list[Decimal], before: list[Decimal], direction: Direction) -> float | None:
    """How many spreads the values' median lies beyond the level before them (None: too little)."""
    if len(before) < MIN_SPREAD_POINTS:
        return None
    prior = [float(v) for v in before]
    mean = prior_mean(before)
    # A quiet metric's spread is floored at 10% of its level: a 25% step is growth, not a spike.
    spread = max(statistics.pstdev(prior), abs(mean) * 0.10) or 1.0
    level = statistics.median(float(v) for v in values)
    return (level - mean if direction == Direction.HIGHER else mean - level) / spread


def prior_mean(before: list[Decimal]) -> float:
    """The mean level of the points before an excursion, as the spike rule reads it."""
    return statistics.fmean(float(v) for v in before)


def _last_spike(series, runs: list[range], direction, rules) -> range | None:
    """Return the latest excursion that was a lone spike, if any."""
    for run in reversed(runs):
        if len(run) >= rules["consecutive"]:
            continue
        values = [p.value for p in series[run.start : run.stop]]
        z = z_score(values, _before(series, run.start), direction)
        if z is not None and z > rules["spike_z"]:
            return run
    return None


def _confidence(run: list[Point], target: Decimal, rules: dict, flapped: int) -> Confidence:
    """High when it held long and clearly; flapping before it held caps it at medium."""
    margin = min(abs(float(p.value) - float(target)) / (abs(float(target)) or 1.0) for p in run)
    long_run = len(run) >= 2 * rules["consecutive"]
    if long_run and margin >= 0.02 and not flapped:
        return Confidence.HIGH
    if long_run or margin >= 0.02:
        return Confidence.MEDIUM
    return Confidence.LOW


def _against_baseline(series, index: int, target, direction, start: Start, evidence) -> dict:
    """Measure a win from its baseline: the stated one, else the value at the start.

    A goal that was met at start and fell back is measured from the level it fell back to (the
    median of the short points before this crossing), never from its start.
    """
    baseline, source = start.baseline, STATED
    if baseline is None:
        baseline, source = start.observed, OBSERVED_AT_START
    if met_at_start(start, target, direction):
        short = [v for v in _before(series, index) if not meets(v, target, direction)]
        if short:
            baseline, source = statistics.median(short), FELL_BACK_TO
    evidence["baseline"] = None if baseline is None else str(baseline)
    evidence["baselineSource"] = None if baseline is None else source
    return {"baseline": baseline}


def _improvement(verdict: Verdict, direction: Direction) -> Verdict:
    change = improvement_pct(verdict.baseline, verdict.achieved_value, direction)
    verdict.improvement = None if change is None else Decimal(str(change))
    return verdict


def _shown(points: list[Point]) -> list[dict]:
    """The observations kept in the evidence, newest first."""
    return [
        {"observedAt": p.observed_at.isoformat(), "value": str(p.value)} for p in reversed(points)
    ]


def _evidence(series: list[Point], target, direction, start: Start) -> dict:
    return {
        "target": str(target),
        "direction": direction.value,
        "observations": _shown(series[-SHOWN:]),
        "qualifying": 0,
        "startValue": None if start.observed is None else str(start.observed),
    }


def _mark(evidence: dict, proof: list[Point]) -> None:
    """Flag the shown observations that prove the verdict."""
    proving = {p.observed_at.isoformat() for p in proof}
    for shown in evidence["observations"]:
        shown["qualifying"] = shown["observedAt"] in proving
