"""Read models of the landings: a CSM's day, the team's headlines, and outcome details."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel

from core.reporting.schemas import SuccessMetric


class TodayItem(BaseModel):
    """One thing waiting for a CSM, with what it is about and since when."""

    kind: Literal["draft", "held_win", "custom_goal", "overdue_checkpoint", "lagging_plan"]
    customer_name: str
    subject: str  # the draft's subject, the goal's name or the upsell's name
    since: date  # created, detected, due or started
    detail: str  # why it waits, in plain words
    plan_id: uuid.UUID | None = None  # checkpoints and lagging plans link to their plan


class TodayGroup(BaseModel):
    """All things of one kind waiting for a CSM: how many, and the oldest first."""

    total: int
    items: list[TodayItem]


class Today(BaseModel):
    """What needs a CSM today, each kind handled on its own page."""

    drafts: TodayGroup
    confirmations: TodayGroup
    checkpoints: TodayGroup
    lagging: TodayGroup

    @property
    def waiting(self) -> int:
        """How many things wait in all."""
        return sum(
            g.total for g in (self.drafts, self.confirmations, self.checkpoints, self.lagging)
        )


class Window(BaseModel):
    """A named run of days, both ends inclusive."""

    first: date
    last: date


class PeriodFigures(BaseModel):
    """Decided upsell plans of one period: how many, how many succeeded, goals met of goals."""

    decided: int
    success: int
    metrics: int
    met: int

    @property
    def success_rate(self) -> float | None:
        return self.success / self.decided if self.decided else None

    @property
    def value_realization(self) -> float | None:
        return self.met / self.metrics if self.metrics else None


class OutcomePeriods(BaseModel):
    """Plans whose outcome was decided in the current window against the window before it."""

    current_window: Window
    previous_window: Window
    current: PeriodFigures
    previous: PeriodFigures


class TeamHeadlines(BaseModel):
    """The team's wins of the last days against the days before, and the capture metric."""

    current_window: Window
    previous_window: Window
    wins: int
    previous_wins: int
    money_wins: int
    value: float
    capture: SuccessMetric | None  # the PRD capture metric over the current window


class OutcomePlan(BaseModel):
    """A plan behind the outcome charts: who, what, how it ended, and its goals."""

    measurement_id: uuid.UUID
    customer: str
    upsell: str
    product: str  # the product's key, as the report groups by ("none": no product line)
    product_name: str  # what people call it
    segment: str
    industry: str
    arr_band: str
    sales_rep: str
    outcome: str | None  # confirmed, else proposed; None: not decided
    confirmed: str | None
    metrics: int
    met: int
    signal_30: str | None
    predicted_success: float | None


class OutcomePlans(BaseModel):
    """The plans behind the outcome charts (at most `limit` of `total`)."""

    plans: list[OutcomePlan]
    total: int
    products: dict[str, str]  # product key -> name, for the charts' labels and filters
