"""The unrecorded-goals query finds the same goals, moments and kinds as the query it replaced.

`REFERENCE` below is the earlier query, which read every observation since each goal's start
and cut the series into runs with window functions; `unrecorded_goals` prunes and stops early.
Both run over generated goals (directions, ratio ROI goals, goals met at start that fell back,
consecutive overrides, milestone and overdue custom goals, goals already won) and periods.

Each example is checked three times: derived from the observations (no stored first reach yet),
read from what `refresh_first_reach` stored, and with half the goals edited since the refresh
(those derived again, the rest read from the store).

`UNRECORDED_EXAMPLES=2000 pytest tests/core/reporting/test_unrecorded_agreement.py` runs longer.
"""

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update

from core.audit.watermarks import write_watermark
from core.base import Direction
from core.goals.models import Goal, GoalStatus, GoalType
from core.goals.results import RATIO_UNITS
from core.reporting.unrecorded import (
    START_LOOKBACK_DAYS,
    WATERMARK,
    refresh_first_reach,
    unrecorded_goals,
)
from tests import factories as f

settings.register_profile(
    "unrecorded-agreement",
    max_examples=int(os.environ.get("UNRECORDED_EXAMPLES", "120")),
    deadline=None,
    database=None,
    # The same examples on every run: a difference fails every time, never by chance.
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NOW = f.NOW
PLACES = Decimal("0.0001")


# The earlier query, as it was.
def _meets(value: str) -> str:
    """SQL telling whether `value` meets the goal's target in its direction."""
    return (
        f"CASE WHEN s.direction = 'lower_is_better' THEN {value} <= s.target "
        f"ELSE {value} >= s.target END"
    )


def _measure(value: str) -> str:
    """SQL of what a ratio ROI goal compares: the value as a multiple of the cost."""
    return f"CASE WHEN s.ratio THEN {value} / s.cost ELSE {value} END"


REFERENCE = text(
    f"""
    WITH scope AS (
      SELECT g.id, g.customer_id, g.type::text AS type, g.name, g.metric_key, g.target,
             g.direction::text AS direction, g.baseline, g.start_date, g.due_date, g.cost,
             (g.type = 'roi' AND g.cost > 0 AND lower(trim(g.unit)) = ANY(:ratio_units)) AS ratio,
             greatest(coalesce(CASE WHEN jsonb_typeof(g.verification->'consecutive') = 'number'
                                    THEN (g.verification->>'consecutive')::numeric::int END, 3),
                      1) AS needed,
             g.start_date::timestamp AT TIME ZONE 'UTC' AS started,
             c.name AS customer_name, u.name AS csm_name
        FROM goals g
        JOIN customers c ON c.id = g.customer_id
        LEFT JOIN users u ON u.id = c.owner_csm_id
       WHERE g.status NOT IN ('cancelled', 'missed')
         AND NOT EXISTS (SELECT 1 FROM goal_achievements a WHERE a.goal_id = g.id)
         AND (CAST(:csm_id AS uuid) IS NULL OR c.owner_csm_id = CAST(:csm_id AS uuid))
         AND (CAST(:industry AS text) IS NULL OR lower(c.industry) = lower(:industry))
         AND (CAST(:goal_type AS text) IS NULL OR g.type::text = :goal_type)
    ), metric_goals AS (
      SELECT s.*, coalesce(
               (NOT s.ratio AND s.baseline IS NOT NULL AND {_meets("s.baseline")})
               OR {_meets(_measure("v.value"))}, false) AS met_at_start
        FROM scope s
        LEFT JOIN LATERAL (
          (SELECT b.value FROM metric_observations b
            WHERE b.customer_id = s.customer_id AND b.metric_key = s.metric_key
              AND b.observed_at < s.started
              AND b.observed_at >= s.started - make_interval(days => :lookback)
            ORDER BY b.observed_at DESC LIMIT 1)
          UNION ALL
          (SELECT a.value FROM metric_observations a
            WHERE a.customer_id = s.customer_id AND a.metric_key = s.metric_key
              AND a.observed_at >= s.started
            ORDER BY a.observed_at LIMIT 1)
          LIMIT 1
        ) v ON true
       WHERE s.type IN ('kpi', 'onboarding', 'roi') AND s.target IS NOT NULL
         AND s.metric_key IS NOT NULL
    ), points AS (
      SELECT s.id, s.needed, s.met_at_start, o.observed_at, {_meets(_measure("o.value"))} AS ok,
             row_number() OVER (PARTITION BY s.id ORDER BY o.observed_at) AS n_all
        FROM metric_goals s
        JOIN metric_observations o
          ON o.customer_id = s.customer_id AND o.metric_key = s.metric_key
         AND o.observed_at >= s.started AND o.observed_at <= :now
    ), stretches AS (  -- runs of consecutive points that meet (or miss) the target
      SELECT id, ok, min(observed_at) AS began, count(*) AS n, min(needed) AS needed,
             bool_and(met_at_start) AS met_at_start
        FROM (SELECT *, n_all - row_number() OVER (PARTITION BY id, ok ORDER BY observed_at)
                        AS stretch FROM points) p
       GROUP BY id, ok, stretch
    ), armed AS (  -- a goal met at start counts a crossing only after a sustained fall back
      SELECT *, coalesce(bool_or(NOT ok AND n >= needed) OVER (
                  PARTITION BY id ORDER BY began ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                false) AS fell_back
        FROM stretches
    ), reached AS (
      SELECT 'not_recorded' AS kind, id, min(began) AS at
        FROM armed WHERE ok AND n >= needed AND (NOT met_at_start OR fell_back)
       GROUP BY id
      UNION ALL
      SELECT 'milestones_done', s.id, max(m.completed_at)
        FROM scope s JOIN milestones m ON m.goal_id = s.id
       WHERE s.type IN ('success_plan', 'onboarding') AND s.metric_key IS NULL
       GROUP BY s.id
      HAVING bool_and(m.status IN ('done', 'skipped')) AND bool_or(m.status = 'done')
      UNION ALL
      SELECT 'custom_overdue', s.id, s.due_date::timestamp AT TIME ZONE 'UTC'
        FROM scope s WHERE s.type = 'custom' AND s.due_date < CAST(:today AS date)
    )
    SELECT r.kind, r.id AS goal_id, CAST(NULL AS uuid) AS achievement_id, s.customer_id,
           s.customer_name, s.name AS goal_name, s.csm_name, r.at
      FROM reached r JOIN scope s ON s.id = r.id
     WHERE r.at IS NOT NULL
       AND (CAST(:start AS timestamptz) IS NULL OR r.at >= CAST(:start AS timestamptz))
       AND (CAST(:end AS timestamptz) IS NULL OR r.at < CAST(:end AS timestamptz))
     ORDER BY r.at DESC, s.customer_name, s.name
    """
)

# How far a point lies from the target, as a fraction of it, on the side the goal wants.
LEVELS = {"hit": (0.0, 0.3), "miss": (-0.3, -0.01), "exact": (0.0, 0.0)}
RUNS = st.lists(
    st.tuples(st.sampled_from(["hit", "hit", "miss", "miss", "exact"]), st.integers(1, 7)),
    max_size=8,
)
CONSECUTIVE = st.sampled_from([None, 1, 2, 3, 4, 6, 0, -2, 2.6, "3"])
PERIODS = st.sampled_from(
    [
        (None, None),
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 10, 1), date(2026, 11, 15)),
        (date(2026, 11, 10), None),
        (None, date(2026, 10, 31)),
        (date(2026, 11, 19), date(2026, 11, 20)),
    ]
)


@dataclass
class Case:
    """One goal, its observations and what else it has."""

    type: GoalType
    status: GoalStatus
    direction: Direction
    target: Decimal | None
    cost: Decimal | None
    unit: str | None
    baseline: Decimal | None
    start: date
    consecutive: object
    points: dict[datetime, Decimal]
    milestones: list[str]
    due: date | None
    won: bool


def _stored(value: Decimal) -> Decimal:
    value = value.quantize(PLACES)
    return abs(value) if value == 0 else value


@st.composite
def cases(draw) -> Case:
    kind = draw(st.sampled_from(["kpi", "kpi", "onboarding", "ratio", "roi", "plan", "custom"]))
    direction = draw(st.sampled_from(list(Direction)))
    status = draw(st.sampled_from([GoalStatus.ACTIVE] * 4 + list(GoalStatus)))
    won = draw(st.integers(0, 7)) == 0
    start = NOW.date() - timedelta(days=draw(st.integers(-3, 70)))
    if kind in ("plan", "custom"):
        steps = ["done", "skipped", "open"]
        return Case(
            type=GoalType.SUCCESS_PLAN if kind == "plan" else GoalType.CUSTOM,
            status=status,
            direction=direction,
            target=None,
            cost=None,
            unit=None,
            baseline=None,
            start=start,
            consecutive=None,
            points={},
            milestones=draw(st.lists(st.sampled_from(steps), max_size=3)) if kind == "plan" else [],
            due=NOW.date() + timedelta(days=draw(st.integers(-60, 10))),
            won=won,
        )
    ratio = kind == "ratio"
    target = draw(
        st.decimals("0.5", "5", places=2) if ratio else st.decimals("-50", "500", places=2)
    )
    cost = (
        draw(st.decimals("10", "90000", places=2))
        if ratio
        else draw(st.none() | st.just(Decimal(500)))
    )
    unit = (
        draw(st.sampled_from(sorted(RATIO_UNITS) + ["X "]))
        if ratio
        else draw(st.sampled_from([None, "x", "users"]))
    )
    scale = target * cost if ratio else target
    sign = 1 if direction == Direction.HIGHER else -1
    values = []
    for level, length in draw(RUNS):
        low, high = LEVELS[level]
        for _ in range(length):
            offset = Decimal(str(round(draw(st.floats(low, high)), 4)))
            values.append(
                _stored(scale * (1 + sign * offset) if scale >= 0 else scale * (1 - sign * offset))
            )
    first = NOW - timedelta(
        days=len(values) + draw(st.integers(-5, 40)), hours=draw(st.integers(0, 23))
    )
    gaps = draw(
        st.lists(st.sampled_from([1, 1, 1, 0.3, 3]), min_size=len(values), max_size=len(values))
    )
    points, at = {}, first
    for value, gap in zip(values, gaps, strict=True):
        points[at] = max(value, Decimal(0)) if ratio else value
        at += timedelta(days=gap)
    return Case(
        type=GoalType.ROI if kind in ("ratio", "roi") else GoalType(kind),
        status=status,
        direction=direction,
        target=_stored(target),
        cost=cost,
        unit=unit,
        baseline=draw(st.none() | st.sampled_from(values[:2] or [target]).map(_stored)),
        start=draw(
            st.just(start) | st.just(first.date() + timedelta(days=draw(st.integers(-40, 20))))
        ),
        consecutive=draw(CONSECUTIVE),
        points=points,
        milestones=[],
        due=None,
        won=won,
    )


def _store(session, case: Case, n: int) -> None:
    cust = f.customer(session, name=f"Agreement {n}")
    key = f"agreement_{n}"
    if case.points or case.target is not None:
        f.metric(session, key, case.direction, case.unit or "units")
    goal = f.goal(
        session,
        cust,
        name=f"Goal {n}",
        type=case.type,
        status=case.status,
        metric_key=key if case.target is not None else None,
        target=case.target,
        baseline=case.baseline,
        direction=case.direction,
        cost=case.cost,
        start=case.start,
        unit=case.unit,
        due_date=case.due,
        verification={} if case.consecutive is None else {"consecutive": case.consecutive},
    )
    if case.points:
        f.observe_at(session, cust, key, case.points)
    if case.milestones:
        f.success_plan(session, cust, goal, case.milestones)
    if case.won:
        f.achievement(session, goal)


def _reference(session, date_from, date_to, goal_type):
    def midnight(day):
        return None if day is None else datetime.combine(day, datetime.min.time(), UTC)

    params = {
        "ratio_units": list(RATIO_UNITS),
        "lookback": START_LOOKBACK_DAYS,
        "csm_id": None,
        "industry": None,
        "goal_type": goal_type,
        "now": NOW,
        "today": NOW.date(),
        "start": midnight(date_from),
        "end": midnight(date_to + timedelta(days=1)) if date_to else None,
    }
    return [tuple(r) for r in session.execute(REFERENCE, params)]


def _found(session, date_from, date_to, goal_type):
    rows = unrecorded_goals(
        session=session, now=NOW, date_from=date_from, date_to=date_to, goal_type=goal_type
    )
    return [
        (
            r.kind,
            r.goal_id,
            r.achievement_id,
            r.customer_id,
            r.customer_name,
            r.goal_name,
            r.csm_name,
            r.at,
        )
        for r in rows
    ]


def _flapping(consecutive) -> Case:
    """A goal met at its start that falls back and crosses again, twice."""
    values = [Decimal(v) for v in (60, 60, 40, 40, 40, 61, 62, 63, 40, 40, 40, 64, 65, 66)]
    return Case(
        type=GoalType.KPI,
        status=GoalStatus.ACTIVE,
        direction=Direction.HIGHER,
        target=Decimal(55),
        cost=None,
        unit=None,
        baseline=None,
        start=(NOW - timedelta(days=20)).date(),
        consecutive=consecutive,
        points={NOW - timedelta(days=16 - i): v for i, v in enumerate(values)},
        milestones=[],
        due=None,
        won=False,
    )


@settings(settings.get_profile("unrecorded-agreement"))
@given(
    goals=st.lists(cases(), min_size=1, max_size=5),
    period=PERIODS,
    goal_type=st.sampled_from([None, None, None, "kpi", "roi", "success_plan"]),
)
@example(goals=[_flapping(3), _flapping(2), _flapping(4)], period=(None, None), goal_type=None)
@example(
    goals=[_flapping(3), _flapping(1)],
    period=(date(2026, 11, 8), date(2026, 11, 9)),
    goal_type=None,
)
def test_the_query_finds_what_the_reference_query_found(session, goals, period, goal_type):
    nested = session.begin_nested()
    try:
        session.execute(text("SET LOCAL TIME ZONE 'UTC'"))  # start dates are UTC midnights
        for n, case in enumerate(goals):
            _store(session, case, n)
        expected = _reference(session, *period, goal_type)
        assert _found(session, *period, goal_type) == expected, goals
        # Stored: every goal and series is older than the watermark, so none is derived.
        refresh_first_reach(session=session, now=NOW)
        after = session.scalar(select(func.now())) + timedelta(minutes=1)
        write_watermark(session, WATERMARK, after)
        assert _found(session, *period, goal_type) == expected, goals
        # Half the goals edited since: those are derived again, the others stay stored.
        ids = sorted(session.scalars(select(Goal.id)))
        session.execute(
            update(Goal).where(Goal.id.in_(ids[::2])).values(updated_at=after + timedelta(1))
        )
        assert _found(session, *period, goal_type) == expected, goals
        for kind in sorted({row[0] for row in expected}) or ["nothing found"]:
            event(kind)  # shown by --hypothesis-show-statistics
    finally:
        nested.rollback()
