"""The target rules on their own: uplift on the baseline, floor, cap, history, levels, checks."""

from decimal import Decimal

import pytest

from core.errors import Invalid
from core.upsell.models import TargetSource
from core.upsell.target_rules import (
    Benchmark,
    NoTarget,
    Peers,
    check_target,
    derive_target,
    stated_target,
)

HIGHER, LOWER = "higher_is_better", "lower_is_better"
UPLIFTS = {"smb": 0.3, "mid_market": 0.2, "enterprise": 0.1}


def _derive(baseline, *, unit="users", direction=HIGHER, segment="mid_market", **kwargs):
    raw = kwargs.pop("raw", {"uplift": UPLIFTS})
    return derive_target(
        name="Weekly active users",
        unit=unit,
        direction=direction,
        baseline=None if baseline is None else Decimal(str(baseline)),
        segment=segment,
        raw=raw,
        **kwargs,
    )


def _bench(median, top, segment="mid_market"):
    return Benchmark(
        industry="Retail", segment=segment, median=Decimal(str(median)), top_quartile=Decimal(top)
    )


@pytest.mark.parametrize(
    "segment, target", [("smb", 130), ("mid_market", 120), ("enterprise", 110)]
)
def test_the_target_is_the_baseline_plus_the_segments_template_uplift(segment, target):
    found = _derive(100, segment=segment)
    assert found.value == target and found.source == TargetSource.TEMPLATE_UPLIFT
    share = f"{int(UPLIFTS[segment] * 100)}%"
    assert found.explanation.startswith(f"100 users at close raised by {share}: the template's")


def test_one_uplift_for_every_segment_and_a_default_when_the_template_sets_none():
    assert _derive(100, raw={"uplift": 0.4}).value == 140
    assert _derive(100, raw={"uplift": 0.4}, segment="smb").value == 140
    found = _derive(100, raw={"target": 150})  # a fixed target is not an uplift
    assert found.value == 120 and "the default uplift for mid-market customers" in found.explanation
    assert _derive(100, raw={}, segment="enterprise").value == 115


def test_targets_round_to_three_digits_away_from_the_baseline():
    assert _derive(Decimal("217.7")).value == 262  # 261.24 rounded up
    assert _derive(Decimal("9.37"), direction=LOWER).value == Decimal("7.49")  # 7.496 rounded down


def test_a_tiny_uplift_is_raised_to_the_minimum_meaningful_change():
    found = _derive(200, raw={"uplift": 0.01})
    assert (
        found.value == 210 and "Raised to the smallest meaningful change, 5%" in found.explanation
    )
    lower = _derive(10, raw={"uplift": -0.3}, direction=LOWER, unit="hours")
    assert lower.value == Decimal("9.5")  # the wrong way round is still a 5% cut


def test_the_benchmark_top_quartile_caps_the_target():
    found = _derive(50, unit="%", raw={"uplift": 0.5}, benchmark=_bench(52, 66))
    assert found.value == 66 and found.source == TargetSource.BENCHMARK
    assert "Capped at 66%, the top quartile of mid-market Retail customers" in found.explanation
    within = _derive(50, unit="%", raw={"uplift": 0.2}, benchmark=_bench(52, 66))
    assert (within.value, within.source) == (60, TargetSource.TEMPLATE_UPLIFT)


def test_no_target_when_the_reachable_level_is_closer_than_the_minimum_change():
    with pytest.raises(NoTarget, match=r"already within 5% of the top quartile .* left out"):
        _derive(64, unit="%", benchmark=_bench(52, 66))
    with pytest.raises(NoTarget, match="already within 5% of 100%"):
        _derive(97, unit="%")
    assert _derive(90, unit="%").value == 100  # 108% is not a percentage


def test_lower_is_better_is_mirrored():
    found = _derive(10, unit="hours", direction=LOWER)
    assert found.value == 8 and "10 hours at close cut by 20%" in found.explanation
    capped = _derive(10, unit="hours", direction=LOWER, benchmark=_bench(14, "8.5"))
    assert (capped.value, capped.source) == (Decimal("8.5"), TargetSource.BENCHMARK)
    with pytest.raises(NoTarget, match="already within 5%"):
        _derive(9, unit="hours", direction=LOWER, benchmark=_bench(14, "8.8"))
    with pytest.raises(NoTarget, match="already at or beyond the top quartile"):
        _derive(8, unit="hours", direction=LOWER, benchmark=_bench(14, "8.8"))
    assert _derive(10, unit="hours", direction=LOWER, raw={"uplift": 3}).value == 1  # ≤ 90% cut
    with pytest.raises(NoTarget, match="nothing left to cut"):
        _derive(0, unit="hours", direction=LOWER)


def test_similar_upsells_count_once_there_are_enough_shrunk_toward_the_template():
    few = _derive(100, peers=Peers(uplift_plans=4, uplift=Decimal("0.5")))
    assert (few.value, few.source) == (120, TargetSource.TEMPLATE_UPLIFT)
    five = _derive(100, peers=Peers(uplift_plans=5, uplift=Decimal("0.5")))
    assert (five.value, five.source) == (135, TargetSource.HISTORY)  # (5·50% + 5·20%) ÷ 10
    assert "5 similar upsells with mid-market customers reached a median 50%" in five.explanation
    many = _derive(100, peers=Peers(uplift_plans=20, uplift=Decimal("0.5")))
    assert many.value == 144  # (20·50% + 5·20%) ÷ 25
    worse = _derive(100, peers=Peers(uplift_plans=45, uplift=Decimal("-0.1")))
    assert worse.value == 105 and worse.source == TargetSource.HISTORY  # floored, not negative


def test_without_a_baseline_an_absolute_level_says_so():
    peers = Peers(level_plans=5, level=Decimal(40))
    found = _derive(None, raw={"target": 60}, peers=peers)
    assert (found.value, found.source) == (50, TargetSource.HISTORY)  # (5·40 + 5·60) ÷ 10
    assert found.explanation.startswith("No baseline at close; 5 similar upsells reached")
    bench = _derive(None, raw={"target": 60}, unit="%", benchmark=_bench(52, 66))
    assert (bench.value, bench.source) == (52, TargetSource.BENCHMARK)
    assert "the median of mid-market Retail customers" in bench.explanation
    level = _derive(None, raw={"target": 3}, unit="dashboards", manual=True)
    assert (level.value, level.source) == (3, TargetSource.TEMPLATE_LEVEL)
    assert level.explanation == "Measured by hand, so no baseline at close; the template's level."
    zero = _derive(0, raw={"target": 400}, unit="runs/day")
    assert zero.value == 400 and "The baseline at close is 0" in zero.explanation
    with pytest.raises(NoTarget, match="no baseline at close and no level"):
        _derive(None, raw={"uplift": 0.2})


def test_a_met_criterion_keeps_its_fixed_target():
    found = _derive(None, unit="met", raw={"target": 1})
    assert (found.value, found.source) == (1, TargetSource.TEMPLATE_LEVEL)


def test_a_stated_target_stands_unless_it_was_met_at_close():
    kept = stated_target(name="Adoption", unit="%", direction=HIGHER, baseline=40, target=70)
    assert (kept.value, kept.source) == (70, TargetSource.STATED)
    met = stated_target(name="Adoption", unit="%", direction=HIGHER, baseline=75, target=70)
    assert met.value == Decimal("78.8") and "already met at close (75%)" in met.explanation
    with pytest.raises(NoTarget, match="already met at close"):
        stated_target(name="Adoption", unit="%", direction=HIGHER, baseline=98, target=70)
    cut = stated_target(
        name="Resolution", unit="hours", direction=LOWER, baseline=20, factor=Decimal("0.7")
    )
    assert cut.value == 14 and cut.explanation.endswith("20 hours at close, down 30%.")


@pytest.mark.parametrize(
    "direction, target, message",
    [
        (HIGHER, 200, "target: must be above the baseline 217.7 for a higher-is-better metric"),
        (HIGHER, "217.7", "target: must be above the baseline 217.7"),
        (LOWER, 250, "target: must be below the baseline 217.7 for a lower-is-better metric"),
    ],
)
def test_a_target_already_met_at_close_is_refused(direction, target, message):
    with pytest.raises(Invalid) as caught:
        check_target(
            name="Weekly active users",
            target=Decimal(str(target)),
            baseline=Decimal("217.7000"),
            direction=direction,
        )
    assert str(caught.value).startswith(message)
    assert "Weekly active users" in str(caught.value)


def test_a_target_beyond_the_baseline_or_without_one_passes():
    check_target(name="x", target=Decimal(218), baseline=Decimal("217.7"), direction=HIGHER)
    check_target(name="x", target=Decimal(5), baseline=Decimal(9), direction=LOWER)
    check_target(name="x", target=Decimal(1), baseline=None, direction=HIGHER)
