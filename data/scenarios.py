"""What the data behind each metric goal does, and when.

A goal meant to be met gets one of three shapes that CS teams see when customers get there:

- **shift** — a team rolls out: the metric steps to a new level within 1-3 days and stays there
  (a level shift; verification celebrates it however big the jump);
- **ramp** — it climbs over one to four months and crosses the target on the way, with a few
  days either side of it (often "crossed and fell back" before it held);
- **flap** — it settles right around the target and keeps crossing and falling back (one win at
  most once a crossing holds).

A goal not meant to be met is a **stretch** still open, a **spike** (a lone one- or two-day spike
beyond the target that falls back: held for a CSM), or **met at start** (the metric already met
the target when the goal began, like CSAT 4.91 against 4.8: never a win).

When: a win happens either long ago (`history`: documented at the time, see data.win_history)
or in the last weeks before `as_of` (the backlog the jobs find on their first run). Targets are
read off the generated data afterwards (data.targets), so the shapes only need to be clear.
The first accounts carry one of each deliberate case (FORCED), whatever the size of the run.
"""

import random
import uuid
from datetime import date, timedelta

from data.catalog import HIGHER, METRIC
from data.goals import Goal
from data.usage import ALWAYS, DAYS, Shape

MET = (("shift", 45), ("ramp", 40), ("flap", 15))
NOT_MET = (("open", 92), ("spike", 4), ("met_at_start", 4))
HISTORY_SHARE = 0.85  # of wins, reached before the backlog weeks (documented at the time)
BACKLOG_DAYS = 28  # wins reached in these last days before as_of wait for the first run
# (scenario, KPI metric, when) of the first accounts' KPI goal, so every case is in every demo.
FORCED = (
    ("shift", "weekly_active_users", "recent"),
    ("shift", "ticket_resolution_hours", "recent"),
    ("spike", "weekly_active_users", None),
    ("met_at_start", "csat", None),
    ("flap", "feature_adoption", None),
    ("ramp", "time_saved_hours", "recent"),
    ("shift", "weekly_active_users", "history"),
    ("shift", "ticket_resolution_hours", "history"),
)
FORCED_KPI = {i: metric for i, (_, metric, _) in enumerate(FORCED)}
MET_AT_START_CSAT = 4.9  # the deliberate met-at-start CSAT goal's level


def index(day: date, as_of: date) -> int:
    """Return the series day index of `day` (0 = the first day of the year before as_of)."""
    return DAYS - (as_of - day).days


def day_of(i: int, as_of: date) -> date:
    """Return the date of series day index `i`."""
    return as_of - timedelta(days=DAYS - i)


def _size(rng: random.Random, key: str, low: float, high: float) -> float:
    """A lift in the metric's better direction, as a share of its level."""
    m = METRIC[key]
    if m.direction == HIGHER:
        return min(1.5, m.swing * rng.uniform(low, high))
    return -min(0.5, m.swing * rng.uniform(low + 0.15, high + 0.1))


def _crossing(rng: random.Random, goal: Goal, as_of: date, when: str | None) -> int:
    """Return the day index the win should come on: long ago ("history") or in the backlog weeks
    ("recent"); `when` None draws it."""
    start = index(goal.start, as_of)
    early = (start + 14, DAYS - BACKLOG_DAYS - 22)
    if when is None:
        when = "history" if rng.random() < HISTORY_SHARE else "recent"
    if when == "history" and early[1] - early[0] >= 10:
        return rng.randint(*early)
    return rng.randint(DAYS - BACKLOG_DAYS + 4, DAYS - 5)


def _shape(rng: random.Random, goal: Goal, as_of: date, scenario: str, when) -> Shape:
    start = index(goal.start, as_of)
    quiet = start - 31  # no random outliers from just before the goal began
    key = goal.metric
    if scenario == "shift":
        at = _crossing(rng, goal, as_of, when)
        days = rng.randint(1, 3)
        goal.window = (at, at + days, DAYS)
        lift = _size(rng, key, 0.45, 0.8)
        return Shape(flat=True, lift=lift, lift_at=at, lift_days=days, calm_from=quiet)
    if scenario == "ramp":
        end = _crossing(rng, goal, as_of, when)
        days = rng.randint(40, 110)
        at = max(start + 3, end - days)
        goal.window = (at, end, DAYS)
        lift = _size(rng, key, 0.5, 0.9)
        return Shape(flat=True, lift=lift, lift_at=at, lift_days=end - at, calm_from=quiet)
    if scenario == "flap":
        days = rng.randint(25, 50)
        at = rng.randint(start + 5, max(start + 5, DAYS - 60 - days))
        goal.window = (at, at + days, DAYS)
        lift = _size(rng, key, 0.4, 0.7)
        return Shape(flat=True, lift=lift, lift_at=at, lift_days=days, calm_from=quiet)
    if scenario == "spike":
        at, days = rng.randint(DAYS - 40, DAYS - 8), rng.randint(1, 2)
        blip = rng.uniform(2.0, 2.4) if METRIC[key].direction == HIGHER else rng.uniform(0.4, 0.5)
        goal.window = (at, at + days, DAYS)
        return Shape(flat=True, blip=blip, blip_at=at, blip_days=days, calm_from=quiet)
    if scenario == "met_at_start":
        level = MET_AT_START_CSAT if key == "csat" else None
        return Shape(flat=True, level=level, calm_from=quiet)
    return Shape()


def assign(rng: random.Random, goals: list[Goal], as_of: date) -> dict[uuid.UUID, dict[str, Shape]]:
    """Give every metric goal its scenario; return the shapes its series must follow."""
    shapes: dict[uuid.UUID, dict[str, Shape]] = {}
    for goal in goals:
        if not goal.metric:
            continue
        forced = FORCED[goal.account.index] if goal.account.index < len(FORCED) else None
        when = None
        if forced and goal.type == "kpi" and goal.metric == forced[1]:
            scenario, _, when = forced
        elif goal.metric == "automation_runs":  # weekend dips: a daily target never holds
            scenario = "open"
        else:
            pool = MET if goal.met else NOT_MET
            scenario = rng.choices([s for s, _ in pool], [w for _, w in pool])[0]
        goal.scenario = scenario
        goal.met = scenario in ("shift", "ramp", "flap")
        shapes.setdefault(goal.account.id, {})[goal.metric] = _shape(
            rng, goal, as_of, scenario, when
        )
    return shapes


def follow(
    goals: list[Goal],
    shapes: dict[uuid.UUID, dict[str, Shape]],
    moved: dict[uuid.UUID, dict[str, Shape]],
    as_of: date,
) -> None:
    """Let upsells shape the metrics they measure (`moved` into `shapes`), re-casting goals on them.

    A goal on a metric an upsell moves follows the upsell's lift: in the good direction and after
    the goal started, it is a ramp (a win when the data holds it); otherwise a stretch goal still
    open. A metric also reported for a goal, or by everyone, keeps its whole year of data.
    """
    for goal in goals:
        shape = moved.get(goal.account.id, {}).get(goal.metric or "")
        if shape is None:
            continue
        up = METRIC[goal.metric].direction == HIGHER
        good = shape.lift >= 0.15 if up else shape.lift <= -0.15
        settled = shape.lift_at + shape.lift_days
        if good and shape.lift_at > index(goal.start, as_of) + 7 and settled < DAYS - 3:
            goal.scenario, goal.met = "ramp", True
            goal.window = (shape.lift_at, settled, DAYS)
        else:
            goal.scenario, goal.met, goal.window = "open", False, None
    for account_id, by_metric in moved.items():
        own = shapes.setdefault(account_id, {})
        for key, shape in by_metric.items():
            if key in own or key == ALWAYS:
                shape.since = min(shape.since, 0)
            own[key] = shape
