"""Say how a figure compares: against its target, and against the period before (named)."""

from datetime import date

from core.reporting.landing_schemas import Window


def pct(value: float | None) -> str:
    """Return a share as a whole percentage, or an em dash."""
    return "—" if value is None else f"{value:.0%}"


def window_words(window: Window) -> str:
    """Name a window by its days: 'Sep 1 – Nov 30, 2026'."""
    first, last = window.first, window.last
    start = f"{first:%b} {first.day}" + ("" if first.year == last.year else f", {first.year}")
    return f"{start} – {last:%b} {last.day}, {last.year}"


def points(gap: float) -> str:
    """Return a gap between shares in signed percentage points; under one point, to a tenth."""
    gap *= 100
    return f"{gap:+.1f}" if 0 < abs(gap) < 0.95 else f"{gap:+.0f}"


def target_words(target: float, higher_is_better: bool = True) -> str:
    """Return the target as people say it: 'target 80%+', 'target 100%', 'target under 10%'."""
    if not higher_is_better:
        return f"target under {target:.0%}"
    return f"target {target:.0%}" + ("" if target >= 1 else "+")


def vs_target(
    value: float | None, target: float, higher_is_better: bool = True
) -> tuple[str | None, str]:
    """Return the gap to the target in points ('+4 pts vs target 80%+') and its colour."""
    if value is None:
        return None, "gray"
    met = value >= target if higher_is_better else value < target
    gap = points(value - target)
    shown = "on" if gap in ("+0", "-0") else f"{gap} pts vs"
    return f"{shown} {target_words(target, higher_is_better)}", "green" if met else "red"


def arrow(value: float | None, target: float) -> str:
    """Return the delta arrow: it follows the number (up when above the target), not its colour."""
    if value is None or points(value - target) in ("+0", "-0"):
        return "off"
    return "up" if value > target else "down"


def vs_previous(current: float | None, previous: float | None, before: Window) -> str | None:
    """Return the change in points against the period before, naming it; None when unknown."""
    if current is None or previous is None:
        return None
    return f"{points(current - previous)} pts vs {window_words(before)}"


def count_vs_previous(current: int, previous: int, before: Window) -> str:
    """Return the change of a count against the period before, naming it."""
    return f"{current - previous:+,d} vs {previous:,} in {window_words(before)}"


def day_words(day: date) -> str:
    """Return a day as 'Nov 30, 2026'."""
    return f"{day:%b} {day.day}, {day.year}"
