"""The consent-aware read layer: what a viewer may see of a customer, and texts rendered for them.

Every page, API answer, export and snippet that shows a customer to someone asks here (README,
"Consent: who sees which name"). Two things decide:

- the **audience**: CS staff (CSMs, leaders, admins) on internal pages see everything; sales and
  marketing everywhere, and everyone on the reuse surfaces (value repository, marketing
  candidates, their exports and snippets), get the consent rules;
- the customer's **consent level**, or the stricter of it and a repository entry's own.

Stored texts of the value repository never hold a customer's name: they hold `PLACEHOLDER`, and
the name is filled in at read time (`CustomerView.text`), so a rename or a consent change applies
everywhere at once. Texts written before that (and success records, timeline lines) are scrubbed
of the customer's current name and of every name its success records were written under.
"""

import enum
import functools
import re
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.base import Consent, Role, Segment
from core.customers.models import Customer
from core.formatting import value_text
from core.goals.models import Achievement
from core.records.facts import Quote, RecordFacts
from core.records.models import SuccessRecord

PLACEHOLDER = "{customer}"
UNNAMED = "the customer"
CONSENT_ORDER = (Consent.INTERNAL_ONLY, Consent.ANONYMIZED, Consent.LOGO, Consent.FULL_PUBLIC)
CS_STAFF = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})

SEGMENT_WORDS = {
    Segment.SMB: "an SMB",
    Segment.MID_MARKET: "a mid-market",
    Segment.ENTERPRISE: "an enterprise",
}


class Audience(enum.StrEnum):
    """Who a view is for."""

    INTERNAL = "internal"  # CS staff on internal pages (customers, wins, win details, home)
    EXTERNAL = "external"  # sales and marketing anywhere; anyone on a reuse surface


@dataclass(frozen=True)
class Disclosure:
    """What an audience may show of one customer. Result figures are always shown."""

    name: bool  # the customer's name (else a description: "A mid-market fintech company")
    logo: bool  # the customer's logo (no page shows logos yet: whoever adds one asks here)
    quotes: bool  # the customer's words (scrubbed of the customer's name when it is hidden)
    speaker: bool  # who said a quote by name (else by job title only)


# What sales, marketing and the reuse surfaces may show, by consent level (README table).
RULES = {
    Consent.FULL_PUBLIC: Disclosure(name=True, logo=True, quotes=True, speaker=True),
    Consent.LOGO: Disclosure(name=True, logo=True, quotes=True, speaker=False),
    Consent.ANONYMIZED: Disclosure(name=False, logo=False, quotes=True, speaker=False),
    Consent.INTERNAL_ONLY: Disclosure(name=False, logo=False, quotes=False, speaker=False),
}
EVERYTHING = Disclosure(name=True, logo=True, quotes=True, speaker=True)


def audience(viewer: Role | None, *, reuse: bool = False) -> Audience:
    """Return the audience of a view: `viewer` None is an internal caller (a job, CS staff)."""
    if reuse or (viewer is not None and Role(viewer) not in CS_STAFF):
        return Audience.EXTERNAL
    return Audience.INTERNAL


def stricter(*levels: Consent | str | None) -> Consent:
    """Return the narrowest of the consent levels given (None ones are ignored)."""
    given = [Consent(c) for c in levels if c is not None]
    return min(given, key=CONSENT_ORDER.index) if given else Consent.INTERNAL_ONLY


def disclosure(seen_by: Audience, consent: Consent | str) -> Disclosure:
    """Return what `seen_by` may show of a customer with `consent`."""
    return EVERYTHING if seen_by == Audience.INTERNAL else RULES[Consent(consent)]


def named_levels(seen_by: Audience) -> frozenset[Consent]:
    """Return the consent levels whose customers `seen_by` may name."""
    return frozenset(c for c in Consent if disclosure(seen_by, c).name)


def anonymous_name(segment: Segment | str | None, industry: str | None) -> str:
    """Describe a customer without naming them: 'A mid-market healthcare company'."""
    words = [w if not w[1:].islower() else w.lower() for w in (industry or "").split()]
    kind = " ".join([*words, "company"])
    article = "an" if kind[0].lower() in "aeiou" else "a"
    phrase = f"{SEGMENT_WORDS[Segment(segment)]} {kind}" if segment else f"{article} {kind}"
    return phrase[0].upper() + phrase[1:]


def _names_pattern(names) -> re.Pattern:
    """Match PLACEHOLDER and any of `names` as whole words, case-insensitively."""
    return _compiled(tuple(sorted({n.strip() for n in names if n and n.strip()})))


@functools.lru_cache(maxsize=1024)
def _compiled(names: tuple[str, ...]) -> re.Pattern:
    words = sorted(names, key=len, reverse=True)  # the longest name first: "Acme Health Inc"
    alternatives = [re.escape(PLACEHOLDER)]
    if words:
        alternatives.append(rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in words)})(?!\w)")
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"“'(")
    return not before or before[-1] in ".!?\n"


def fill(text: str | None, names, shown: str | None) -> str:
    """Put `shown` (or 'the customer') where PLACEHOLDER or any of `names` stands in `text`."""
    if not text:
        return text or ""

    def put(match: re.Match) -> str:
        if shown:
            return shown
        start = _sentence_start(match.string, match.start())
        return UNNAMED[0].upper() + UNNAMED[1:] if start else UNNAMED

    return _names_pattern(names).sub(put, text)


def templated(text: str, name: str | None) -> str:
    """Return `text` with the customer's name replaced by PLACEHOLDER, ready to store."""
    return _names_pattern([name]).sub(PLACEHOLDER, text) if text else text


@dataclass(frozen=True)
class CustomerView:
    """One customer as one audience may see them."""

    customer_id: uuid.UUID | None
    name: str | None  # None when the name may not be shown
    label: str  # the name, or a description of the customer
    consent: Consent  # the level the decision was made for
    shows: Disclosure
    names: tuple[str, ...]  # every name the customer is known by: current first, then former

    def text(self, text: str | None) -> str:
        """Render a stored text: the current name when it may be shown, else 'the customer'."""
        return fill(text, self.names, self.name)

    def quote(self, quote: Quote) -> Quote | None:
        """Return the quote as it may be shown (None when quotes may not be)."""
        if not self.shows.quotes:
            return None
        speaker = quote.name if self.shows.speaker else None
        return replace(quote, text=self.text(quote.text), name=speaker)

    def quoted_by(self, quote: Quote) -> str:
        """Say who said a quote: 'Dana Ortiz, VP Support', 'VP Support' or 'a customer contact'."""
        parts = [quote.name if self.shows.speaker else None, quote.title]
        return ", ".join(p for p in parts if p) or "a customer contact"

    def facts(self, facts: RecordFacts) -> RecordFacts:
        """Return a success record's facts with names, quotes and texts as this view allows."""
        quotes = [q for q in (self.quote(q) for q in facts.quotes) if q is not None]
        return replace(
            facts,
            customer_name=self.label,
            goal_name=self.text(facts.goal_name),
            goal_description=self.text(facts.goal_description) or None,
            use_case=self.text(facts.use_case) or None,
            factors=[self.text(f) for f in facts.factors],
            quotes=quotes,
        )


def customer_view(
    seen_by: Audience,
    *,
    name: str | None,
    consent,
    segment=None,
    industry=None,
    entry_consent=None,
    former=(),
    customer_id: uuid.UUID | None = None,
) -> CustomerView:
    """Decide what `seen_by` may see of one customer (an entry's own consent may narrow it)."""
    level = stricter(consent, entry_consent)
    shows = disclosure(seen_by, level)
    shown = name if shows.name and name else None
    return CustomerView(
        customer_id=customer_id,
        name=shown,
        label=shown or anonymous_name(segment, industry),
        consent=level,
        shows=shows,
        names=tuple(dict.fromkeys(n for n in (name, *former) if n)),
    )


def former_names(customer_id: ColumnElement) -> ColumnElement:
    """A correlated subquery: the names a customer's success records were written under."""
    recorded = SuccessRecord.sections["customer_name"].astext
    return (
        select(func.array_agg(recorded.distinct()))
        .join(Achievement, Achievement.id == SuccessRecord.achievement_id)
        .where(Achievement.customer_id == customer_id, recorded.is_not(None))
        .scalar_subquery()
    )


def customer_views(
    *, session: Session, seen_by: Audience, customer_ids
) -> dict[uuid.UUID, CustomerView]:
    """Return the view of each customer in `customer_ids` for `seen_by`, in one query."""
    ids = list({uuid.UUID(str(i)) for i in customer_ids})
    if not ids:
        return {}
    rows = session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.consent_level,
            Customer.segment,
            Customer.industry,
            former_names(Customer.id).label("former"),
        ).where(Customer.id.in_(ids))
    )
    return {
        r.id: customer_view(
            seen_by,
            name=r.name,
            consent=r.consent_level,
            segment=r.segment,
            industry=r.industry,
            former=r.former or (),
            customer_id=r.id,
        )
        for r in rows
    }


def proof_point(entry, view: CustomerView) -> str:
    """Return a copy-ready proof point of a repository entry as `view` allows."""
    title = view.text(entry.title).strip().rstrip(".")
    body = view.text(entry.snippet or "").strip()
    if body and body[-1] not in ".!?":
        body += "."
    when = entry.achieved_on.strftime("%B %Y")
    value = value_text(entry.value_amount, entry.value_unit)
    result = f"Result: {value} (achieved {when})." if value else f"Achieved {when}."
    return " ".join(p for p in (f"{view.label} — {title}.", body, result) if p)
