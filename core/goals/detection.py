"""Find goals whose data (or milestones) prove they are achieved, in a few set-based queries.

Only goals that have never been evaluated, or whose metric received observations since their last
evaluation, are read again. Observations come in one LATERAL query (the latest `RECENT` points
per goal, served by the observations' primary key), the rules in `core.goals.verify` decide, and
achievements are written with `INSERT … ON CONFLICT (goal_id) DO NOTHING`, so however often the
job runs, a goal gets one achievement.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import groupby

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

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
from core.goals.verify import Point, Verdict, evaluate, rules_for

RECENT = 60
# Observations committed while a pass runs carry an earlier ingested_at; look back this far.
INGEST_GRACE = timedelta(minutes=5)

METRIC_GOALS = text(
    """
    SELECT g.id, g.target, g.direction, g.verification, g.type, g.cost, g.unit, g.baseline,
           o.observed_at, o.value
    FROM goals g
    CROSS JOIN LATERAL (
        SELECT ob.observed_at, ob.value
        FROM metric_observations ob
        WHERE ob.customer_id = g.customer_id AND ob.metric_key = g.metric_key
          AND ob.observed_at >= g.start_date
        ORDER BY ob.observed_at DESC
        LIMIT :recent
    ) o
    WHERE g.status = 'active' AND g.metric_key IS NOT NULL AND g.target IS NOT NULL
      AND g.type IN ('kpi', 'onboarding', 'roi')
      AND NOT EXISTS (SELECT 1 FROM goal_achievements a WHERE a.goal_id = g.id)
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


def _value_for(row) -> Decimal:
    # Ratio ROI goals compare value delivered ÷ cost with a multiple-of-cost target.
    if is_ratio_goal(row.type, row.cost, row.unit):
        return (Decimal(row.value) / Decimal(row.cost)).quantize(Decimal("0.0001"))
    return Decimal(row.value)


def metric_verdicts(*, session: Session, now: datetime) -> tuple[list[Detected], list[uuid.UUID]]:
    """Return verdicts for metric goals with new data, and the ids of every goal read."""
    rows = session.execute(METRIC_GOALS, {"recent": RECENT}).all()
    found, seen = [], []
    for goal_id, group in groupby(rows, key=lambda r: r.id):
        group = list(group)
        first = group[0]
        seen.append(goal_id)
        points = [Point(r.observed_at, _value_for(r)) for r in group]
        verdict = evaluate(
            points,
            target=Decimal(first.target),
            direction=Direction(first.direction),
            now=now,
            rules=rules_for(first.verification),
        )
        if verdict.status is not None:
            verdict.evidence["measure"] = (
                "value ÷ cost" if is_ratio_goal(first.type, first.cost, first.unit) else "value"
            )
            found.append(Detected(goal_id, verdict))
    return found, seen


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
    by_metric, seen = metric_verdicts(session=session, now=now)
    detected = by_metric + milestone_verdicts(session=session)
    created = record(session=session, detected=detected, now=now)
    if seen:
        session.execute(
            update(Goal)
            .where(Goal.id.in_(bindparam("ids", expanding=True)))
            .values(evaluated_at=now - INGEST_GRACE)
            .execution_options(synchronize_session=False),
            {"ids": seen},
        )
    return created


def record(*, session: Session, detected: list[Detected], now: datetime) -> list[uuid.UUID]:
    """Insert one achievement per goal (existing ones win) and move the goals' status."""
    if not detected:
        return []
    goals = {
        g.id: g for g in session.query(Goal).filter(Goal.id.in_([d.goal_id for d in detected]))
    }
    rows = [
        {
            "id": uuid.uuid4(),
            "goal_id": d.goal_id,
            "customer_id": goals[d.goal_id].customer_id,
            "status": d.verdict.status,
            "method": AchievementMethod.AUTOMATIC,
            "achieved_at": d.verdict.achieved_at or now,
            "detected_at": now,
            "baseline_value": goals[d.goal_id].baseline,
            "target_value": goals[d.goal_id].target,
            "achieved_value": d.verdict.achieved_value,
            "confidence": d.verdict.confidence,
            "rule": d.verdict.reason,
            "evidence": d.verdict.evidence,
        }
        for d in detected
    ]
    stmt = (
        insert(Achievement)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["goal_id"])
        .returning(Achievement.id, Achievement.goal_id, Achievement.status)
    )
    created = session.execute(stmt).all()
    for _, goal_id, status in created:
        goal = goals[goal_id]
        goal.status = (
            GoalStatus.ACHIEVED
            if status == AchievementStatus.VERIFIED
            else GoalStatus.PENDING_CONFIRMATION
        )
    session.flush()
    return [row.id for row in created]
