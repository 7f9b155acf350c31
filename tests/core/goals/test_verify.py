from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.base import Direction
from core.goals.models import AchievementStatus, Confidence
from core.goals.verify import Point, Start, evaluate, rules_for

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
HIGHER, LOWER = Direction.HIGHER, Direction.LOWER


def series(values, *, end=NOW - timedelta(hours=6)):
    """Daily points, the last value observed at `end`."""
    n = len(values)
    return [Point(end - timedelta(days=n - 1 - i), Decimal(str(v))) for i, v in enumerate(values)]


def run(values, target, direction=HIGHER, start=None, **overrides):
    return evaluate(
        series(values),
        target=Decimal(str(target)),
        direction=direction,
        now=NOW,
        rules=rules_for(overrides),
        start=start,
    )


NOISY = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51]
# ~150 with a realistic wobble, then ~300 for 30 days (target 200)
LOW_LEVEL = [150, 148, 153, 151, 147, 152, 149, 150, 154, 146, 151, 150, 148, 152]
HIGH_LEVEL = [300 + (-1) ** i * (i % 7) for i in range(30)]


def test_sustained_rise_is_verified_with_evidence():
    verdict = run([*NOISY, 54, 56, 57, 58], 55)
    assert verdict.status == AchievementStatus.VERIFIED
    assert verdict.achieved_value == Decimal("58")
    assert verdict.evidence["qualifying"] == 3
    assert "3 consecutive" in verdict.evidence["rule"]
    assert verdict.evidence["pattern"] == "level_shift"
    assert verdict.achieved_at == series([*NOISY, 54, 56, 57, 58])[-3].observed_at


def test_level_shift_is_celebrated_however_big_the_jump():
    verdict = run([*LOW_LEVEL, *HIGH_LEVEL], 200)
    assert verdict.status == AchievementStatus.VERIFIED
    assert verdict.confidence == Confidence.HIGH  # held 30 days, far clear of the target
    assert verdict.evidence["pattern"] == "level_shift"
    assert verdict.evidence["heldDays"] == 29.0
    assert "usual variation" not in verdict.reason
    # the day it crossed, not the day the app noticed
    assert verdict.achieved_at == series([*LOW_LEVEL, *HIGH_LEVEL])[len(LOW_LEVEL)].observed_at


def test_a_jump_still_under_way_waits_instead_of_being_held():
    verdict = run([*LOW_LEVEL, 300, 305], 200)
    assert verdict.status is None and "not yet sustained" in verdict.reason


def test_lower_is_better_level_shift_is_celebrated():
    falling = [9.1, 8.8, 9.2, 9.0, 8.9, 9.3, 9.0, 8.7, 9.1, 9.0, 2.1, 1.9, 2.0, 2.2, 1.8, 2.0, 2.1]
    verdict = run(falling, 4, LOWER, start=Start(baseline=Decimal(9)))
    assert verdict.status == AchievementStatus.VERIFIED
    assert verdict.evidence["pattern"] == "level_shift"
    assert verdict.confidence == Confidence.HIGH
    assert verdict.baseline == 9 and verdict.improvement == Decimal("0.7667")  # 9 → 2.1 h
    assert run(falling, 4, HIGHER).status is None


def test_lone_spike_that_falls_back_is_held():
    verdict = run([*NOISY, 50, 49, 51, 400, 50], 55)
    assert verdict.status == AchievementStatus.HELD
    assert verdict.confidence == Confidence.LOW
    assert "lone spike" in verdict.reason and "× the usual variation" in verdict.reason
    assert verdict.achieved_value == 400
    assert verdict.evidence["pattern"] == "lone_spike"
    assert [o["qualifying"] for o in verdict.evidence["observations"][:3]] == [False, True, False]


def test_lower_is_better_lone_spike_is_held():
    verdict = run([9.1, 8.8, 9.2, 9.0, 8.9, 9.3, 9.0, 8.7, 1.0, 9.1], 4, LOWER)
    assert verdict.status == AchievementStatus.HELD and verdict.achieved_value == 1


def test_a_small_crossing_that_falls_back_is_not_a_spike():
    verdict = run([*NOISY, 56, 57, 58, 52], 55)
    assert verdict.status is None and "does not meet" in verdict.reason
    verdict = run([*NOISY, 56, 50], 55)
    assert verdict.status is None and "crossed once and fell back" in verdict.reason


def test_too_little_history_never_calls_a_spike():
    assert run([50, 51, 49, 400, 50], 55).status is None


def test_flapping_waits_until_one_crossing_holds_then_counts_once():
    flapping = [*NOISY, 56, 50, 57, 58, 49, 56, 51]
    waiting = run(flapping, 55)
    assert waiting.status is None and "crossed 3 times" in waiting.reason
    verdict = run([*flapping, 56, 57, 58], 55)
    assert verdict.status == AchievementStatus.VERIFIED
    assert verdict.evidence["pattern"] == "flapping_then_held"
    assert verdict.evidence["crossings"] == 4
    assert "after crossing and falling back 3 times" in verdict.reason
    assert verdict.confidence != Confidence.HIGH  # it flapped before it held
    long_flap = run([*flapping, 60, 61, 62, 63, 64, 65], 55)
    assert long_flap.confidence == Confidence.MEDIUM


def test_stale_data_never_announces():
    points = series([60] * 10, end=NOW - timedelta(days=5))
    verdict = evaluate(points, target=Decimal(55), direction=HIGHER, now=NOW, rules=rules_for({}))
    assert verdict.status is None and "older than 3 days" in verdict.reason


def test_met_at_start_is_not_a_win():
    csat = [4.9, 4.92, 4.95, 4.9, 4.93, 4.91]
    by_start = run(csat, 4.8, start=Start(observed=Decimal("4.91")))
    assert by_start.status is None and by_start.met_at_start
    assert "already met when the goal started (4.91 at the start, target 4.8)" in by_start.reason
    by_baseline = run(csat, 4.8, start=Start(baseline=Decimal("4.91")))
    assert by_baseline.status is None and by_baseline.met_at_start
    # a dip that does not hold (two points) does not re-arm the goal
    brief_dip = run([*csat, 4.7, 4.6, 4.9, 4.9, 4.9], 4.8, start=Start(observed=Decimal("4.91")))
    assert brief_dip.status is None and brief_dip.met_at_start
    below_at_start = run([4.7, 4.9, 4.9, 4.9], 4.8, start=Start(observed=Decimal("4.7")))
    assert below_at_start.status == AchievementStatus.VERIFIED and not below_at_start.met_at_start


def test_met_at_start_that_falls_back_and_crosses_again_is_a_win_from_the_dip():
    values = [4.9, 4.92, 4.95, 4.6, 4.5, 4.55, 4.6, 4.85, 4.9, 4.88]
    verdict = run(values, 4.8, start=Start(observed=Decimal("4.91")))
    assert verdict.status == AchievementStatus.VERIFIED and not verdict.met_at_start
    assert verdict.baseline == Decimal("4.575")  # the level it fell back to, not 4.91
    assert verdict.evidence["baselineSource"] == "the level it fell back to"
    assert verdict.improvement > 0


def test_stored_state_decides_when_the_start_is_out_of_reach():
    values = [4.9, 4.92, 4.95, 4.9]
    marked = Start(observed=Decimal("4.91"), earlier=True)
    assert run(values, 4.8, start=marked).met_at_start
    armed = Start(observed=Decimal("4.91"), earlier=False)  # it fell back in an earlier pass
    assert run([4.6, 4.5, *values], 4.8, start=armed).status == AchievementStatus.VERIFIED


def test_baseline_and_improvement_are_recorded():
    verdict = run([*NOISY, 60, 61, 62], 55, start=Start(observed=Decimal(50)))
    assert verdict.baseline == 50 and verdict.improvement == Decimal("0.24")
    assert verdict.evidence["baselineSource"] == "observed at the start"
    stated = run([*NOISY, 60, 61, 62], 55, start=Start(baseline=Decimal(40), observed=Decimal(50)))
    assert stated.baseline == 40 and stated.evidence["baselineSource"] == "stated"


def test_window_mode_uses_the_recent_average_and_median():
    rising = [*NOISY, 50, 51, 52, 53, 56, 57, 58]
    assert run(rising, 55, mode="window", window_days=7).status is None  # average still 53.9
    verdict = run([*NOISY, 56, 57, 55, 58, 56, 55, 57], 55, mode="window", window_days=7)
    assert verdict.status == AchievementStatus.VERIFIED
    assert "7-day average" in verdict.evidence["rule"]
    # one huge day lifts the average past the target, but not the median
    spiky = [*NOISY, 50, 51, 400, 52, 50, 51, 56]
    assert run(spiky, 55, mode="window", window_days=7).status is None


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


def test_an_older_spike_is_shown_in_its_evidence():
    verdict = run([*NOISY, 50, 400, *[50] * 20], 55)
    assert verdict.status == AchievementStatus.HELD
    shown = verdict.evidence["observations"]
    assert len(shown) == 14 and [o["value"] for o in shown if o["qualifying"]] == ["400"]
