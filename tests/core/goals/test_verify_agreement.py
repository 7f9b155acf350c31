"""Verification in SQL reaches the verdicts of the readable rules on generated goals and series.

`core.goals.verify_sql` and `core.goals.verify` report the same goals, with the same status,
moment, value, confidence, wording, evidence, baseline and improvement.

The reference below wires `verify.evaluate` the way detection did before verification moved
into SQL: the latest 60 observations since the start, the value at the start, ratio goals
measured as value ÷ cost, the stored state deciding once the window is cut short.

`VERIFY_EXAMPLES=2000 pytest tests/core/goals/test_verify_agreement.py` runs a longer search.
"""

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core.base import Direction
from core.goals.models import GoalStatus, GoalType
from core.goals.results import is_ratio_goal
from core.goals.verify import Point, Start, Verdict, evaluate, rules_for
from core.goals.verify_sql import RECENT, START_LOOKBACK_DAYS, judge
from tests import factories as f

settings.register_profile(
    "verify-agreement",
    max_examples=int(os.environ.get("VERIFY_EXAMPLES", "150")),
    deadline=None,
    database=None,
    # The same examples on every run: a verdict that differs fails every time, never by chance.
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NOW = f.NOW
PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")  # as numeric(18, 4) gives zero back
RATIO_SPELLINGS = ["×", "x", " X ", "ratio", "ROI", "× cost"]

# How far a point lies from the target, as a fraction of it, on the side the goal wants.
LEVELS = {
    "short": (-0.6, -0.12),
    "near": (-0.06, 0.06),
    "over": (0.02, 0.45),
    "spike": (1.5, 9.0),
    "dip": (-0.95, -0.7),
}


def _run(level: str, low: int, high: int):
    return st.tuples(st.just(level), st.integers(low, high))


# Series as runs of (level, points): random ones, and the shapes the rules tell apart.
SHAPES = st.one_of(
    st.lists(
        st.tuples(st.sampled_from(list(LEVELS)), st.integers(1, 3) | st.integers(4, 25)),
        max_size=6,
    ),
    st.tuples(_run("short", 0, 40), _run("over", 1, 25)).map(list),  # a level shift
    st.tuples(
        _run("near", 0, 30), _run("short", 7, 30), _run("spike", 1, 3), _run("short", 1, 20)
    ).map(list),  # a lone spike that fell back
    st.tuples(_run("over", 1, 10), _run("short", 1, 6), _run("over", 0, 8)).map(list),  # dip
)


@dataclass
class Case:
    """One goal and its observations."""

    type: GoalType
    direction: Direction
    target: Decimal
    cost: Decimal | None
    unit: str | None
    baseline: Decimal | None
    start: date
    status: GoalStatus
    evaluated_at: datetime | None
    rules: dict
    points: list[tuple[datetime, Decimal]]


def _stored(value: Decimal) -> Decimal:
    """The value as a numeric(18, 4) column gives it back (numeric has no -0.0000)."""
    value = value.quantize(PLACES)
    return abs(value) if value == 0 else value


def _value(scale: Decimal, direction: Direction, offset: float, exact: bool) -> Decimal:
    sign = 1 if direction == Direction.HIGHER else -1
    return _stored(scale if exact else scale * (1 + sign * Decimal(str(round(offset, 4)))))


@st.composite
def cases(draw) -> Case:
    kind = draw(st.sampled_from(["kpi", "onboarding", "ratio", "roi_money"]))
    direction = draw(st.sampled_from(list(Direction)))
    ratio = kind == "ratio"
    if ratio:
        target = draw(st.decimals("0.5", "6", places=2))
        cost = draw(st.decimals("0.01", "250000", places=2))
        unit = draw(st.sampled_from(RATIO_SPELLINGS))
        scale = target * cost
    else:
        target = draw(st.sampled_from([Decimal(55), Decimal("4.8"), Decimal(-20), Decimal(0)]))
        target = draw(st.just(target) | st.decimals("-100", "50000", places=4))
        cost = draw(st.none() | st.just(Decimal("50000.00")))
        unit = draw(st.sampled_from([None, "users", "USD", "score", "x"]))
        scale = target
    segments = draw(SHAPES)
    goal_type = GoalType.ROI if kind in ("ratio", "roi_money") else GoalType(kind)
    # value ÷ cost of a negative value may round to -0.0000, which numeric cannot spell
    signed = not is_ratio_goal(goal_type, cost, unit)
    values = []
    for level, length in segments:
        low, high = LEVELS[level]
        for _ in range(length):
            offset = draw(st.floats(low, high, allow_nan=False))
            exact = draw(st.integers(0, 19)) == 0  # now and then exactly on the target
            value = _value(scale, direction, offset, exact)
            values.append(value if signed else max(value, Decimal(0)))
    values = values[:75]
    gaps = draw(
        st.lists(
            st.sampled_from([timedelta(days=1)] * 6 + [timedelta(hours=7), timedelta(days=4)]),
            min_size=len(values),
            max_size=len(values),
        )
    )
    last = NOW - draw(
        st.sampled_from([0.2, 0.2, 1, 1, 2.5, 3, 3.5, 5, 12, -0.5]).map(lambda d: timedelta(days=d))
    )
    last -= timedelta(microseconds=draw(st.sampled_from([0, 0, 123456])))
    moments, at = [], last
    for gap in reversed(gaps):
        moments.append(at)
        at -= gap
    moments.reverse()
    first = moments[0].date() if moments else NOW.date()
    start = first + timedelta(days=draw(st.sampled_from([-40, -10, -10, 0, 0, 5, 20, 80])))
    baseline = draw(
        st.none()
        | st.sampled_from(values[:3] or [scale]).map(_stored)
        | st.decimals("-100", "50000", places=4).map(_stored)
    )
    rules = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "mode": st.sampled_from(["window", "consecutive"]),
                "consecutive": st.integers(1, 6),
                "window_days": st.integers(1, 10) | st.just(2.5),
                "max_age_days": st.integers(1, 6) | st.just(3.5),
                "spike_z": st.integers(1, 8) | st.sampled_from([2.5, 3.9]),
            },
        )
    )
    return Case(
        type=goal_type,
        direction=direction,
        target=_stored(target),
        cost=cost,
        unit=unit,
        baseline=baseline,
        start=start,
        status=draw(st.sampled_from(list(GoalStatus)[:3])),
        evaluated_at=draw(st.none() | st.just(NOW - timedelta(days=2))),
        rules=rules,
        points=list(zip(moments, values, strict=True)),
    )


def reference(case: Case) -> Verdict | None:
    """What detection reported for the goal before verification moved into SQL."""
    ratio = is_ratio_goal(case.type, case.cost, case.unit)

    def measure(value: Decimal) -> Decimal:
        return (value / case.cost).quantize(PLACES) if ratio else value

    started = datetime.combine(case.start, time(), UTC)
    since = sorted((p for p in case.points if p[0] >= started), key=lambda p: p[0])
    read = since[-RECENT:]
    if not read:
        return None
    lookback = started - timedelta(days=START_LOOKBACK_DAYS)
    before = [p for p in case.points if lookback <= p[0] < started]
    at_start = max(before, key=lambda p: p[0])[1] if before else since[0][1]
    covered = len(read) < RECENT or case.evaluated_at is None
    verdict = evaluate(
        [Point(at, measure(value)) for at, value in read],
        target=case.target,
        direction=case.direction,
        now=NOW,
        rules=rules_for(case.rules),
        start=Start(
            baseline=None if ratio else case.baseline,
            observed=measure(at_start),
            earlier=None if covered else case.status == GoalStatus.MET_AT_START,
        ),
    )
    moves = verdict.met_at_start != (case.status == GoalStatus.MET_AT_START)
    if verdict.status is not None or (moves and case.status != GoalStatus.PENDING_CONFIRMATION):
        return verdict
    return None


def _facts(verdict: Verdict | None):
    if verdict is None:
        return None
    facts = (verdict.status, verdict.met_at_start)
    if verdict.status is None:
        return facts
    return (
        *facts,
        verdict.reason,
        verdict.confidence,
        verdict.achieved_at,
        verdict.achieved_value,
        verdict.evidence,
        verdict.baseline,
        verdict.improvement,
    )


def _kind(verdict: Verdict | None, case: Case) -> str:
    """Name the branch a goal took, for `--hypothesis-show-statistics`."""
    if verdict is None:
        return "nothing reported"
    if verdict.status is None:
        return "met at start" if verdict.met_at_start else "active again"
    evidence = verdict.evidence
    mode = case.rules.get("mode", "consecutive")
    return f"{evidence['pattern']} ({mode}), baseline {evidence['baselineSource']}"


def _store(session, case: Case, n: int):
    cust = f.customer(session, name=f"Agreement {n}")
    key = f"agreement_{n}"
    f.metric(session, key, case.direction, case.unit or "units")
    goal = f.goal(
        session,
        cust,
        type=case.type,
        status=case.status,
        metric_key=key,
        target=case.target,
        baseline=case.baseline,
        direction=case.direction,
        cost=case.cost,
        start=case.start,
        unit=case.unit,
        verification=case.rules,
        evaluated_at=case.evaluated_at,
    )
    f.observe_at(session, cust, key, dict(case.points))
    return goal.id


def _flat(target: Decimal, direction: Direction, value: Decimal, days: int) -> Case:
    """A goal whose every daily point sits at one value (a series the rules must not split)."""
    return Case(
        type=GoalType.KPI,
        direction=direction,
        target=target,
        cost=None,
        unit=None,
        baseline=None,
        start=(NOW - timedelta(days=days + 5)).date(),
        status=GoalStatus.ACTIVE,
        evaluated_at=None,
        rules={},
        points=[(NOW - timedelta(days=d), value) for d in range(days, 0, -1)],
    )


@settings(settings.get_profile("verify-agreement"))
@given(st.lists(cases(), min_size=1, max_size=4))
# Lower is better with a target of 0 and nothing but zeros: met from the first point.
@example([_flat(ZERO, Direction.LOWER, ZERO, 20)])
@example([_flat(ZERO, Direction.HIGHER, ZERO, 20)])
@example([_flat(ZERO, Direction.LOWER, ZERO, 2)])
def test_sql_and_python_reach_the_same_verdicts(session, goals):
    nested = session.begin_nested()
    try:
        session.execute(text("SET LOCAL TIME ZONE 'UTC'"))  # start dates are UTC midnights
        ids = [_store(session, case, n) for n, case in enumerate(goals)]
        found = judge(session=session, now=NOW, goal_ids=ids)
        for goal_id, case in zip(ids, goals, strict=True):
            expected = reference(case)
            assert _facts(found.get(goal_id)) == _facts(expected), case
            event(_kind(expected, case))
    finally:
        nested.rollback()
