"""What a valid success template is, and how its criteria and milestones are stored.

The stored shapes are the ones plans are drafted from (`core/upsell/targets.py`,
`core/upsell/milestones.py`): a criterion `{name, metricKey, type, unit, direction, measurement,
uplift, target}` where `uplift` is a share or `{segment: share}`, and a milestone `{name,
metricKey | criterion, threshold | share, dueDay}`. The rules:

- a criterion that reads a metric names one of the catalogue; its type, unit and direction are
  the metric's (given ones must agree), and it is measured automatically unless it says manual;
- a criterion without a metric is measured by hand: it needs a unit and a target, since there is
  no baseline at close to move from (so it takes no uplift);
- a met-or-not criterion (unit `met`) is higher-is-better, has no uplift and a target of 1;
- an uplift is given for every segment or per segment, never both; a lower-is-better one is a
  cut of less than 100%; levels in `%` lie within 0-100;
- a milestone watches a criterion of the same template (by name, or by the metric it reads),
  by a threshold or a share of the way to target, due no later than the last checkpoint day.

Each refusal is Invalid naming the field as the API spells it: `criteria[1].metricKey: …`.
"""

from decimal import Decimal

from core.base import Direction, Segment
from core.customers.models import MetricKind
from core.errors import Invalid
from core.upsell.catalog_schemas import (
    CriterionIn,
    CriterionOut,
    TemplateMilestoneIn,
    TemplateMilestoneOut,
)
from core.upsell.models import MeasurementMode
from core.upsell.target_rules import MET_UNIT

PERCENT = "%"
SEGMENTS = {s.value for s in Segment}


def json_number(value: Decimal | None) -> int | float | None:
    """Return a Decimal as the JSON number templates store (30, 0.15), or None."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _level(at: str, field: str, value: Decimal | None, unit: str, direction: Direction) -> None:
    if value is None:
        return
    if unit == PERCENT and not 0 <= value <= 100:
        raise Invalid(f"{at}.{field}: must be between 0 and 100 for a percentage.")
    if direction == Direction.HIGHER and value <= 0:
        raise Invalid(f"{at}.{field}: must be above 0 for a higher-is-better criterion.")
    if value < 0:
        raise Invalid(f"{at}.{field}: must not be negative.")


def _from_metric(at: str, c: CriterionIn, metric) -> tuple[MetricKind, str, Direction]:
    if metric is None:
        raise Invalid(
            f"{at}.metricKey: unknown metric '{c.metric_key}'; add it to the metrics catalogue "
            "first."
        )
    own = {"type": metric.kind, "unit": metric.unit, "direction": metric.direction}
    for field, stored in own.items():
        given = getattr(c, field)
        if given is not None and given != stored:
            shown = getattr(stored, "value", stored)
            raise Invalid(
                f"{at}.{field}: must be the metric's own ({shown}) for {metric.name}; leave it "
                "out to take it from the catalogue."
            )
    return metric.kind, metric.unit, metric.direction


def criterion_spec(at: str, c: CriterionIn, catalog: dict) -> dict:
    """Return the stored form of one criterion, or Invalid naming what is wrong with it."""
    if c.metric_key is not None:
        kind, unit, direction = _from_metric(at, c, catalog.get(c.metric_key))
        measurement = c.measurement or MeasurementMode.AUTOMATIC
    else:
        if c.measurement == MeasurementMode.AUTOMATIC:
            raise Invalid(
                f"{at}.metricKey: an automatically measured criterion needs a metric to read; "
                "leave measurement out for one measured by hand."
            )
        if c.unit is None:
            raise Invalid(f"{at}.unit: is required for a criterion measured by hand.")
        kind, unit = c.type or MetricKind.OUTCOME, c.unit
        direction, measurement = c.direction or Direction.HIGHER, MeasurementMode.MANUAL
    uplift = c.uplift
    if c.uplift is not None and c.uplift_by_segment is not None:
        raise Invalid(f"{at}.upliftBySegment: give uplift (every segment) or this, not both.")
    shares = [uplift] if uplift is not None else list((c.uplift_by_segment or {}).values())
    field = "uplift" if uplift is not None else "upliftBySegment"
    target = c.target
    if unit == MET_UNIT:
        if direction != Direction.HIGHER:
            raise Invalid(f"{at}.direction: a met-or-not criterion is higher-is-better (1: met).")
        if shares:
            raise Invalid(f"{at}.{field}: a met-or-not criterion has no uplift; it is met at 1.")
        if target is not None and target != 1:
            raise Invalid(f"{at}.target: a met-or-not criterion's target is 1 (met).")
        target = Decimal(1)
    elif measurement == MeasurementMode.MANUAL:
        if shares:
            raise Invalid(
                f"{at}.{field}: a criterion measured by hand has no baseline at close to move "
                "from; give a target instead."
            )
        if target is None:
            raise Invalid(
                f"{at}.target: is required for a criterion measured by hand (it has no baseline "
                "at close)."
            )
    if direction == Direction.LOWER and any(s >= 1 for s in shares):
        raise Invalid(
            f"{at}.{field}: a lower-is-better metric can be cut by less than 100% "
            "(0.2 = 20% below the baseline)."
        )
    _level(at, "target", target, unit, direction)
    spec = {
        "name": c.name,
        "metricKey": c.metric_key,
        "type": MetricKind(kind).value,
        "unit": unit,
        "direction": Direction(direction).value,
        "measurement": MeasurementMode(measurement).value,
        "target": json_number(target),
    }
    if uplift is not None:
        spec["uplift"] = json_number(uplift)
    elif c.uplift_by_segment:
        spec["uplift"] = {Segment(s).value: json_number(v) for s, v in c.uplift_by_segment.items()}
    return spec


def criteria_specs(criteria: list[CriterionIn], catalog: dict) -> list[dict]:
    """Return the stored criteria of a template; Invalid naming the first problem."""
    specs, seen = [], {}
    for i, c in enumerate(criteria):
        at = f"criteria[{i}]"
        if c.name in seen:
            raise Invalid(
                f"{at}.name: criteria[{seen[c.name]}] is already called '{c.name}'; each "
                "criterion needs its own name."
            )
        seen[c.name] = i
        specs.append(criterion_spec(at, c, catalog))
    return specs


def _watched(at: str, m: TemplateMilestoneIn, specs: list[dict]) -> dict:
    if m.criterion is None and m.metric_key is None:
        raise Invalid(f"{at}.criterion: name the criterion the milestone watches.")
    if m.criterion is not None and m.metric_key is not None:
        raise Invalid(f"{at}.metricKey: give criterion or metricKey, not both.")
    if m.criterion is not None:
        found = next((s for s in specs if s["name"] == m.criterion), None)
        if found is None:
            raise Invalid(
                f"{at}.criterion: no criterion of this template is called '{m.criterion}'."
            )
        return found
    found = next((s for s in specs if s["metricKey"] == m.metric_key), None)
    if found is None:
        raise Invalid(f"{at}.metricKey: no criterion of this template reads '{m.metric_key}'.")
    return found


def milestone_specs(
    milestones: list[TemplateMilestoneIn], specs: list[dict], last_day: int
) -> list[dict]:
    """Return the stored milestones of a template; Invalid naming the first problem."""
    stored, names = [], {}
    for i, m in enumerate(milestones):
        at = f"milestones[{i}]"
        spec = _watched(at, m, specs)
        if m.threshold is None and m.share is None:
            raise Invalid(
                f"{at}.threshold: give a level to reach, or a share of the way from baseline to "
                "target (0.5 = halfway)."
            )
        if m.threshold is not None and m.share is not None:
            raise Invalid(f"{at}.share: give threshold or share, not both.")
        direction = Direction(spec["direction"])
        if m.share is not None and direction == Direction.LOWER and spec["measurement"] == "manual":
            raise Invalid(
                f"{at}.share: {spec['name']} is lower-is-better and measured by hand, so it has no "
                "baseline to take a share from; give a threshold."
            )
        if m.threshold is not None and spec["unit"] == PERCENT and not 0 <= m.threshold <= 100:
            raise Invalid(f"{at}.threshold: must be between 0 and 100 for a percentage.")
        if m.due_day > last_day:
            raise Invalid(
                f"{at}.dueDay: must be at most the last checkpoint day ({last_day}); a later "
                "milestone is never laid out."
            )
        if m.name:
            if m.name in names:
                raise Invalid(
                    f"{at}.name: milestones[{names[m.name]}] is already called '{m.name}'."
                )
            names[m.name] = i
        row = {"name": m.name or None}
        row |= {"criterion": m.criterion} if m.criterion else {"metricKey": m.metric_key}
        row |= (
            {"threshold": json_number(m.threshold)}
            if m.threshold is not None
            else {"share": json_number(m.share)}
        )
        stored.append({k: v for k, v in row.items() if v is not None} | {"dueDay": m.due_day})
    return stored


def criterion_out(raw: dict) -> CriterionOut:
    """Return a stored criterion as the API shows it (also the demo's and older templates')."""
    uplift = raw.get("uplift")
    key = raw.get("metricKey")
    return CriterionOut(
        name=raw["name"],
        metric_key=key,
        type=raw.get("type") or MetricKind.OUTCOME,
        unit=raw.get("unit") or "",
        direction=raw.get("direction") or Direction.HIGHER,
        measurement=raw.get("measurement") or ("automatic" if key else "manual"),
        uplift=None if isinstance(uplift, dict) else _dec(uplift),
        uplift_by_segment={k: _dec(v) for k, v in uplift.items() if v is not None and k in SEGMENTS}
        if isinstance(uplift, dict)
        else None,
        target=_dec(raw.get("target")),
    )


def milestone_out(raw: dict) -> TemplateMilestoneOut:
    """Return a stored milestone as the API shows it."""
    return TemplateMilestoneOut(
        name=raw.get("name"),
        criterion=raw.get("criterion"),
        metric_key=raw.get("metricKey"),
        threshold=_dec(raw.get("threshold")),
        share=_dec(raw.get("share")),
        due_day=int(raw.get("dueDay") or 0),
    )
