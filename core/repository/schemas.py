"""Filters and read models of the value repository, and the text they turn into.

The text half (proof points, CSV, markdown) is pure: no session, so pages and tests call it freely.
"""

import csv
import enum
import io
import re
import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field, ValidationInfo, field_validator

from core.base import Consent, Segment
from core.goals.models import GoalType
from core.integrations.escape import spreadsheet_cell
from core.schemas import CamelModel, JsonNumber

MONEY_UNITS = ("USD", "$")
NAMED = frozenset({Consent.LOGO, Consent.FULL_PUBLIC})
SEGMENT_WORDS = {
    Segment.SMB: "an SMB",
    Segment.MID_MARKET: "a mid-market",
    Segment.ENTERPRISE: "an enterprise",
}
# Amounts leave the API as JSON numbers; inside Python they stay exact Decimals.


class UsePurpose(enum.StrEnum):
    """Why someone used a proof point."""

    QBR = "qbr"
    RENEWAL = "renewal"
    SALES = "sales"
    MARKETING = "marketing"
    OTHER = "other"


class RepositoryFilters(CamelModel):
    """What to look for; every filter set must match (AND), unset means any."""

    q: str | None = Field(None, max_length=200, description="Free text (web search syntax)")
    industry: str | None = Field(None, max_length=80)
    use_case: str | None = Field(None, max_length=200)
    product: str | None = Field(None, max_length=64)
    goal_type: GoalType | None = None
    date_from: date | None = Field(None, description="Achieved on or after (inclusive)")
    date_to: date | None = Field(None, description="Achieved on or before (inclusive)")
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    consent: list[Consent] | None = Field(None, description="Any of these consent levels")

    @field_validator("q", "industry", "use_case", "product", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("consent", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        # Accept consent=logo,full_public as well as repeated consent= parameters.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            parts = [p.strip() for v in value for p in str(v).split(",") if p.strip()]
            return parts or None
        return value

    @field_validator("date_to")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("date_from")
        if value is not None and start is not None and value < start:
            raise ValueError(f"must not be before dateFrom ({start.isoformat()})")
        return value

    @field_validator("value_max")
    @classmethod
    def _values_in_order(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        low = info.data.get("value_min")
        if value is not None and low is not None and value < low:
            raise ValueError(f"must not be less than valueMin ({low})")
        return value


class RepositoryItem(CamelModel):
    """One documented win, with consent applied to everything that could name the customer."""

    id: uuid.UUID
    achievement_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str | None = Field(description="Null unless consent allows naming them")
    customer_label: str = Field(description="The name, or 'A mid-market healthcare company'")
    title: str
    snippet: str
    headline: str = Field(description="HTML-escaped excerpt; query matches wrapped in <mark>")
    proof_point: str = Field(description="Copy-ready paragraph that respects consent")
    industry: str
    use_case: str | None
    products: list[str]
    goal_type: GoalType
    value_amount: JsonNumber | None
    value_unit: str | None
    achieved_on: date
    consent_level: Consent = Field(description="The stricter of the entry's and the customer's")
    usage_count: int
    last_used_at: datetime | None
    rank: float | None = Field(description="Text relevance; null without a query")


class RepositoryPage(CamelModel):
    """One page of matching entries and how many match in total."""

    total: int
    items: list[RepositoryItem]


class AggregateRow(CamelModel):
    """Wins and their dollar value in one group."""

    label: str
    count: int
    value_total: JsonNumber = Field(description="Sum of dollar-denominated values only")


class QuarterRow(AggregateRow):
    quarter: date


class RepositoryAggregates(CamelModel):
    """Counts and dollar value by industry, by quarter (gaps filled) and by goal type."""

    total: int
    by_industry: list[AggregateRow]
    by_quarter: list[QuarterRow]
    by_goal_type: list[AggregateRow]


class RepositoryOptions(CamelModel):
    """The values present in the repository, for filter widgets."""

    entries: int
    industries: list[str]
    use_cases: list[str]
    products: list[str]
    goal_types: list[GoalType]


class UseIn(CamelModel):
    purpose: UsePurpose


class UseOut(CamelModel):
    id: uuid.UUID
    usage_count: int


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


def value_text(amount: Decimal | None, unit: str | None) -> str | None:
    """Format a value with its unit: '$120,000', '42%', '3.7 hours'."""
    if amount is None:
        return None
    number = f"{Decimal(amount):,.2f}".rstrip("0").rstrip(".")
    unit = (unit or "").strip()
    if unit.upper() in MONEY_UNITS:
        return f"-${number[1:]}" if number.startswith("-") else f"${number}"
    return f"{number}%" if unit == "%" else f"{number} {unit}".strip()


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


CSV_HEADER = (
    "Title",
    "Customer",
    "Industry",
    "Use case",
    "Products",
    "Goal type",
    "Value",
    "Unit",
    "Achieved on",
    "Consent",
    "Proof point",
    "Times used",
    "Entry id",
)


def export_csv(entries: list[RepositoryItem]) -> str:
    """Return entries as CSV, consent applied and formula-looking cells defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for e in entries:
        row = (
            e.title,
            e.customer_label,
            e.industry,
            e.use_case or "",
            "; ".join(e.products),
            _label(e.goal_type),
            _number(e.value_amount),
            e.value_unit or "",
            e.achieved_on.isoformat(),
            _label(e.consent_level),
            e.proof_point,
            e.usage_count,
            str(e.id),
        )
        writer.writerow([spreadsheet_cell(v) for v in row])
    return out.getvalue()


def export_markdown(entries: list[RepositoryItem]) -> str:
    """Return entries as copy-ready markdown, one section per win."""
    parts = [f"# Value repository — {len(entries)} win{'s' * (len(entries) != 1)}"]
    for e in entries:
        facts = {
            "Customer": e.customer_label,
            "Industry": e.industry,
            "Use case": e.use_case,
            "Products": ", ".join(e.products),
            "Goal type": _label(e.goal_type),
            "Value": value_text(e.value_amount, e.value_unit),
            "Achieved": e.achieved_on.isoformat(),
            "Consent": _label(e.consent_level),
        }
        lines = [f"- **{k}:** {_md(v)}" for k, v in facts.items() if v]
        parts.append("\n".join([f"## {_md(e.title)}", "", _md(e.proof_point), "", *lines]))
    return "\n\n".join(parts) + "\n"


def _number(value: Decimal | None) -> Decimal | str:
    # A Decimal (not text) so a negative amount is not mistaken for a formula and quoted.
    return "" if value is None else Decimal(format(value.normalize(), "f"))


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", str(text)).replace("\n", " ")


def _label(value) -> str:
    text = str(getattr(value, "value", value)).replace("_", " ").capitalize()
    return " ".join(w.upper() if w.lower() in ("kpi", "roi") else w for w in text.split())
