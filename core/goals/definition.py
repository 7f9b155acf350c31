"""What every goal must be, however it comes in: the API's upserts and the app's forms.

`settle` completes a goal's values from the metrics catalogue (its unit, its default direction)
and refuses what breaks a rule, each problem naming the field as the API calls it:

- the metric must be in the catalogue (`metric: unknown metric 'x'`);
- the rules of the goal's type (`core.goals.schemas.goal_problems`): kpi and roi goals need a
  metric and a target, success-plan goals milestones and no metric, and so on;
- a stated baseline and target must point the goal's way: the target strictly above the baseline
  when higher is better, below it when lower is better (`target: must be above the baseline 40
  users for a higher-is-better goal`). A ratio ROI goal is exempt: its baseline is in the
  metric's money, its target a multiple of the cost. A goal stored before this rule keeps its
  numbers as long as they do not change.
"""

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.base import Direction
from core.customers.models import Metric
from core.errors import Invalid
from core.formatting import number
from core.goals.results import is_ratio_goal
from core.goals.schemas import goal_problems

# Changing one of these makes the baseline/target rule apply again to a stored goal.
SIDE = ("baseline", "target", "direction")


def settle(
    *, session: Session, values: dict, milestones: int, before: Mapping | None = None
) -> dict:
    """Return `values` with the metric's unit and default direction; Invalid naming each field.

    `values` holds the goal's columns (type, metric_key, baseline, target, direction, unit,
    start_date, due_date, cost); `before` the stored goal when it is an edit.
    """
    metric = None
    if values["metric_key"] is not None:
        metric = session.execute(
            select(Metric.unit, Metric.direction).where(Metric.key == values["metric_key"])
        ).first()
        if metric is None:
            raise Invalid(f"metric: unknown metric '{values['metric_key']}'.")
        values["unit"] = metric.unit
    if values["direction"] is None:
        values["direction"] = metric.direction if metric else Direction.HIGHER
    problems = goal_problems({**values, "metric": values["metric_key"]}, milestones)
    if side := _side_problem(values, before):
        problems.append(side)
    if problems:
        raise Invalid("; ".join(problems) + ".")
    return values


def _side_problem(values: dict, before: Mapping | None) -> str | None:
    """Say why the target does not lie beyond the baseline in the goal's direction, or None."""
    baseline, target = values["baseline"], values["target"]
    if baseline is None or target is None:
        return None
    if is_ratio_goal(values["type"], values["cost"], values["unit"]):
        return None
    if before is not None and all(values[k] == before[k] for k in SIDE):
        return None
    higher = Direction(values["direction"]) == Direction.HIGHER
    if (Decimal(target) > Decimal(baseline)) if higher else (Decimal(target) < Decimal(baseline)):
        return None
    side, kind = ("above", "higher") if higher else ("below", "lower")
    return (
        f"target: must be {side} the baseline {number(baseline, values['unit'])} for a "
        f"{kind}-is-better goal"
    )
