"""Turn domain values into the short labels people read (no Streamlit here)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from core.base import Consent, Role, Segment
from core.customers.feedback import Sentiment
from core.customers.models import FeedbackKind, FeedbackSource
from core.customers.schemas import HealthBand
from core.formatting import money  # noqa: F401  (pages format money through here too)
from core.integrations.escape import markdown_text

ROLE_LABELS = {
    Role.CSM: "Customer success manager",
    Role.LEADER: "CS leader",
    Role.MARKETING: "Marketing",
    Role.ADMIN: "Admin",
    Role.SALES: "Sales",
}
ROLE_BLURBS = {
    Role.CSM: "Your own book of customers, goals and plans",
    Role.LEADER: "The whole team: wins, outcomes and risk",
    Role.MARKETING: "Case-study and reference candidates",
    Role.ADMIN: "Everything, plus jobs, keys and system status",
    Role.SALES: "Proof points from the value repository",
}
SEGMENT_LABELS = {
    Segment.SMB: "SMB",
    Segment.MID_MARKET: "Mid-market",
    Segment.ENTERPRISE: "Enterprise",
}
BAND_LABELS = {
    HealthBand.HEALTHY: "Healthy (70+)",
    HealthBand.WATCH: "Watch (40-69)",
    HealthBand.AT_RISK: "At risk (<40)",
    HealthBand.UNKNOWN: "No score",
}
BAND_COLORS = {
    HealthBand.HEALTHY: "#4E9F6B",
    HealthBand.WATCH: "#D9A441",
    HealthBand.AT_RISK: "#C8553D",
    HealthBand.UNKNOWN: "#B8C2CC",
}
BAND_BADGES = {
    HealthBand.HEALTHY: "green",
    HealthBand.WATCH: "orange",
    HealthBand.AT_RISK: "red",
    HealthBand.UNKNOWN: "gray",
}
CONSENT_LABELS = {
    Consent.INTERNAL_ONLY: "Internal only",
    Consent.ANONYMIZED: "Anonymized",
    Consent.LOGO: "Logo",
    Consent.FULL_PUBLIC: "Full public",
}
FEEDBACK_KIND_LABELS = {
    FeedbackKind.NPS: "NPS",
    FeedbackKind.CSAT: "CSAT",
    FeedbackKind.QUOTE: "Quote",
}
FEEDBACK_SOURCE_LABELS = {
    FeedbackSource.SURVEY: "Survey",
    FeedbackSource.API: "Survey tool",
    FeedbackSource.CALL: "Logged from a call",
}
SENTIMENT_LABELS = {
    Sentiment.PROMOTER: "promoter",
    Sentiment.PASSIVE: "passive",
    Sentiment.DETRACTOR: "detractor",
    Sentiment.SATISFIED: "satisfied",
    Sentiment.NEUTRAL: "neutral",
    Sentiment.DISSATISFIED: "dissatisfied",
}


ACRONYMS = {"kpi", "roi", "nps", "csat", "arr", "csm", "api"}


def score(value: Decimal | float | None) -> str:
    """Format a 0-100 score without decimals."""
    return "—" if value is None else f"{float(value):.0f}"


def label(value: object) -> str:
    """Turn an enum value or snake_case text into a readable label."""
    if isinstance(value, HealthBand):  # "at_risk" is also an outcome and a progress status
        return BAND_LABELS[value]
    for table in (ROLE_LABELS, SEGMENT_LABELS, CONSENT_LABELS):
        if value in table:
            return table[value]
    text = str(getattr(value, "value", value)).replace("_", " ").capitalize()
    return " ".join(w.upper() if w.lower() in ACRONYMS else w for w in text.split(" "))


def when(value: datetime | date | None) -> str:
    """Format a date or UTC timestamp briefly."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def escape_md(text: str | None) -> str:
    """Escape people's text so Streamlit markdown shows it literally (links, URLs included)."""
    return markdown_text(text) if text else ""
