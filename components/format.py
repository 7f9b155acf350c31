"""Turn domain values into the short labels people read (no Streamlit here)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from core.base import Consent, Direction, Role, Segment
from core.customers.feedback import Sentiment
from core.customers.models import FeedbackKind, FeedbackSource
from core.customers.schemas import HealthBand
from core.formatting import money  # noqa: F401  (pages format money through here too)
from core.integrations.escape import markdown_text
from core.outbox.models import Channel, DeliveryStatus
from core.repository.schemas import UsePurpose

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
TIMELINE_LABELS = {  # timeline_events.kind: what each kind of line is called on a badge
    "goal_achieved": "Win",
    "draft_approved": "Draft approved",
    "email_sent": "Email sent",
    "repository_use": "Win reused",
    "checkpoint_triggered": "Checkpoint",
    "upsell_review": "Upsell review",
    "upsell_outcome": "Upsell outcome",
    "upsell_amended": "Upsell amended",
    "upsell_contracted": "Upsell contracted",
    "churn": "Churn",
    "contraction": "Contraction",
    "renewal": "Renewal",
    "kickoff": "Kickoff",
    "qbr": "Quarterly business review",
    "training": "Training",
    "check_in": "Check-in",
    "escalation": "Escalation",
    "note": "Note",
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
DIRECTION_LABELS = {Direction.HIGHER: "Higher is better", Direction.LOWER: "Lower is better"}
CHANNEL_LABELS = {
    Channel.SLACK_MESSAGE: "Slack message",
    Channel.SLACK_DM: "Slack direct message",
    Channel.GMAIL: "Gmail",
    Channel.GOOGLE_DOC: "Google Doc",
    Channel.CALENDAR: "Google Calendar",
    Channel.SALESFORCE: "Salesforce",
}
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.PENDING: "Waiting",
    DeliveryStatus.IN_PROGRESS: "Sending",
    DeliveryStatus.SENT: "Sent",
    DeliveryStatus.FAILED: "Retrying",
    DeliveryStatus.DEAD: "Dead letter",
    DeliveryStatus.NOT_CONFIGURED: "Not configured",
}
USE_PURPOSE_LABELS = {
    UsePurpose.QBR: "QBR",
    UsePurpose.RENEWAL: "Renewal",
    UsePurpose.SALES: "Sales",
    UsePurpose.MARKETING: "Marketing",
    UsePurpose.OTHER: "Other",
}
# One table per enum: `label` looks a value up by its own enum, never by an equal string of
# another enum ("at_risk" is a health band, an outcome and a progress status).
ENUM_LABELS: dict[type, dict] = {
    Role: ROLE_LABELS,
    Segment: SEGMENT_LABELS,
    HealthBand: BAND_LABELS,
    Consent: CONSENT_LABELS,
    FeedbackKind: FEEDBACK_KIND_LABELS,
    FeedbackSource: FEEDBACK_SOURCE_LABELS,
    Direction: DIRECTION_LABELS,
    Channel: CHANNEL_LABELS,
    DeliveryStatus: DELIVERY_STATUS_LABELS,
    UsePurpose: USE_PURPOSE_LABELS,
}
# How a metric unit reads on its own (an axis title, a "Unit" cell); other units read as given.
UNIT_LABELS = {"met": "Met or not", "USD": "$", "score": "Score"}


ACRONYMS = {"kpi", "roi", "nps", "csat", "arr", "csm", "api", "smb", "qbr"}


def score(value: Decimal | float | None) -> str:
    """Format a 0-100 score without decimals."""
    return "—" if value is None else f"{float(value):.0f}"


def label(value: object) -> str:
    """Turn an enum value or snake_case text into a readable label."""
    table = ENUM_LABELS.get(type(value))
    if table and value in table:
        return table[value]
    if not isinstance(value, Enum):  # a stored string: the role, segment or consent it names
        for table in (ROLE_LABELS, SEGMENT_LABELS, CONSENT_LABELS):
            if value in table:
                return table[value]
    text = str(getattr(value, "value", value)).replace("_", " ").capitalize()
    return " ".join(w.upper() if w.lower() in ACRONYMS else w for w in text.split(" "))


def unit_label(unit: str | None) -> str:
    """Say what a metric's unit is on its own: 'Met or not' for a 0/1 criterion, '$' for USD."""
    unit = (unit or "").strip()
    return UNIT_LABELS.get(unit, unit)


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


def without_customer(text: str, customer: str) -> str:
    """Drop a leading customer name from `text` shown next to that name (the whole text if all)."""
    return text.removeprefix(customer).lstrip(" :,-–—") or text


def plural(n: int, word: str, words: str | None = None) -> str:
    """Count things in plain words: '1 plan', '12 plans', '1,204 plans' ('words' if irregular)."""
    return f"{n:,} {word if n == 1 else words or word + 's'}"
