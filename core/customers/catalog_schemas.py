"""The metrics catalogue as the API and the set-up page read and write it (camelCase JSON)."""

from pydantic import Field

from core.base import Direction
from core.customers.models import MetricKind
from core.schemas import (
    TEXT_LENGTH,
    CamelModel,
    Forgiving,
    InputModel,
    MultiLine,
    SingleLine,
)

KEY_PATTERN = r"[a-z][a-z0-9_]{1,63}"
KEY_RULE = (
    "2 to 64 characters: a lowercase letter, then lowercase letters, digits or underscores "
    "(e.g. weekly_active_users)"
)
METRIC_NAME_LENGTH = 120  # metrics.name
UNIT_LENGTH = 32  # metrics.unit


class MetricIn(InputModel):
    """A metric of the catalogue; optional fields left out keep their stored value."""

    name: SingleLine = Field(min_length=1, max_length=METRIC_NAME_LENGTH)
    unit: SingleLine = Field(
        min_length=1,
        max_length=UNIT_LENGTH,
        description="How its values read: users, %, hours, runs/day, USD, score; 'met' for 0/1. "
        "Fixed once observations, goals, plans, benchmarks or templates use the metric",
    )
    kind: Forgiving[MetricKind]
    direction: Forgiving[Direction] = Field(
        description="Which way is better. Fixed once observations, goals, plans, benchmarks or "
        "templates use the metric"
    )
    is_money: bool = Field(
        False,
        description="Values are money (savings, revenue): ROI realized sums them; false when "
        "creating and left out",
    )
    description: MultiLine | None = Field(None, max_length=TEXT_LENGTH)


class MetricOut(CamelModel):
    key: str
    name: str
    unit: str
    kind: MetricKind
    direction: Direction
    is_money: bool
    description: str | None
    used_by: list[str] = Field(
        description="What already holds numbers in this metric's terms (usage observations, "
        "goals, upsell plans, industry benchmarks, success templates); while it is not empty "
        "the unit and direction cannot change"
    )
