"""Find goals whose data (or milestones) prove they are achieved, in a few set-based queries.

Only goals that have never been evaluated, or whose metric received observations since their last
evaluation, are read again. Observations come in one LATERAL query (the latest `RECENT` points
per goal and the value at the goal's start, served by the observations' primary key), the rules in
`core.goals.verify` decide, goals met at start are marked (or made active again) in two updates,
and achievements are written with `INSERT … ON CONFLICT (goal_id)`: an existing achievement stays
as it is, except a held one that the data now proves, which turns verified. However often the job
runs, a goal gets one achievement.

Each goal is its own item (`core.audit.failures`): a goal whose data cannot be evaluated, or whose
achievement cannot be written, is recorded as failed with its reason and left unevaluated (the
next run tries it again), while every other goal goes on. Achievements are written in chunks of
1,000, each one statement carrying one array per column (never a parameter per value: psycopg
allows 65,535 per statement), and statuses and evaluation times are set with one array
parameter, so no pass finds too much work to write.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import groupby

from sqlalchemy import Uuid, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.audit.failures import Batch, batch
from core.base import Direction
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    Confidence,
    Goal,
    GoalStatus,
)
from core.goals.results import is_ratio_goal
from core.goals.verify import Point, Start, Verdict, evaluate, rules_for
from core.schemas import json_ready

RECENT = 60
# Observations committed while a pass runs carry an earlier ingested_at; look back this far.
INGEST_GRACE = timedelta(minutes=5)

# The value at a goal's start: the latest observation in this window before its start date.
START_LOOKBACK_DAYS = 31

ITEM = "goal"  # a goal checked for a win (job_item_failures.item_type)

METRIC_GOALS = text(
    """
    SELECT g.id, g.target, g.direction, g.verification, g.type, g.cost, g.unit, g.baseline,
           g.status, g.evaluated_at, s.value AS start_value, o.observed_at, o.value
    FROM goals g
    LEFT JOIN LATERAL (
        (SELECT sb.value FROM metric_observations sb
         WHERE sb.customer_id = g.customer_id AND sb.metric_key = g.metric_key
           AND sb.observed_at < g.start_date
           AND sb.observed_at >= g.start_date - make_interval(days => :lookback)
         ORDER BY sb.observed_at DESC LIMIT 1)
        UNION ALL
        (SELECT sa.value FROM metric_observations sa
         WHERE sa.customer_id = g.customer_id AND sa.metric_key = g.metric_key
           AND sa.observed_at >= g.start_date
         ORDER BY sa.observed_at LIMIT 1)
        LIMIT 1
    ) s ON true
    CROSS JOIN LATERAL (
        SELECT ob.observed_at, ob.value
        FROM metric_observations ob
        WHERE ob.customer_id = g.customer_id AND ob.metric_key = g.metric_key
          AND ob.observed_at >= g.start_date
        ORDER BY ob.observed_at DESC
        LIMIT :recent
    ) o
    WHERE g.status IN ('active', 'met_at_start', 'pending_confirmation')
      AND g.metric_key IS NOT NULL AND g.target IS NOT NULL
      AND g.type IN ('kpi', 'onboarding', 'roi')
      AND NOT EXISTS (SELECT 1 FROM goal_achievements a
                      WHERE a.goal_id = g.id AND a.status <> 'held_for_confirmation')
      AND (g.evaluated_at IS NULL OR EXISTS (
            SELECT 1 FROM metric_observations n
            WHERE n.customer_id = g.customer_id AND n.metric_key = g.metric_key
              AND n.ingested_at > g.evaluated_at))
    ORDER BY g.id, o.observed_at DESC
    """
)

MILESTONE_GOALS = text(
    """
    SELECT g.id, max(m.completed_at) AS done_at, count(*) AS milestones
    FROM goals g JOIN milestones m ON m.goal_id = g.id
    WHERE g.status = 'active' AND g.type IN ('success_plan', 'onboarding')
      AND g.metric_key IS NULL
      AND NOT EXISTS (SELECT 1 FROM goal_achievements a WHERE a.goal_id = g.id)
    GROUP BY g.id
    HAVING bool_and(m.status IN ('done', 'skipped')) AND bool_or(m.status = 'done')
    """
)


@dataclass
class Detected:
    goal_id: uuid.UUID
    verdict: Verdict


def _ratio(value, row) -> Decimal:
    # Ratio ROI goals compare value delivered ÷ cost with a multiple-of-cost target.
    if is_ratio_goal(row.type, row.cost, row.unit):
        return (Decimal(value) / Decimal(row.cost)).quantize(Decimal("0.0001"))
    return Decimal(value)


def _start(row, read: int) -> Start:
    """Where the goal started; the stored state decides only when the window was cut short."""
    ratio = is_ratio_goal(row.type, row.cost, row.unit)
    covered = read < RECENT or row.evaluated_at is None
    return Start(
        # A ratio goal's stated baseline is in the metric's money, not a multiple of the cost.
        baseline=None if ratio or row.baseline is None else Decimal(row.baseline),
        observed=None if row.start_value is None else _ratio(row.start_value, row),
        earlier=None if covered else row.status == GoalStatus.MET_AT_START,
    )


def _ids(ids: list[uuid.UUID]):
    """`goals.id = ANY(:ids)`: one array parameter, however many goals."""
    return Goal.id == any_(bindparam("ids", ids, type_=ARRAY(Uuid)))


def metric_verdicts(
    *, session: Session, now: datetime, items: Batch
) -> tuple[list[Detected], list[uuid.UUID]]:
    """Return the verdicts that change something (a win, a held win, met at start or not) for
    metric goals with new data, and the ids of every goal evaluated (failed ones are not)."""
    params = {"recent": RECENT, "lookback": START_LOOKBACK_DAYS}
    rows = session.execute(METRIC_GOALS, params).all()
    found, seen = [], []
    for goal_id, group in groupby(rows, key=lambda r: r.id):
        with items.item(goal_id, savepoint=False):  # only computes: nothing to roll back
            found.extend(_verdict(goal_id, list(group), now))
            seen.append(goal_id)
    return found, seen


def _verdict(goal_id: uuid.UUID, group: list, now: datetime) -> list[Detected]:
    first = group[0]
    verdict = evaluate(
        [Point(r.observed_at, _ratio(r.value, r)) for r in group],
        target=Decimal(first.target),
        direction=Direction(first.direction),
        now=now,
        rules=rules_for(first.verification),
        start=_start(first, len(group)),
    )
    status = GoalStatus(first.status)
    moves = verdict.met_at_start != (status == GoalStatus.MET_AT_START)
    if verdict.status is not None or (moves and status != GoalStatus.PENDING_CONFIRMATION):
        verdict.evidence["measure"] = (
            "value ÷ cost" if is_ratio_goal(first.type, first.cost, first.unit) else "value"
        )
        return [Detected(goal_id, verdict)]
    return []


def milestone_verdicts(*, session: Session) -> list[Detected]:
    """Return verdicts for milestone goals whose milestones are all done."""
    found = []
    for row in session.execute(MILESTONE_GOALS):
        evidence = {
            "rule": f"all {row.milestones} milestones complete",
            "milestones": row.milestones,
        }
        verdict = Verdict(
            AchievementStatus.VERIFIED,
            evidence["rule"],
            Confidence.HIGH,
            row.done_at,
            None,
            evidence,
        )
        found.append(Detected(row.id, verdict))
    return found


def detect(*, session: Session, now: datetime | None = None) -> list[uuid.UUID]:
    """Evaluate every goal that may have changed; return ids of achievements created now."""
    now = now or datetime.now(UTC)
    session.flush()
    with batch(session, ITEM) as items:
        by_metric, seen = metric_verdicts(session=session, now=now, items=items)
        mark_met_at_start(session=session, detected=by_metric)
        wins = [d for d in by_metric if d.verdict.status is not None]
        detected = wins + milestone_verdicts(session=session)
        created = record(session=session, detected=detected, now=now, items=items)
        # A goal that failed stays unevaluated, so the next run reads it again.
        evaluated = [goal_id for goal_id in seen if items.ok(goal_id)]
        if evaluated:
            session.execute(
                update(Goal)
                .where(_ids(evaluated))
                .values(evaluated_at=now - INGEST_GRACE)
                .execution_options(synchronize_session=False)
            )
    _expire(session)
    return created


def mark_met_at_start(*, session: Session, detected: list[Detected]) -> None:
    """Mark goals met at start, and make them active again once they fell back (two updates)."""
    moves = {
        (GoalStatus.ACTIVE, GoalStatus.MET_AT_START): [
            d.goal_id for d in detected if d.verdict.met_at_start
        ],
        (GoalStatus.MET_AT_START, GoalStatus.ACTIVE): [
            d.goal_id for d in detected if not d.verdict.met_at_start
        ],
    }
    for (before, after), ids in moves.items():
        if ids:
            session.execute(
                update(Goal)
                .where(_ids(ids), Goal.status == before)
                .values(status=after)
                .execution_options(synchronize_session=False)
            )


# A held win whose data later holds for the sustain window becomes verified (never the reverse).
UPGRADED = (
    "status",
    "achieved_at",
    "detected_at",
    "baseline_value",
    "achieved_value",
    "improvement",
    "confidence",
    "rule",
)


GOAL_FACTS = select(Goal.id, Goal.customer_id, Goal.metric_key, Goal.baseline, Goal.target)


# Every row travels in one array per column: a chunk of any size is 14 parameters.
UPSERT = text(
    f"""
    INSERT INTO goal_achievements AS a (id, goal_id, customer_id, status, method, achieved_at,
        detected_at, baseline_value, target_value, achieved_value, improvement, confidence, rule,
        evidence)
    SELECT x.id, x.goal_id, x.customer_id, x.status, x.method, x.achieved_at, x.detected_at,
           x.baseline_value, x.target_value, x.achieved_value, x.improvement, x.confidence,
           x.rule, CAST(x.evidence AS jsonb)
      FROM unnest(CAST(:id AS uuid[]), CAST(:goal_id AS uuid[]), CAST(:customer_id AS uuid[]),
                  CAST(:status AS text[]), CAST(:method AS text[]),
                  CAST(:achieved_at AS timestamptz[]), CAST(:detected_at AS timestamptz[]),
                  CAST(:baseline_value AS numeric[]), CAST(:target_value AS numeric[]),
                  CAST(:achieved_value AS numeric[]), CAST(:improvement AS numeric[]),
                  CAST(:confidence AS text[]), CAST(:rule AS text[]), CAST(:evidence AS text[]))
           AS x(id, goal_id, customer_id, status, method, achieved_at, detected_at,
                baseline_value, target_value, achieved_value, improvement, confidence, rule,
                evidence)
    ON CONFLICT (goal_id) DO UPDATE
       SET {", ".join(f"{c} = excluded.{c}" for c in UPGRADED)},
           evidence = excluded.evidence || jsonb_build_object('heldEarlier', a.rule)
     WHERE a.status = '{AchievementStatus.HELD.value}'
       AND excluded.status = '{AchievementStatus.VERIFIED.value}'
    RETURNING a.id, a.goal_id, a.status
    """
)


def _upsert(session: Session, rows) -> list:
    """Write achievement rows in one statement; return (id, goal id, status) of those written."""
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    return session.execute(UPSERT, columns).all()


def _row(d: Detected, goal, now: datetime) -> dict:
    """Return the achievement row of one verdict, as plain values for the column arrays."""
    return {
        "id": uuid.uuid4(),
        "goal_id": d.goal_id,
        "customer_id": goal.customer_id,
        "status": AchievementStatus(d.verdict.status).value,
        "method": AchievementMethod.AUTOMATIC.value,
        "achieved_at": d.verdict.achieved_at or now,
        "detected_at": now,
        # Metric wins are measured from the verdict's baseline (stated, else observed).
        "baseline_value": d.verdict.baseline if goal.metric_key else goal.baseline,
        "target_value": goal.target,
        "achieved_value": d.verdict.achieved_value,
        "improvement": d.verdict.improvement,
        "confidence": Confidence(d.verdict.confidence).value,
        "rule": d.verdict.reason,
        "evidence": json.dumps(json_ready(d.verdict.evidence)),
    }


def record(
    *, session: Session, detected: list[Detected], now: datetime, items: Batch
) -> list[uuid.UUID]:
    """Insert one achievement per goal (a held one may turn verified) and move goal statuses.

    Rows go a chunk per statement; a chunk that fails is retried one goal at a time, so one
    goal that cannot be written is recorded as failed and the others are recorded.
    """
    if not detected:
        return []
    goals = {
        g.id: g for g in session.execute(GOAL_FACTS.where(_ids([d.goal_id for d in detected])))
    }
    rows = []
    for d in detected:
        with items.item(d.goal_id, savepoint=False):
            rows.append(_row(d, goals[d.goal_id], now))
    created = items.chunked(
        rows,
        lambda part: _upsert(session, part),
        key=lambda row: row["goal_id"],
    )
    verified = [goal_id for _, goal_id, status in created if status == AchievementStatus.VERIFIED]
    held = [goal_id for _, goal_id, status in created if status != AchievementStatus.VERIFIED]
    for status, ids in ((GoalStatus.ACHIEVED, verified), (GoalStatus.PENDING_CONFIRMATION, held)):
        if ids:
            session.execute(
                update(Goal)
                .where(_ids(ids))
                .values(status=status, version=Goal.version + 1, updated_at=func.now())
                .execution_options(synchronize_session=False)
            )
    return [row.id for row in created]


def _expire(session: Session) -> None:
    """Forget loaded goals: the set-based updates above changed them behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Goal | Achievement):
            session.expire(obj)
