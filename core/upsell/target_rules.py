"""The rules of a success criterion's target: beyond the customer's baseline, and reachable.

A drafted target is the baseline at close moved by an uplift in the metric's direction:
`baseline × (1 + uplift)` when higher is better, `baseline × (1 − uplift)` when lower is better.

- **Uplift.** The product's success template gives it per segment (`"uplift": 0.2` or
  `{"smb": 0.3, "mid_market": 0.2, "enterprise": 0.15}` on a template criterion); a template
  without one gets DEFAULT_UPLIFT for the segment. Once at least MIN_HISTORY similar upsells (same
  product, same segment, outcome confirmed by a person) had this metric with a baseline, the
  median change they reached by day REACHED_DAY is blended in, the template's uplift counting as
  HISTORY_WEIGHT plans: `(n · history + 5 · template) ÷ (n + 5)`.
- **Floor.** At least MIN_UPLIFT beyond the baseline: a smaller change is noise, not a result.
- **Cap.** Within what is reachable: the industry benchmark's top quartile for the customer's
  industry and segment, and 100 for a percentage. When the cap is closer than the floor, no target
  is both meaningful and reachable: the criterion is left out with a note (a CSM may add it).
- **No baseline** (a manual criterion, no usage before close, or 0 for a higher-is-better
  metric): an absolute level instead, said so in the explanation: what similar upsells reached
  (blended with the template's level as above), else the benchmark median, else the template's
  `target`. A 0/1 "met" criterion keeps the template's fixed target.
- **Stated** criteria (the opportunity's words) keep their number unless it is already met at
  close; then the floor applies. They are not capped: the customer asked for them.
- **Set by a CSM**: any number strictly beyond the baseline (`check_target`); a target at or
  behind it is already met at close and refused.

Targets are rounded to three significant digits away from the baseline (never below the floor,
never beyond the cap). Every target carries its source and a plain-words explanation.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core.base import Direction, Segment
from core.errors import Invalid
from core.formatting import number
from core.repository.consent import SEGMENT_WORDS
from core.upsell.models import TargetSource

MIN_UPLIFT = Decimal("0.05")
MIN_HISTORY = 5
HISTORY_WEIGHT = 5
REACHED_DAY = 90
MAX_CUT = Decimal("0.9")  # a lower-is-better target never drops below a tenth of its baseline
PERCENT_CEILING = Decimal(100)
DEFAULT_UPLIFT = {
    Segment.SMB: Decimal("0.25"),
    Segment.MID_MARKET: Decimal("0.20"),
    Segment.ENTERPRISE: Decimal("0.15"),
}
MET_UNIT = "met"
PLACES = Decimal("0.0001")


class NoTarget(Exception):
    """No realistic target exists for a criterion; the message says why, in plain words."""


@dataclass(frozen=True)
class Target:
    """A criterion's target with its source and explanation."""

    value: Decimal
    source: TargetSource
    explanation: str


@dataclass(frozen=True)
class Peers:
    """What similar confirmed upsells reached by day REACHED_DAY on one metric."""

    uplift_plans: int = 0
    uplift: Decimal | None = None  # median change from their baseline, in the metric's direction
    level_plans: int = 0
    level: Decimal | None = None  # median value


@dataclass(frozen=True)
class Benchmark:
    """The industry benchmark of one metric for the customer's industry and segment."""

    industry: str
    segment: str
    median: Decimal
    top_quartile: Decimal


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _pct(share: Decimal) -> str:
    return number(share * 100, "%")


def segment_words(segment) -> str:
    """Return a segment as people say it: 'SMB', 'mid-market', 'enterprise'."""
    return SEGMENT_WORDS[Segment(segment)].split(" ", 1)[1]


def _peer_group(bench: Benchmark) -> str:
    return f"{segment_words(bench.segment)} {bench.industry} customers"


def exact(value) -> str:
    """Return a stored number exactly, without trailing zeros: 217.7000 → '217.7'."""
    return format(_dec(value).normalize(), "f")


def beyond(target, baseline, direction) -> bool:
    """Say whether `target` lies strictly beyond `baseline` in the metric's direction."""
    higher = Direction(direction) == Direction.HIGHER
    return _dec(target) > _dec(baseline) if higher else _dec(target) < _dec(baseline)


def check_target(*, name: str, target, baseline, direction) -> None:
    """Refuse a target already met at close: at or behind the baseline; Invalid naming it."""
    if target is None or baseline is None or beyond(target, baseline, direction):
        return
    higher = Direction(direction) == Direction.HIGHER
    word, kind = ("above", "higher") if higher else ("below", "lower")
    raise Invalid(
        f"target: must be {word} the baseline {exact(baseline)} for a {kind}-is-better metric "
        f"({name}: a target of {exact(target)} was already met at close)"
    )


def _round_away(value: Decimal, higher: bool) -> Decimal:
    """Round to three significant digits, away from the baseline (up when higher is better)."""
    if value <= 0:
        return Decimal(0)
    quantum = max(Decimal(1).scaleb(value.adjusted() - 2), PLACES)
    steps = (value / quantum).to_integral_value(rounding=ROUND_CEILING if higher else ROUND_FLOOR)
    return (steps * quantum).quantize(PLACES)


def template_uplift(raw: dict, segment) -> tuple[Decimal, bool]:
    """Return the template criterion's uplift for the segment and whether the template set it."""
    uplift = raw.get("uplift")
    if isinstance(uplift, dict):
        uplift = uplift.get(Segment(segment).value)
    if uplift is None:
        return DEFAULT_UPLIFT[Segment(segment)], False
    return _dec(uplift), True


def _cap(unit: str, higher: bool, bench: Benchmark | None) -> tuple[Decimal | None, str | None]:
    """Return the reachable limit and what it is, or (None, None) without one."""
    caps = []
    if bench is not None:
        caps.append((_dec(bench.top_quartile), f"the top quartile of {_peer_group(bench)}"))
    if higher and unit.strip() == "%":
        caps.append((PERCENT_CEILING, "100%, all there is"))
    if not caps:
        return None, None
    return (min if higher else max)(caps, key=lambda c: c[0])


def _relative(
    name: str, unit: str, higher: bool, baseline: Decimal, segment, raw: dict, bench, peers
) -> Target:
    template, set_by_template = template_uplift(raw, segment)
    uplift, source = template, TargetSource.TEMPLATE_UPLIFT
    seg = segment_words(segment)
    why = (
        f"the template's uplift for {seg} customers"
        if set_by_template
        else f"the default uplift for {seg} customers (the template sets none)"
    )
    if peers and peers.uplift_plans >= MIN_HISTORY and peers.uplift is not None:
        n = peers.uplift_plans
        uplift = (n * _dec(peers.uplift) + HISTORY_WEIGHT * template) / (n + HISTORY_WEIGHT)
        source = TargetSource.HISTORY
        why = (
            f"{n} similar upsells with {seg} customers reached a median "
            f"{_pct(_dec(peers.uplift))} by day {REACHED_DAY}, weighed {n} to {HISTORY_WEIGHT} "
            f"against the template's {_pct(template)}"
        )
    sign = 1 if higher else -1
    applied = max(uplift, MIN_UPLIFT) if higher else min(max(uplift, MIN_UPLIFT), MAX_CUT)
    floor = baseline * (1 + sign * MIN_UPLIFT)
    value = _round_away(baseline * (1 + sign * applied), higher)
    words = "raised by" if higher else "cut by"
    relative = " (relative)" if unit.strip() == "%" else ""
    explanation = f"{number(baseline, unit)} at close {words} {_pct(uplift)}{relative}: {why}."
    if uplift < MIN_UPLIFT:
        explanation += f" Raised to the smallest meaningful change, {_pct(MIN_UPLIFT)}."
    elif applied != uplift:
        explanation += f" Limited to a {_pct(MAX_CUT)} cut."
    limit, what = _cap(unit, higher, bench)
    if limit is not None and (limit < floor if higher else limit > floor):
        past = not beyond(limit, baseline, Direction.HIGHER if higher else Direction.LOWER)
        where = "at or beyond" if past else f"within {_pct(MIN_UPLIFT)} of"
        raise NoTarget(
            f"{name}: {number(baseline, unit)} at close is already {where} {what} "
            f"({number(limit, unit)}), so no target is both meaningful and reachable; left out "
            "(a CSM can add one by hand)."
        )
    if limit is not None and (value > limit if higher else value < limit):
        value = limit.quantize(PLACES)
        explanation += f" Capped at {number(limit, unit)}, {what}."
        source = TargetSource.BENCHMARK if bench is not None else source
    return Target(value, source, explanation)


def _level(name: str, unit: str, higher: bool, baseline, manual: bool, raw, bench, peers):
    """Return an absolute target when no relative one is possible, saying why."""
    level = raw.get("target")
    if baseline is None:
        why = "Measured by hand, so no baseline at close" if manual else "No baseline at close"
    else:
        why = (
            f"The baseline at close is {number(baseline, unit)}, so a relative uplift means nothing"
        )
    if peers and peers.level_plans >= MIN_HISTORY and peers.level is not None:
        n, reached = peers.level_plans, _dec(peers.level)
        value, source = reached, TargetSource.HISTORY
        detail = (
            f"{n} similar upsells reached a median {number(reached, unit)} by day {REACHED_DAY}"
        )
        if level is not None:
            value = (n * reached + HISTORY_WEIGHT * _dec(level)) / (n + HISTORY_WEIGHT)
            detail += f", weighed {n} to {HISTORY_WEIGHT} against the template's level"
            detail += f" {number(level, unit)}"
    elif bench is not None:
        value, source = _dec(bench.median), TargetSource.BENCHMARK
        detail = f"the median of {_peer_group(bench)}"
    elif level is not None:
        value, source = _dec(level), TargetSource.TEMPLATE_LEVEL
        detail = "the template's level"
    else:
        raise NoTarget(
            f"{name}: no baseline at close and no level in the template, the industry "
            "benchmarks or similar upsells; left out."
        )
    explanation = f"{why}; {detail}."
    value = _round_away(value, higher)
    limit, what = _cap(unit, higher, bench)
    if limit is not None and (value > limit if higher else value < limit):
        value = limit.quantize(PLACES)
        explanation += f" Capped at {number(limit, unit)}, {what}."
    if higher and value <= (baseline or 0):
        raise NoTarget(f"{name}: no level above {exact(baseline or 0)} to aim for; left out.")
    return Target(value, source, explanation)


def derive_target(
    *,
    name: str,
    unit: str,
    direction,
    baseline,
    segment,
    raw: dict,
    manual: bool = False,
    benchmark: Benchmark | None = None,
    peers: Peers | None = None,
) -> Target:
    """Return a template criterion's target for this customer; NoTarget when none is realistic."""
    higher = Direction(direction) == Direction.HIGHER
    if unit == MET_UNIT:
        return Target(
            _dec(raw.get("target") or 1), TargetSource.TEMPLATE_LEVEL, "Met or not: 1 when done."
        )
    baseline = None if baseline is None else _dec(baseline)
    if baseline is not None and baseline <= 0 and not higher:
        raise NoTarget(f"{name}: already at 0 at close, nothing left to cut; left out.")
    if baseline is not None and baseline > 0:
        return _relative(name, unit, higher, baseline, segment, raw, benchmark, peers)
    return _level(name, unit, higher, baseline, manual, raw, benchmark, peers)


def stated_target(*, name: str, unit: str, direction, baseline, target=None, factor=None) -> Target:
    """Return the target an opportunity stated, moved to the floor if met at close; NoTarget."""
    higher = Direction(direction) == Direction.HIGHER
    if unit == MET_UNIT:
        return Target(_dec(target or 1), TargetSource.STATED, "Stated on the opportunity.")
    base = None if baseline is None else _dec(baseline)
    if factor is not None:
        value = (base * _dec(factor)).quantize(PLACES)
        change = f"{'up' if factor > 1 else 'down'} {_pct(abs(_dec(factor) - 1))}"
        explanation = f"Stated on the opportunity: {number(base, unit)} at close, {change}."
    else:
        value, explanation = _dec(target), "Stated on the opportunity."
    if base is None or beyond(value, base, direction):
        return Target(value, TargetSource.STATED, explanation)
    floor = _round_away(base * (1 + (1 if higher else -1) * MIN_UPLIFT), higher)
    if base <= 0 or (higher and unit.strip() == "%" and floor > PERCENT_CEILING):
        raise NoTarget(
            f"{name}: the opportunity asked for {number(value, unit)}, already met at close "
            f"({number(base, unit)}); left out."
        )
    return Target(
        floor,
        TargetSource.STATED,
        f"The opportunity asked for {number(value, unit)}, already met at close "
        f"({number(base, unit)}); set {_pct(MIN_UPLIFT)} beyond the baseline instead.",
    )
