"""Read models the customer list and detail views return."""

import enum
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from core.base import Consent, Segment
from core.customers.models import CustomerEventKind, FeedbackKind, MetricKind
from core.schemas import (
    EMAIL_LENGTH,
    ID_LENGTH,
    NAME_LENGTH,
    NOTE_LENGTH,
    Amount,
    CamelModel,
    Day,
    Forgiving,
    HappenedAt,
    InputModel,
    JsonNumber,
    MultiLine,
    ObservedAt,
    SingleLine,
    accept_aliases,
)

# How CRMs, survey tools and people spell these kinds besides our values (`Forgiving[...]`).
accept_aliases(
    MetricKind,
    {
        MetricKind.ROI: ("return on investment",),
        MetricKind.SATISFACTION: ("customer satisfaction", "sentiment"),
        MetricKind.OUTCOME: ("business outcome",),
    },
)
accept_aliases(
    FeedbackKind,
    {
        FeedbackKind.NPS: ("net promoter score", "net promoter"),
        FeedbackKind.CSAT: ("customer satisfaction score", "customer satisfaction"),
    },
)
accept_aliases(
    CustomerEventKind,
    {
        CustomerEventKind.CHURN: ("churned", "lost", "cancellation"),
        CustomerEventKind.CONTRACTION: ("downgrade", "downsell", "reduction"),
        CustomerEventKind.RENEWAL: ("renewed",),
    },
)


class HealthBand(enum.StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at_risk"
    UNKNOWN = "unknown"


MAX_OBSERVATIONS = 10_000


FUTURE_TOLERANCE = timedelta(days=1)
MONEY_LIMIT = Decimal("1e12")  # Numeric(14, 2)


class CustomerIn(InputModel):
    """A customer as the source system knows it; omitted optional fields keep stored values."""

    name: SingleLine = Field(min_length=1, max_length=NAME_LENGTH)
    industry: SingleLine = Field(min_length=1, max_length=80)
    segment: Forgiving[Segment]
    region: SingleLine = Field(min_length=1, max_length=40)
    arr: Decimal = Field(ge=0, lt=Decimal("1e12"), decimal_places=2)
    owner_csm_email: SingleLine | None = Field(
        None, max_length=EMAIL_LENGTH, description="An active user's email"
    )
    health_score: Decimal | None = Field(
        None,
        ge=0,
        le=100,
        decimal_places=2,
        description="The CRM's own score, kept as the crm_health factor (null removes it); the "
        "answer's healthScore is the weighted mean of all factors",
    )
    consent_level: Forgiving[Consent] | None = Field(
        None, description="internal_only when first created"
    )
    use_case: SingleLine | None = Field(None, max_length=NAME_LENGTH)
    customer_since: Day | None = None
    crm_id: SingleLine | None = Field(None, max_length=32, description="Salesforce account id")


class CustomerOut(CamelModel):
    id: uuid.UUID
    external_id: str
    crm_id: str | None
    name: str
    industry: str
    segment: Segment
    region: str
    arr: JsonNumber
    owner_csm_email: str | None
    health_score: JsonNumber | None
    consent_level: Consent
    use_case: str | None
    customer_since: date | None
    created_at: datetime
    updated_at: datetime


class ObservationIn(InputModel):
    customer_id: SingleLine = Field(
        min_length=1, max_length=ID_LENGTH, description="Our UUID or external id"
    )
    metric: SingleLine = Field(min_length=1, max_length=64)
    value: Amount
    observed_at: ObservedAt
    source: SingleLine = Field("api", min_length=1, max_length=32)


class UsageIn(InputModel):
    observations: list[ObservationIn] = Field(
        min_length=1, description=f"At most {MAX_OBSERVATIONS:,} per request"
    )


class UsageResult(CamelModel):
    received: int
    inserted: int
    updated: int
    unchanged: int


EVENT_KINDS = ("churn", "contraction", "renewal")


class CustomerEventIn(InputModel):
    """A churn, contraction or renewal as the sending system knows it."""

    source_id: SingleLine = Field(
        min_length=1,
        max_length=ID_LENGTH,
        description="The sending system's id of this event; sending it again changes nothing",
    )
    kind: Forgiving[CustomerEventKind] = Field(
        description="churn (the customer left), contraction (ARR given back) or renewal"
    )
    occurred_on: Day = Field(description="The day it took effect; at most a day ahead")
    arr_change: Decimal = Field(
        gt=-MONEY_LIMIT,
        lt=MONEY_LIMIT,
        decimal_places=2,
        description="ARR change: negative for churn and contraction, zero or more for a renewal",
    )
    note: MultiLine | None = Field(None, max_length=NOTE_LENGTH)


class CustomerEventOut(CamelModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    source: str
    source_id: str
    kind: str
    occurred_on: date
    arr_change: JsonNumber
    note: str | None
    created_at: datetime
    updated_at: datetime


class HealthFactorOut(CamelModel):
    """One factor of the combined health score: its value, weight and where it comes from."""

    factor: str = Field(description="goal_attainment, upsell_realization, adoption, crm_health")
    label: str
    score: JsonNumber = Field(description="0-100")
    weight: JsonNumber
    share: float = Field(description="The factor's weight ÷ the weights of the factors present")
    source: str = Field(description="Which part of the system wrote it")
    explanation: str
    details: dict
    updated_at: datetime


class CustomerHealthOut(CamelModel):
    """A customer's combined health score and the factors it is the weighted mean of."""

    customer_id: uuid.UUID
    external_id: str | None
    name: str
    score: JsonNumber | None = Field(description="Weighted mean of the factors present (0-100)")
    band: HealthBand
    method: str
    factors: list[HealthFactorOut]
    weights: dict[str, JsonNumber] = Field(description="The weight of every known factor")
    computed_at: datetime | None = Field(description="When the app last set the combined score")


# One line, an @, a dotted domain; stored lower-cased so the same address always matches.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
PERSON_LENGTH = 120  # customer_contacts.name and .title, the feedback's respondent


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "must be an email address, e.g. name@company.com")
    return value


Email = Annotated[SingleLine, AfterValidator(_email)]


class ContactIn(InputModel):
    """A contact as the CRM or a CSM gives it; an omitted title or primary keeps the stored one."""

    name: SingleLine = Field(min_length=1, max_length=PERSON_LENGTH)
    email: Email = Field(
        max_length=EMAIL_LENGTH, description="Stored lower-cased; one contact per email"
    )
    title: SingleLine | None = Field(None, max_length=PERSON_LENGTH, description="Job title")
    primary: bool | None = Field(
        None,
        strict=True,
        description="true: the customer's primary contact (congratulations emails, feedback "
        "requests), and the one before stops being it; false: the role passes to another "
        "contact; omitted: unchanged. A customer's first contact is its primary one.",
    )


class ContactOut(CamelModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    external_id: str | None = Field(description="The CRM's id; null for contacts added by a CSM")
    name: str
    email: str
    title: str | None
    primary: bool
    created_at: datetime
    updated_at: datetime


FEEDBACK_KINDS = ("nps", "csat")  # what surveys send; a quote without a score is logged by a CSM


class RespondentIn(InputModel):
    """Who answered; an email that matches one of the customer's contacts links the two."""

    name: SingleLine | None = Field(None, max_length=PERSON_LENGTH)
    title: SingleLine | None = Field(None, max_length=PERSON_LENGTH, description="Job title")
    email: Email | None = Field(None, max_length=EMAIL_LENGTH)


class FeedbackIn(InputModel):
    """An NPS or CSAT response as the survey tool knows it."""

    source_id: SingleLine = Field(
        min_length=1,
        max_length=ID_LENGTH,
        description="The sending system's id of this response; sending it again changes nothing",
    )
    kind: SingleLine = Field(
        min_length=1,
        max_length=32,
        description="nps (scored 0-10) or csat (scored 1-5)",
        json_schema_extra={"enum": list(FEEDBACK_KINDS)},
    )
    score: int = Field(ge=0, le=10, strict=True, description="NPS 0-10, CSAT 1-5")
    comment: MultiLine | None = Field(
        None,
        max_length=NOTE_LENGTH,
        description="The respondent's words; positive ones are quoted in success records",
    )
    respondent: RespondentIn | None = None
    responded_at: HappenedAt


class QuoteIn(InputModel):
    """Words a CSM heard from the customer (say on a call), with a score when one was given."""

    quote: MultiLine = Field(min_length=1, max_length=NOTE_LENGTH)
    respondent_name: SingleLine = Field(min_length=1, max_length=PERSON_LENGTH)
    respondent_title: SingleLine | None = Field(None, max_length=PERSON_LENGTH)
    respondent_email: Email | None = Field(None, max_length=EMAIL_LENGTH)
    said_on: Day
    kind: SingleLine | None = Field(None, max_length=32, description="nps or csat, with a score")
    score: int | None = Field(None, strict=True, ge=0, le=10)


class RespondentOut(CamelModel):
    name: str | None
    title: str | None
    email: str | None
    contact_id: uuid.UUID | None = Field(description="The contact this feedback is linked to")


class FeedbackOut(CamelModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: str = Field(description="nps, csat, or quote (logged by a CSM, no score)")
    score: int | None
    comment: str | None
    respondent: RespondentOut
    responded_at: datetime
    source: str = Field(description="api, call (logged by a CSM) or survey (imported)")
    source_id: str | None
    quotable: bool = Field(
        description="Positive and long enough for success records to quote it (NPS 9-10, "
        "CSAT 4-5 or a logged quote; at least 30 characters)"
    )


class FeedbackPage(CamelModel):
    total: int
    items: list[FeedbackOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )
