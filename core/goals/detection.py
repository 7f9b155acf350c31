"""Find goals whose data (or milestones) prove they are achieved, in a few set-based queries.

Incremental by construction. Every pass ends by storing its evaluation time (`now` less
`INGEST_GRACE`, what every goal it read gets as `evaluated_at`) as the `goal_detection`
watermark. The next pass reads a metric goal again only when it is new or changed since then
(`updated_at`; a pass that moved its status counts), failed last time, or its series received
observations after its last evaluation: those are found among the observations that arrived
since the watermark, through the btree on `ingested_at` (migration 0017), so finding them costs
the same however large the table grows. A pass with nothing new (no observation, goal change or
failure since the watermark) runs no metric query at all. Observations committed while a pass
runs carry an earlier `ingested_at`: the grace reads the last five minutes again.

The goals read are judged in one statement (`core.goals.verify_sql`: the rules of
`core.goals.verify`, decided by window functions over each goal's latest observations) that
returns only the goals with something to record (a win, a held win, met at start or active
again) and the ids of the goals it read. Goals met at start are marked (or made active again)
in two updates, and achievements are written with `INSERT … ON CONFLICT (goal_id)`: an existing
achievement stays as it is, except a held one that the data now proves, which turns verified.
However often the job runs, a goal gets one achievement. Milestone goals are checked as a whole
(one set-based query) when any goal, success plan or step changed since the watermark: ticking a
step, editing a plan (which may remove steps) and upserting a goal's steps all move an
`updated_at`, and a writer that did not would leave its change unseen until the next one.

Each goal is its own item (`core.audit.failures`): a goal whose verification overrides are not
rules, whose verdict cannot be worded or whose achievement cannot be written is recorded as
failed with its reason and keeps its last evaluation time (the failure makes the next run read
it again), while every other goal goes on. Achievements are written in chunks of 1,000, each one
statement carrying one array per column (never a parameter per value: psycopg allows 65,535 per
statement), and statuses and evaluation times are set with one array parameter (PostgreSQL
hashes a constant array, so the update costs the same whatever the planner believes about the
table), so no pass finds too much work to write.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Uuid, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.audit.failures import Batch, batch
from core.errors import Invalid
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    Confidence,
    Goal,
    GoalStatus,
)
from core.goals.verify import Verdict
from core.goals.verify_sql import REPORT, bad_rules, judge_params, judged_ctes, verdict
from core.schemas import json_ready

# Observations committed while a pass runs carry an earlier ingested_at; look back this far.
INGEST_GRACE = timedelta(minutes=5)
WATERMARK = "goal_detection"  # sync_watermarks key: the evaluation time of the last pass

ITEM = "goal"  # a goal checked for a win (job_item_failures.item_type)

# Metric goals worth reading: all on the first pass, then those new or changed since the
# watermark, with new observations since their evaluation, or that failed last time. (The
# subqueries are uncorrelated, so each is hashed once rather than run per goal.)
CANDIDATES = """
  SELECT g.* FROM goals g
   WHERE g.status IN ('active', 'met_at_start', 'pending_confirmation')
     AND g.metric_key IS NOT NULL AND g.target IS NOT NULL
     AND g.type IN ('kpi', 'onboarding', 'roi')
     AND NOT EXISTS (SELECT 1 FROM goal_achievements a
                      WHERE a.goal_id = g.id AND a.status <> 'held_for_confirmation')
     AND (CAST(:since AS timestamptz) IS NULL
          OR g.updated_at > CAST(:since AS timestamptz)
          OR g.id IN (SELECT cg.id FROM changed c
                        JOIN goals cg ON cg.metric_key = c.metric_key
                                     AND cg.customer_id = c.customer_id
                       WHERE cg.evaluated_at IS NULL OR c.arrived > cg.evaluated_at)
          OR g.id::text IN (SELECT f.item_id FROM job_item_failures f
                             WHERE f.item_type = :item))
"""

# Judge the goals read; return those with something to record, and which goals were read.
METRIC_GOALS = text(
    f"""
    WITH changed AS MATERIALIZED (  -- series with observations since the watermark
      SELECT o.customer_id, o.metric_key, max(o.ingested_at) AS arrived
        FROM metric_observations o
       WHERE o.ingested_at > CAST(:since AS timestamptz)
       GROUP BY o.customer_id, o.metric_key
    ), {judged_ctes(CANDIDATES)}
    {REPORT}
    """
)

# What may have changed since the watermark: a metric goal's verdict (new observations, a
# goal changed or failed) and a milestone goal's (a goal, plan or step changed: ticking a step,
# editing or archiving a plan and upserting a goal's steps all move an updated_at).
ANYTHING_NEW = text(
    """
    WITH failed AS (
      SELECT g.metric_key IS NOT NULL AS metric
        FROM job_item_failures f JOIN goals g ON f.item_id = g.id::text
       WHERE f.item_type = :item AND g.status IN ('active', 'met_at_start', 'pending_confirmation')
    )
    SELECT EXISTS (SELECT 1 FROM metric_observations
                    WHERE ingested_at > CAST(:since AS timestamptz))
           OR EXISTS (SELECT 1 FROM goals
                       WHERE updated_at > CAST(:since AS timestamptz) AND metric_key IS NOT NULL
                         AND status IN ('active', 'met_at_start', 'pending_confirmation'))
           OR EXISTS (SELECT 1 FROM failed WHERE metric) AS metric,
           EXISTS (SELECT 1 FROM goals
                    WHERE updated_at > CAST(:since AS timestamptz) AND metric_key IS NULL
                      AND status = 'active')
           OR EXISTS (SELECT 1 FROM milestones WHERE updated_at > CAST(:since AS timestamptz))
           OR EXISTS (SELECT 1 FROM success_plans
                       WHERE updated_at > CAST(:since AS timestamptz))
           OR EXISTS (SELECT 1 FROM failed WHERE NOT metric) AS milestone
    """
)

READ_WATERMARK = text("SELECT value FROM sync_watermarks WHERE key = :key")
WRITE_WATERMARK = text(
    """
    INSERT INTO sync_watermarks (key, value) VALUES (:key, :value)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
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


def _ids(ids: list[uuid.UUID]):
    """`goals.id = ANY(:ids)`: one array parameter, however many goals."""
    return Goal.id == any_(bindparam("ids", ids, type_=ARRAY(Uuid)))


def metric_verdicts(
    *, session: Session, now: datetime, since: datetime | None, items: Batch
) -> tuple[list[Detected], list[uuid.UUID]]:
    """Judge the metric goals that may have changed; return what to record and the ids read."""
    params = judge_params(now) | {"since": since, "item": ITEM}
    rows = session.execute(METRIC_GOALS, params).all()
    found = []
    for row in rows:
        if row.id is None:  # nothing to report; the row only says which goals were read
            continue
        with items.item(row.id, savepoint=False):  # only words the verdict: nothing to roll back
            if row.bad_rules:
                raise Invalid(bad_rules(row.bad_rules))
            judged = verdict(row)
            if judged.status is not None:
                judged.evidence["measure"] = "value ÷ cost" if row.ratio else "value"
            found.append(Detected(row.id, judged))
    return found, list(rows[0].read)


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
    since = _watermark(session)
    # Before the first pass everything is new.
    new = session.execute(ANYTHING_NEW, {"since": since, "item": ITEM}).one() if since else None
    with batch(session, ITEM) as items:
        by_metric, seen = [], []
        if new is None or new.metric:
            by_metric, seen = metric_verdicts(session=session, now=now, since=since, items=items)
        mark_met_at_start(session=session, detected=by_metric)
        wins = [d for d in by_metric if d.verdict.status is not None]
        done = milestone_verdicts(session=session) if new is None or new.milestone else []
        detected = wins + done
        created = record(session=session, detected=detected, now=now, items=items)
        # A goal that failed stays as evaluated as it was, so the next run reads it again.
        evaluated = [goal_id for goal_id in seen if items.ok(goal_id)]
        if evaluated:
            session.execute(
                update(Goal)
                .where(_ids(evaluated))
                # Being read is no change to the goal: updated_at moving would read it again.
                .values(evaluated_at=now - INGEST_GRACE, updated_at=Goal.updated_at)
                .execution_options(synchronize_session=False)
            )
        stamp = (now - INGEST_GRACE).isoformat()
        session.execute(WRITE_WATERMARK, {"key": WATERMARK, "value": stamp})
    _expire(session)
    return created


def _watermark(session: Session) -> datetime | None:
    """The evaluation time of the last pass (None before the first one)."""
    value = session.scalar(READ_WATERMARK, {"key": WATERMARK})
    return None if value is None else datetime.fromisoformat(value)


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
           x.rule, x.evidence
      FROM ROWS FROM (
             unnest(CAST(:id AS uuid[]), CAST(:goal_id AS uuid[]), CAST(:customer_id AS uuid[]),
                    CAST(:status AS text[]), CAST(:method AS text[]),
                    CAST(:achieved_at AS timestamptz[]), CAST(:detected_at AS timestamptz[]),
                    CAST(:baseline_value AS numeric[]), CAST(:target_value AS numeric[]),
                    CAST(:achieved_value AS numeric[]), CAST(:improvement AS numeric[]),
                    CAST(:confidence AS text[]), CAST(:rule AS text[])),
             -- one JSON array: a text[] of long documents costs psycopg a regex per element
             jsonb_array_elements(CAST(:evidence AS jsonb)))
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
    columns["evidence"] = f"[{','.join(columns['evidence'])}]"
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
