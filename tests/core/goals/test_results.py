"""Wording of results: numbers, units and metric names."""

from core.formatting import number
from core.goals.results import noun


def test_result_wording_keeps_acronyms_and_small_scales():
    assert noun("Support CSAT") == "support CSAT"
    assert number(4.72, "score") == "4.72"
    assert number(19.64, "%") == "19.6%"
    assert number(1234.5, "hours") == "1,234 hours"
