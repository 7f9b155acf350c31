"""The value pack of one customer: its wins before and after, ROI, upsell outcomes and summary."""

import enum
import uuid
from datetime import date, datetime

from pydantic import Field

from core.base import Consent
from core.outbox.models import DeliveryStatus
from core.repository.schemas import UsePurpose
from core.schemas import CamelModel, Forgiving, InputModel, JsonNumber, accept_aliases


class PackAudience(enum.StrEnum):
    """Who a value pack is for."""

    INTERNAL = "internal"  # CS staff: everything, names included
    CUSTOMER = "customer"  # to share: the repository's consent rules apply


accept_aliases(
    PackAudience,
    {
        PackAudience.INTERNAL: ("team", "cs"),
        PackAudience.CUSTOMER: ("share", "shared", "external", "share with the customer"),
    },
)


class PackFormat(enum.StrEnum):
    """The files a value pack downloads as."""

    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"


class PackWin(CamelModel):
    """One verified win with its before (baseline) and after (achieved) figures."""

    achievement_id: uuid.UUID
    entry_id: uuid.UUID | None = Field(description="Its value-repository entry, if filed")
    title: str
    measure: str = Field(description="What was measured: the metric, or the goal's kind")
    result: str = Field(description="The win in one sentence, direction- and baseline-aware")
    unit: str | None
    is_money: bool
    lower_is_better: bool
    baseline: JsonNumber | None
    baseline_note: str = Field(
        description="Where the baseline came from, or that there is none (no figure invented)"
    )
    achieved: JsonNumber | None
    target: JsonNumber | None
    improvement: float | None = Field(
        description="Better than the baseline, as a fraction (0.25 = 25% better); direction-"
        "aware; null without a baseline"
    )
    started_on: date
    achieved_on: date
    days_to_achieve: int
    verification: str

    @property
    def has_before_after(self) -> bool:
        """Whether the win has both a before and an after figure to chart."""
        return self.baseline is not None and self.achieved is not None


class RoiLine(CamelModel):
    """A return figure with what it rests on."""

    source: str = Field(description="The win or the expansion it comes from")
    text: str
    basis: list[str] = []
    multiple: JsonNumber | None = None


class CriterionLine(CamelModel):
    """One success criterion of an expansion: baseline at close, target, current value."""

    name: str
    unit: str
    lower_is_better: bool
    baseline: JsonNumber | None
    target: JsonNumber
    current: JsonNumber | None
    improvement: float | None
    text: str


class UpsellLine(CamelModel):
    """One expansion and how its success measurement turned out so far."""

    measurement_id: uuid.UUID
    name: str
    products: list[str]
    arr_increase: JsonNumber
    close_date: date
    outcome: str = Field(description="The outcome in words: confirmed, proposed, or in progress")
    criteria: list[CriterionLine]
    roi: str | None


class PackSection(CamelModel):
    """A titled list of lines (quotes, how the figures were measured)."""

    heading: str
    lines: list[str]


class PackSummary(CamelModel):
    """The headline figures, each with its honest denominator."""

    wins: int
    measured_wins: int = Field(description="Wins with both a baseline and a result")
    upsells: int
    decided_upsells: int
    successful_upsells: int
    headlines: list[str]


class ValuePack(CamelModel):
    """Everything one value pack says, as its audience may read it."""

    customer_id: uuid.UUID
    customer_label: str = Field(description="The name, or a description when it may not be named")
    named: bool
    consent_level: Consent
    audience: PackAudience
    title: str
    prepared_on: date
    summary: PackSummary
    wins: list[PackWin]
    roi: list[RoiLine]
    upsells: list[UpsellLine]
    sections: list[PackSection]


class PackRequestIn(InputModel):
    """What to put in the Google Doc."""

    audience: Forgiving[PackAudience] = PackAudience.CUSTOMER
    purpose: Forgiving[UsePurpose] = Field(
        UsePurpose.QBR, description="Recorded with each win's use in the value repository"
    )


class PackDoc(CamelModel):
    """Where the Google Doc of one pack stands."""

    status: DeliveryStatus
    doc_url: str | None
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class PackRequestOut(CamelModel):
    """The Google Doc queued for a value pack (once per customer, day and audience)."""

    idempotency_key: str
    delivery_id: uuid.UUID
    queued: bool = Field(description="False when today's pack for this audience was queued before")
    status: DeliveryStatus
    doc_url: str | None
    title: str
    audience: PackAudience
    wins: int
    entries_used: int = Field(description="Value-repository entries whose use was recorded now")
    requested_at: datetime
