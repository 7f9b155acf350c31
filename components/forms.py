"""The input policy in forms: the API's limits as widget counters (`max_chars`) and its checks.

A widget's `max_chars` stops typing at the limit; these checks also refuse what a paste or a
script can still put in (control characters, a line break in a one-line field, an oversize
value), with the same plain words the API uses.
"""

from core.schemas import AMOUNT_LIMIT, check_text

# The largest amount a number input takes (the API's limit is exclusive).
AMOUNT_BOUND = float(AMOUNT_LIMIT) - 1


def line(label: str, value: str | None, limit: int) -> str | None:
    """Return what is wrong with a one-line field (names, subjects, search text), or None."""
    return check_text(label, value, max_length=limit)


def text(label: str, value: str | None, limit: int) -> str | None:
    """Return what is wrong with a multi-line field (notes, bodies, findings), or None."""
    return check_text(label, value, max_length=limit, multi_line=True)
