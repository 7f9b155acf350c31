"""Tidy a search headline so it starts at a sentence or word and shows where text is cut."""

import re

ELLIPSIS = "…"
# How far back (characters) a headline may reach to start at its sentence's beginning.
REACH = 80
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_LEADING_PUNCTUATION = re.compile(r"^[\s,;:)\]}.!?-]+")


def tidy(fragment: str, text: str, *, marks: tuple[str, str]) -> str:
    """Return `fragment` of `text` from a sentence or word start, with "…" where `text` goes on."""
    plain = fragment.replace(marks[0], "").replace(marks[1], "").strip()
    at = text.find(plain) if plain else -1
    if at < 0:
        return fragment
    end = at + len(plain)
    shown = fragment.strip()
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
    sentence = starts[-1] if starts else 0
    if at - sentence <= REACH:
        shown, at = text[sentence:at].lstrip() + shown, sentence
    elif not shown.startswith(marks[0]):
        # Too far from its sentence's start: start at its first word, never at punctuation.
        shown = _LEADING_PUNCTUATION.sub("", shown)
    if text[:at].strip():
        shown = f"{ELLIPSIS} {shown}"
    if text[end:].strip():
        shown = f"{shown} {ELLIPSIS}" if shown[-1] in ".!?" else f"{shown.rstrip(',;:')}{ELLIPSIS}"
    return shown
