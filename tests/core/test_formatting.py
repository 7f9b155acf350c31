"""Metric values in people's words: rounded to what matters, thousands grouped."""

from decimal import Decimal

import pytest

from core.formatting import plain


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (155831, "155,831"),
        (Decimal("1.2E+3"), "1,200"),
        (-2500.4, "-2,500"),
        (64.5714, "64.57"),
        (Decimal("100"), "100"),
        (0, "0"),
        (None, "—"),
    ],
)
def test_a_value_is_rounded_and_its_thousands_grouped(value, words):
    assert plain(value) == words
