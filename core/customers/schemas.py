"""Read models the customer list and detail views return."""

import enum
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import Field

from core.base import Consent, Segment
from core.schemas import (
    EMAIL_LENGTH,
    ID_LENGTH,
    NAME_LENGTH,
    NOTE_LENGTH,
    Amount,
    CamelModel,
    Day,
    InputModel,
    JsonNumber,
    MultiLine,
    ObservedAt,
    SingleLine,
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
    segment: Segment
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
    consent_level: Consent | None = Field(None, description="internal_only when first created")
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
    kind: SingleLine = Field(
        min_length=1,
        max_length=32,
        description="churn (the customer left), contraction (ARR given back) or renewal",
        json_schema_extra={"enum": list(EVENT_KINDS)},
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
