"""Direction-aware arithmetic and wording for goal results."""

import re
from decimal import Decimal

from core.base import Direction
from core.formatting import number


def beyond_target_pct(achieved, target, direction: Direction) -> float | None:
    """How far the result went past the target, as a fraction (0.12 = 12% better than target)."""
    if achieved is None or target is None or Decimal(target) == 0:
        return None
    achieved, target = Decimal(achieved), Decimal(target)
    gap = achieved - target if direction == Direction.HIGHER else target - achieved
    return round(float(gap / abs(target)), 4)


def improvement_pct(baseline, achieved, direction: Direction) -> float | None:
    """How much better than the baseline the result is, as a fraction (direction-aware)."""
    if baseline is None or achieved is None or Decimal(baseline) == 0:
        return None
    baseline, achieved = Decimal(baseline), Decimal(achieved)
    gain = achieved - baseline if direction == Direction.HIGHER else baseline - achieved
    return round(float(gain / abs(baseline)), 4)


# Units whose values may fall below zero (NPS runs from -100 to 100). Every other unit counts,
# times, shares, money or multiples, where a negative value is impossible.
SIGNED_UNITS = ("score", "points", "pts", "nps")


def impossible_for_unit(value, unit: str | None) -> str | None:
    """Say why a value cannot be a measurement in this unit, or None when it can."""
    if Decimal(value) < 0 and (unit or "").strip().lower() not in SIGNED_UNITS:
        return f"cannot be negative for {unit.strip() if unit else 'this measure'}"
    return None


def noun(name: str) -> str:
    """Lower-case a name for mid-sentence use but keep acronyms: "Support CSAT" → "support CSAT"."""
    words = name.split()
    return " ".join(w if w[1:2].isupper() else w.lower() for w in words)


def describe_result(facts) -> str:
    """One sentence a CSM would say: what moved, from where, to where, against which target."""
    if facts.achieved is None:
        name = facts.goal_name.rstrip(".")
        if facts.goal_type in ("success_plan", "onboarding"):
            return f"completed every milestone of “{name}”"
        return f"achieved “{name}”, confirmed by the team"
    unit, money = facts.unit, facts.is_money
    subject = noun(facts.metric_name or facts.goal_name)
    now = number(facts.achieved, unit, money=money)
    target = number(facts.target, unit, money=money)
    if facts.baseline is not None:
        before = number(facts.baseline, unit, money=money)
        verb = "cut" if Direction(facts.direction) == Direction.LOWER else "raised"
        sentence = f"{verb} {subject} from {before} to {now} (target {target})"
    else:
        sentence = f"brought {subject} to {now} (target {target})"
    beyond = facts.beyond_target
    if beyond and beyond > 0.005:
        sentence += f", {beyond:.0%} beyond target"
    return sentence


def with_article(phrase: str) -> str:
    """Put "a" or "an" before `phrase` as its first word is spoken: "an 81% improvement"."""
    digits = re.match(r"\d[\d,]*", phrase)
    if digits:
        whole = digits.group().replace(",", "")
        # eight…, eighty…, eight hundred…; eleven and eighteen (thousand, million …)
        vowel = whole[0] == "8" or (len(whole) % 3 == 2 and whole[:2] in ("11", "18"))
    else:
        vowel = phrase[:1].lower() in tuple("aeiou")
    return f"{'an' if vowel else 'a'} {phrase}"


def value_summary(facts) -> str:
    """The value in the customer's terms: money when the metric is money, else the improvement."""
    if facts.is_money and facts.achieved is not None:
        return f"{number(facts.achieved, 'USD', money=True)} in {noun(facts.metric_name)}"
    if facts.unit == "× cost" and facts.achieved is not None:
        return f"a return of {float(facts.achieved):.1f}× the investment"
    if facts.improvement and facts.improvement >= 0.01:
        subject = noun(facts.metric_name or "the metric")
        return with_article(f"{facts.improvement:.0%} improvement in {subject}")
    if facts.goal_type in ("success_plan", "onboarding"):
        return "the full plan, with nothing left undone"
    return "an outcome the team confirmed"


# An ROI goal states its target either as money (compare the metric) or, with one of these
# units and a cost, as a multiple of the cost (compare value ÷ cost).
RATIO_UNITS = ("x", "×", "ratio", "roi", "× cost")


def is_ratio_goal(goal_type, cost, unit) -> bool:
    """Tell whether a goal is measured as value delivered ÷ cost."""
    kind = getattr(goal_type, "value", goal_type)
    return kind == "roi" and bool(cost) and (unit or "").strip().lower() in RATIO_UNITS
