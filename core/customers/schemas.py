"""Read models the customer list and detail views return."""

import enum
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import AwareDatetime, Field, field_validator

from core.base import Consent, Segment
from core.schemas import AMOUNT_LIMIT, CamelModel, InputModel, JsonNumber


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

    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(min_length=1, max_length=80)
    segment: Segment
    region: str = Field(min_length=1, max_length=40)
    arr: Decimal = Field(ge=0, lt=Decimal("1e12"), decimal_places=2)
    owner_csm_email: str | None = Field(None, max_length=254, description="An active user's email")
    health_score: Decimal | None = Field(
        None,
        ge=0,
        le=100,
        decimal_places=2,
        description="The CRM's own score, kept as the crm_health factor (null removes it); the "
        "answer's healthScore is the weighted mean of all factors",
    )
    consent_level: Consent | None = Field(None, description="internal_only when first created")
    use_case: str | None = Field(None, max_length=200)
    customer_since: date | None = None
    crm_id: str | None = Field(None, max_length=32, description="Salesforce account id")


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
    customer_id: str = Field(min_length=1, max_length=128, description="Our UUID or external id")
    metric: str = Field(min_length=1, max_length=64)
    value: Decimal = Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)
    observed_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset")
    source: str = Field("api", min_length=1, max_length=32)

    @field_validator("observed_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("must not be more than a day in the future")
        return value


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

    source_id: str = Field(
        min_length=1,
        max_length=128,
        description="The sending system's id of this event; sending it again changes nothing",
    )
    kind: str = Field(
        min_length=1,
        max_length=32,
        description="churn (the customer left), contraction (ARR given back) or renewal",
        json_schema_extra={"enum": list(EVENT_KINDS)},
    )
    occurred_on: date = Field(description="The day it took effect; at most a day ahead")
    arr_change: Decimal = Field(
        gt=-MONEY_LIMIT,
        lt=MONEY_LIMIT,
        decimal_places=2,
        description="ARR change: negative for churn and contraction, zero or more for a renewal",
    )
    note: str | None = Field(None, max_length=2000)


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
