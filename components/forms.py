"""The input policy in forms: the API's limits as widget counters (`max_chars`) and its checks.

A widget's `max_chars` stops typing at the limit; these checks also refuse what a paste or a
script can still put in (control characters, a line break in a one-line field, an oversize
value), with the same plain words the API uses.
"""

from pydantic import ValidationError

from core.schemas import AMOUNT_LIMIT, check_text, problem_words

# The largest amount a number input takes (the API's limit is exclusive).
AMOUNT_BOUND = float(AMOUNT_LIMIT) - 1


def line(label: str, value: str | None, limit: int) -> str | None:
    """Return what is wrong with a one-line field (names, subjects, search text), or None."""
    return check_text(label, value, max_length=limit)


def text(label: str, value: str | None, limit: int) -> str | None:
    """Return what is wrong with a multi-line field (notes, bodies, findings), or None."""
    return check_text(label, value, max_length=limit, multi_line=True)


def in_words(problem: Exception | str, labels: dict[str, str]) -> list[str]:
    """Return the messages of a refused form, each naming the field by its label on screen.

    Core rules and input models name fields as the API does (`arr: …`, `ownerCsmEmail: …`, or a
    pydantic error's location); a form shows the label the person sees instead ("ARR: …").
    """
    if isinstance(problem, ValidationError):
        messages = []
        for error in problem.errors():
            field = ".".join(str(part) for part in error["loc"]) or "form"
            messages.append(f"{field}: {_plain(error)}")
    else:
        messages = [str(problem)]
    named = []
    for message in messages:
        field, sep, rest = message.partition(": ")
        label = labels.get(field) or labels.get(_camel(field))
        named.append(f"{label}: {rest}" if sep and label else message)
    return named


def _camel(name: str) -> str:
    head, *tail = name.split("_")
    return head + "".join(part.title() for part in tail)


def _plain(error: dict) -> str:
    """Say a pydantic error in the words a form uses."""
    if error["type"] in ("enum", "literal_error"):
        return "choose one of the options."
    return problem_words(error)
