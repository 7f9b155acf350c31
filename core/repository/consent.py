"""Consent rules for showing wins outside the company: names, anonymous labels, snippets."""

import re

from core.base import Consent, Segment
from core.formatting import value_text

NAMED = frozenset({Consent.LOGO, Consent.FULL_PUBLIC})


SEGMENT_WORDS = {
    Segment.SMB: "an SMB",
    Segment.MID_MARKET: "a mid-market",
    Segment.ENTERPRISE: "an enterprise",
}


def scrub_name(text: str, name: str | None) -> str:
    """Replace the customer's name with 'the customer' when consent forbids naming them."""
    if not name or not text:
        return text
    pattern = re.compile(rf"(?<!\w){re.escape(name.strip())}(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda m: "The customer" if m.start() == 0 else "the customer", text)


def anonymous_name(segment: Segment | None, industry: str | None) -> str:
    """Describe a customer without naming them: 'A mid-market healthcare company'."""
    words = [w if not w[1:].islower() else w.lower() for w in (industry or "").split()]
    kind = " ".join([*words, "company"])
    article = "an" if kind[0].lower() in "aeiou" else "a"
    phrase = f"{SEGMENT_WORDS[Segment(segment)]} {kind}" if segment else f"{article} {kind}"
    return phrase[0].upper() + phrase[1:]


def customer_label(name: str | None, consent, *, segment=None, industry=None) -> str:
    """Return the customer's name when consent allows it, else an anonymous description."""
    if Consent(consent) in NAMED and name:
        return name
    return anonymous_name(segment, industry)


def snippet_text(entry, customer_name: str | None, consent, *, segment=None) -> str:
    """Return a copy-ready proof point; only logo/full-public consent shows the customer's name."""
    consent = Consent(consent)
    hide = None if consent in NAMED else customer_name
    who = customer_label(customer_name, consent, segment=segment, industry=entry.industry)
    title = scrub_name(entry.title, hide).strip().rstrip(".")
    body = scrub_name(entry.snippet or "", hide).strip()
    if body and body[-1] not in ".!?":
        body += "."
    when = entry.achieved_on.strftime("%B %Y")
    value = value_text(entry.value_amount, entry.value_unit)
    result = f"Result: {value} (achieved {when})." if value else f"Achieved {when}."
    return " ".join(p for p in (f"{who} — {title}.", body, result) if p)
