"""Wording of results: numbers, units and metric names."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.formatting import number
from core.goals.results import noun, value_summary, with_article
from core.goals.verify import spike_reason


def test_result_wording_keeps_acronyms_and_small_scales():
    assert noun("Support CSAT") == "support CSAT"
    assert number(4.72, "score") == "4.72"
    assert number(19.64, "%") == "19.6%"
    assert number(1234.5, "hours") == "1,234 hours"


@pytest.mark.parametrize(
    ("phrase", "article"),
    [
        ("81% improvement", "an"),
        ("8% improvement", "an"),
        ("11% improvement", "an"),
        ("18% improvement", "an"),
        ("800% improvement", "an"),
        ("18,000 hour saving", "an"),
        ("1% improvement", "a"),
        ("28% improvement", "a"),
        ("110% improvement", "a"),
        ("180% improvement", "a"),
        ("outcome", "an"),
        ("return", "a"),
    ],
)
def test_the_article_follows_how_the_figure_is_spoken(phrase, article):
    assert with_article(phrase) == f"{article} {phrase}"


def _facts(**changes) -> SimpleNamespace:
    base = {"is_money": False, "achieved": Decimal(10), "unit": "users", "improvement": None}
    return SimpleNamespace(
        **base | {"metric_name": "Weekly active users", "goal_type": "kpi"} | changes
    )


def test_value_summary_reads_plainly():
    assert value_summary(_facts(improvement=0.81)) == "an 81% improvement in weekly active users"
    assert value_summary(_facts(improvement=0.25)) == "a 25% improvement in weekly active users"
    plan = _facts(goal_type="success_plan", achieved=None, metric_name=None)
    assert value_summary(plan) == "the full plan, with nothing left undone"


def test_a_held_spike_is_explained_without_statistics_words():
    reason = spike_reason(1, Decimal(400), Decimal(50), 13.3)
    assert "standard deviation" not in reason
    assert "far outside the usual range (13× the usual variation)" in reason
    assert reason.startswith("a lone spike: 1 observation beyond the target")
