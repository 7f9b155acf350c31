from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.base import Direction
from core.goals.models import AchievementStatus, Confidence
from core.goals.verify import Point, evaluate, rules_for

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
HIGHER, LOWER = Direction.HIGHER, Direction.LOWER


def series(values, *, end=NOW - timedelta(hours=6)):
    """Daily points, the last value observed at `end`."""
    n = len(values)
    return [Point(end - timedelta(days=n - 1 - i), Decimal(str(v))) for i, v in enumerate(values)]


def run(values, target, direction=HIGHER, **overrides):
    return evaluate(
        series(values),
        target=Decimal(str(target)),
        direction=direction,
        now=NOW,
        rules=rules_for(overrides),
    )


NOISY = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51]


def test_sustained_rise_is_verified_with_evidence():
    verdict = run([*NOISY, 54, 56, 57, 58], 55)
    assert verdict.status == AchievementStatus.VERIFIED
    assert verdict.achieved_value == Decimal("58")
    assert verdict.evidence["qualifying"] == 3
    assert "3 consecutive" in verdict.evidence["rule"]
    assert verdict.achieved_at == series([*NOISY, 54, 56, 57, 58])[-3].observed_at


def test_not_sustained_waits():
    verdict = run([*NOISY, 50, 56, 57], 55)
    assert verdict.status is None and "not yet sustained" in verdict.reason


def test_stale_data_never_announces():
    points = series([60] * 10, end=NOW - timedelta(days=5))
    verdict = evaluate(points, target=Decimal(55), direction=HIGHER, now=NOW, rules=rules_for({}))
    assert verdict.status is None and "older than 3 days" in verdict.reason


def test_lone_spike_is_held_for_confirmation():
    verdict = run([*NOISY, 50, 49, 51, 400], 55)
    assert verdict.status == AchievementStatus.HELD
    assert verdict.confidence == Confidence.LOW
    assert "standard deviations" in verdict.reason


def test_sustained_but_implausible_jump_is_held():
    verdict = run([*NOISY, 400, 410, 405], 55)
    assert verdict.status == AchievementStatus.HELD


def test_crossing_and_falling_back_is_not_achieved():
    verdict = run([*NOISY, 56, 57, 58, 52], 55)
    assert verdict.status is None and "does not meet" in verdict.reason


def test_lower_is_better_needs_values_at_or_below_target():
    falling = [6.1, 5.9, 6.0, 5.8, 6.2, 5.9, 6.0, 6.1, 5.7, 5.5, 5.0, 4.4, 4.2, 4.0, 3.9, 3.8]
    verdict = run(falling, 4, LOWER)
    assert verdict.status == AchievementStatus.VERIFIED
    assert run(falling, 4, HIGHER).status is None
    assert run([*falling[:-1], 4.1], 4, LOWER).status is None


def test_window_mode_uses_the_recent_average():
    rising = [*NOISY, 50, 51, 52, 53, 56, 57, 58]
    assert run(rising, 55, mode="window", window_days=7).status is None  # average still 53.9
    verdict = run([*NOISY, 56, 57, 55, 58, 56, 55, 57], 55, mode="window", window_days=7)
    assert verdict.status == AchievementStatus.VERIFIED
    assert "7-day average" in verdict.evidence["rule"]


def test_consecutive_count_is_configurable():
    assert run([*NOISY, 56], 55, consecutive=1).status == AchievementStatus.VERIFIED
    assert run([*NOISY, 56, 57, 58], 55, consecutive=5).status is None


def test_confidence_grows_with_margin_and_length():
    long_clear = run([*NOISY, 60, 61, 62, 63, 64, 65], 55)
    just_made = run([*NOISY, 55, 55, 55], 55)
    assert long_clear.confidence == Confidence.HIGH
    assert just_made.confidence == Confidence.LOW


def test_no_points():
    assert run([], 10).status is None
