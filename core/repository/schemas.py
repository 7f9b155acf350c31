"""Filters and read models of the value repository, and the text they turn into.

The text half (proof points, CSV, markdown) is pure: no session, so pages and tests call it freely.
"""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field, ValidationInfo, field_validator

from core.base import Consent
from core.goals.models import GoalType
from core.schemas import (
    NAME_LENGTH,
    Amount,
    CamelModel,
    Day,
    Forgiving,
    JsonNumber,
    SingleLine,
    accept_aliases,
)

# Amounts leave the API as JSON numbers; inside Python they stay exact Decimals.


class UsePurpose(enum.StrEnum):
    """Why someone used a proof point."""

    QBR = "qbr"
    RENEWAL = "renewal"
    SALES = "sales"
    MARKETING = "marketing"
    OTHER = "other"


accept_aliases(UsePurpose, {UsePurpose.QBR: ("quarterly business review", "business review")})


class RepositoryFilters(CamelModel):
    """What to look for; every filter set must match (AND), unset means any."""

    q: SingleLine | None = Field(
        None, max_length=NAME_LENGTH, description="Free text (web search syntax)"
    )
    industry: SingleLine | None = Field(None, max_length=80)
    use_case: SingleLine | None = Field(None, max_length=NAME_LENGTH)
    product: SingleLine | None = Field(None, max_length=64)
    goal_type: Forgiving[GoalType] | None = None
    date_from: Day | None = Field(None, description="Achieved on or after (inclusive)")
    date_to: Day | None = Field(None, description="Achieved on or before (inclusive)")
    value_min: Amount | None = None
    value_max: Amount | None = None
    consent: list[Forgiving[Consent]] | None = Field(
        None, description="Any of these consent levels"
    )

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

    total: int = Field(description="How many match; with `totalCapped`, at least this many")
    total_capped: bool = Field(
        False,
        description="True when more match than are counted (the total reads '1,000+'); a "
        "search then ranks the 1,000 newest matches",
    )
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )
    items: list[RepositoryItem]

    @property
    def total_text(self) -> str:
        """Say how many match: '42', or '1,000+' when the count was capped."""
        return f"{self.total:,}+" if self.total_capped else f"{self.total:,}"


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
    purpose: Forgiving[UsePurpose]


class UseOut(CamelModel):
    id: uuid.UUID
    usage_count: int
