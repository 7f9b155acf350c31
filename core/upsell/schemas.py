"""Inputs and read models of upsells and their measurement plans (camelCase in JSON)."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator

from core.base import Direction
from core.customers.models import MetricKind
from core.errors import Invalid
from core.schemas import CamelModel
from core.upsell.models import CheckpointStatus, MeasurementMode, UpsellType

MAX_CHECKPOINT_DAY = 730

M = TypeVar("M", bound=CamelModel)


def validated(model: type[M], data) -> M:
    """Return `data` as `model`, raising Invalid with every problem spelled out."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        raise Invalid(problems) from None


class ManualUpsell(CamelModel):
    """An upsell a CSM enters by hand (zero ARR is a valid no-charge expansion)."""

    customer_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    type: UpsellType
    arr_increase: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    close_date: date
    products: list[str] = Field(default_factory=list)
    sales_rep_name: str | None = Field(default=None, max_length=120)
    stated_criteria: str | None = None

    @field_validator("name", "sales_rep_name", "stated_criteria", mode="before")
    @classmethod
    def _strip(cls, value):
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("products")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))

    @field_validator("close_date")
    @classmethod
    def _closed(cls, value: date) -> date:
        if value > datetime.now(UTC).date():
            raise ValueError("a closed upsell cannot close in the future")
        return value

    def lines(self) -> dict[str, Decimal]:
        """Return each product's share of the ARR (the rounding cents go to the first)."""
        if not self.products:
            return {}
        share = (self.arr_increase / len(self.products)).quantize(Decimal("0.01"))
        first = self.arr_increase - share * (len(self.products) - 1)
        return {code: first if i == 0 else share for i, code in enumerate(self.products)}


def upsell_type(raw: str | None) -> UpsellType:
    """Map a CRM opportunity type ("Cross-Sell", "Upsell" …) to ours; expansion otherwise."""
    value = (raw or "").strip().lower().replace("-", "_").replace(" ", "_")
    return UpsellType(value) if value in set(UpsellType) else UpsellType.EXPANSION


def opportunity_lines(items: list[dict]) -> dict[str, tuple[int, Decimal, str]]:
    """Merge CRM line items by product code into {code: (quantity, ARR, name)}; skip codeless."""
    lines: dict[str, tuple[int, Decimal, str]] = {}
    for item in items:
        code = (item.get("code") or "").strip()
        if code:
            qty, arr, _ = lines.get(code, (0, Decimal(0), ""))
            qty += max(1, round(item.get("quantity") or 1))
            arr += Decimal(str(item.get("arr") or 0)).quantize(Decimal("0.01"))
            lines[code] = (qty, arr, item.get("name") or code)
    return lines


class MetricChange(CamelModel):
    """Add, update or remove one criterion of a plan (matched by name)."""

    action: Literal["add", "update", "remove"]
    name: str = Field(min_length=1, max_length=120)
    metric_key: str | None = None
    type: MetricKind | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=32)
    direction: Direction | None = None
    measurement: MeasurementMode | None = None
    baseline: Decimal | None = Field(default=None, ge=0)
    target: Decimal | None = Field(default=None, ge=0)

    @field_validator("name", mode="before")
    @classmethod
    def _strip_name(cls, value):
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self):
        if self.action == "add":
            missing = [
                f for f in ("type", "unit", "direction", "target") if getattr(self, f) is None
            ]
            if missing:
                raise ValueError(f"a new criterion needs {', '.join(missing)}")
            if self.measurement is None:
                self.measurement = (
                    MeasurementMode.AUTOMATIC if self.metric_key else MeasurementMode.MANUAL
                )
        automatic = self.measurement == MeasurementMode.AUTOMATIC
        if automatic and self.action == "add" and not self.metric_key:
            raise ValueError("an automatic criterion needs a metric key")
        for value in (self.target, self.baseline):
            if self.unit == "%" and value is not None and value > 100:
                raise ValueError("a percentage cannot exceed 100")
        return self


class PlanChanges(CamelModel):
    """A CSM's customization of a plan: criteria changes and, optionally, new checkpoint days."""

    metrics: list[MetricChange] = Field(default_factory=list)
    checkpoint_days: list[int] | None = None

    @field_validator("checkpoint_days")
    @classmethod
    def _increasing(cls, days: list[int] | None) -> list[int] | None:
        if days is None:
            return None
        if not days:
            raise ValueError("a plan needs at least one checkpoint")
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError("checkpoint days must be strictly increasing")
        if days[0] < 1 or days[-1] > MAX_CHECKPOINT_DAY:
            raise ValueError(f"checkpoint days must lie between 1 and {MAX_CHECKPOINT_DAY}")
        return days


def note(kind: str, text_: str, **extra) -> dict:
    """Return a plan note (one entry of `upsell_measurements.plan_notes`)."""
    return {"kind": kind, "text": text_, **extra}


@dataclass
class Draft:
    """The criteria, checkpoint days and notes worked out for one upsell's plan."""

    metrics: dict[str, dict] = field(default_factory=dict)
    days: set[int] = field(default_factory=set)
    notes: list[dict] = field(default_factory=list)


class PlanMetric(CamelModel):
    """One criterion of a plan."""

    id: uuid.UUID
    name: str
    metric_key: str | None
    type: MetricKind
    unit: str
    direction: Direction
    measurement: MeasurementMode
    baseline: Decimal | None
    target: Decimal
    origin: str
    position: int


class PlanCheckpoint(CamelModel):
    """One checkpoint of a plan."""

    day: int
    kind: str
    due_on: date
    status: CheckpointStatus


class Plan(CamelModel):
    """A measurement plan with its criteria and checkpoints."""

    id: uuid.UUID
    upsell_id: uuid.UUID
    started_on: date
    horizon_days: int
    predicted_success: Decimal | None
    prediction_basis: dict
    health_before: Decimal | None
    planned_products: list[str]
    removed_metrics: list[str]
    plan_notes: list
    version: int
    created_at: datetime
    metrics: list[PlanMetric]
    checkpoints: list[PlanCheckpoint]


class PlanLatencyRow(CamelModel):
    """How long one upsell waited for its plan."""

    measurement_id: uuid.UUID
    upsell_id: uuid.UUID
    known_at: datetime
    planned_at: datetime
    hours: float


class PlanLatency(CamelModel):
    """Plan latency per plan, coverage (plans ÷ upsells) and the share planned within 48 h."""

    rows: list[PlanLatencyRow]
    upsells: int
    planned: int
    coverage: float
    within_48h: int
    within_48h_share: float
    median_hours: float | None


# Stated success criteria -------------------------------------------------------------------
# Simple forms only: a metric named by a keyword plus an absolute number ("reach 80% adoption",
# "save 40 hours a week", "resolution time under 8 hours") or a relative change ("cut resolution
# time by 30%", "in half", "double"), resolved against the baseline. Anything else is kept as a
# manual criterion carrying the sentence itself.
_KEYWORDS = (
    ("adoption", "feature_adoption"),
    ("onboarding", "onboarding_completion"),
    ("active users", "weekly_active_users"),
    ("automation runs", "automation_runs"),
    ("resolution", "ticket_resolution_hours"),
    ("csat", "csat"),
    ("cost savings", "cost_savings"),
    ("hours a week", "time_saved_hours"),
    ("hours per week", "time_saved_hours"),
)
_TIME = re.compile(r"\b(?:day|week|month|quarter)\s+\d+|\d+\s*(?:days?|weeks?|months?|quarters?)\b")
_RELATIVE = re.compile(r"\bby (\d+(?:\.\d+)?)\s*%|\bin half\b|\bdouble")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LOWER = re.compile(r"\b(?:cut|reduce|lower|decrease|shrink)")
MANUAL_CRITERION = {
    "metric_key": None,
    "type": "outcome",
    "unit": "met",
    "target": Decimal(1),
    "direction": Direction.HIGHER.value,
    "measurement": "manual",
}


def criteria_sentences(stated: str | None) -> list[str]:
    """Split stated success criteria into sentences (at most 120 characters each)."""
    parts = re.split(r"(?<=[.;!?])\s+|\n+", stated or "")
    return [p.strip().rstrip(".;").strip()[:120] for p in parts if p.strip().rstrip(".;").strip()]


def parse_criterion(sentence: str, catalog) -> dict:
    """Return the criterion a sentence states: automatic when it is a simple form, else manual."""
    low = sentence.lower()
    key = next((k for word, k in _KEYWORDS if word in low and k in catalog), None)
    if key is None:
        return {**MANUAL_CRITERION, "origin": "stated"}
    metric = catalog[key]
    spec = {
        "metric_key": key,
        "type": metric.kind,
        "unit": metric.unit,
        "origin": "stated",
        "direction": metric.direction,
        "measurement": "automatic",
    }
    rest = _TIME.sub(" ", low)
    if found := _RELATIVE.search(rest):
        if found.group(1):
            change = Decimal(found.group(1)) / 100
            return {**spec, "factor": 1 - change if _LOWER.search(rest) else 1 + change}
        return {**spec, "factor": Decimal("0.5") if "in half" in found.group(0) else Decimal(2)}
    number = _NUMBER.search(rest)
    if number is None or (metric.unit == "%" and Decimal(number.group(0)) > 100):
        return {**MANUAL_CRITERION, "origin": "stated"}
    return {**spec, "target": Decimal(number.group(0))}
