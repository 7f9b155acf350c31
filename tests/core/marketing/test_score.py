"""The marketing score moves the way a marketer expects, and says why."""

from dataclasses import replace
from datetime import date

import pytest

from core.marketing.score import ScoreInputs, score

BASE = ScoreInputs(
    improvement=0.3,
    beyond_target=0.1,
    money_value=None,
    goal_type="kpi",
    nps=9,
    csat=None,
    health=80,
    customer_since=date(2022, 1, 1),
    as_of=date(2026, 11, 20),
    quote_ready=True,
    any_comment=True,
    similar_wins=1,
    consent="full_public",
    asks_last_90_days=0,
)


def value(**changes) -> int:
    return score(replace(BASE, **changes)).value


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("improvement", 0.0, 0.5),
        ("beyond_target", 0.0, 0.2),
        ("money_value", None, 150_000),
        ("health", 20, 90),
        ("nps", 3, 10),
        ("quote_ready", False, True),
    ],
)
def test_more_of_a_good_thing_never_lowers_the_score(field, low, high):
    assert value(**{field: low}) <= value(**{field: high})


def test_consent_order():
    scores = [value(consent=c) for c in ("internal_only", "anonymized", "logo", "full_public")]
    assert scores == sorted(scores) and scores[0] < scores[-1]


def test_fatigue_lowers_and_is_capped():
    scores = [value(asks_last_90_days=n) for n in range(6)]
    assert scores == sorted(scores, reverse=True)
    assert scores[3] == scores[5]  # capped at 30 points


def test_novelty_rewards_new_industry_stories():
    assert value(similar_wins=0) > value(similar_wins=3) > value(similar_wins=10)


def test_score_stays_in_range_and_explains_itself():
    best = score(replace(BASE, money_value=500_000, improvement=1, beyond_target=1, similar_wins=0))
    worst = score(
        replace(
            BASE,
            improvement=0,
            beyond_target=0,
            nps=0,
            health=0,
            quote_ready=False,
            any_comment=False,
            similar_wins=50,
            consent="internal_only",
            asks_last_90_days=9,
        )
    )
    assert 0 <= worst.value <= best.value <= 100
    assert worst.value == 0
    assert any("quantified money value" in r for r in best.reasons)
    assert any("fatigue" in r for r in worst.reasons)


def test_candidate_flags_follow_consent_and_evidence():
    strong = score(replace(BASE, money_value=200_000, similar_wins=0))
    assert set(strong.candidates) == {"case_study", "testimonial", "reference", "social_proof"}
    internal = score(replace(BASE, money_value=200_000, consent="internal_only"))
    assert internal.candidates == []
    anonymized = score(replace(BASE, consent="anonymized", similar_wins=0))
    assert anonymized.candidates == ["social_proof"]


def test_reasons_say_when_consent_keeps_a_quote_internal_and_count_wins_plainly():
    public = score(BASE).reasons
    assert "+10 quote available" in public
    assert "+6 novelty (1 similar win in the repository)" in public
    internal = score(replace(BASE, consent="internal_only", similar_wins=2)).reasons
    assert "+10 quote on file, but consent keeps it internal" in internal
    assert "+6 novelty (2 similar wins in the repository)" in internal
    assert "+4 comment on file" in score(replace(BASE, quote_ready=False)).reasons
