"""Find goals whose data (or milestones) prove they are achieved, in a few set-based queries.

Incremental by construction. Every pass stores its evaluation time as the `goal_detection`
watermark, and every goal it read gets it as `evaluated_at`: `now` less `INGEST_GRACE`, but
never later than the database's clock less the grace nor than the start of a transaction still
open less the grace (`core.audit.watermarks.SETTLED`), so rows of a transaction that commits
after the pass, or a jobs host whose clock runs ahead, still count as new next time; the pass is
one transaction, so a pass that fails stores nothing. The next pass reads a metric goal again
only when it is new or changed since then (`updated_at`; a pass that moved its status counts),
failed last time, or its series received observations after its last evaluation: those are
found among the observations that arrived since the watermark, through the btree on
`ingested_at` (migration 0017), so finding them costs the same however large the table grows.
Observations committed while a pass runs carry an earlier `ingested_at`: the grace reads the
last five minutes again.

A pass costs a handful of statements, each doing the work of many goals:

- **head** (`HEAD`): reads the watermark, stores the new one and tells whether anything that
  can change a verdict happened since: an observation, a goal, plan or step changed (each
  `updated_at` has its btree, migration 0023) or a failure waiting. A pass with nothing new ends
  here: one statement, a few index probes;
- **metric goals** (`METRIC_GOALS`): judges the goals read (`core.goals.verify_sql`: the rules of
  `core.goals.verify`, decided by window functions over each goal's latest observations),
  stamps them with the pass's evaluation time in the same statement and returns only the goals
  with something to record (a win, a held win, met at start or active again) with the facts an
  achievement needs, so no id list travels to the database and back. A stamp is a HOT update
  (no index entry written): no index covers `evaluated_at` and goal pages are left half empty
  (migration 0025), room for a new version of every goal on them;
- **milestone goals** (`MILESTONE_GOALS`, when a goal, plan or step changed): checked as a
  whole. Ticking a step, editing a plan (which may remove steps) and upserting a goal's steps
  all move an `updated_at`, and a writer that did not would leave its change unseen until the
  next one;
- **achievements** (`UPSERT`): written with `INSERT … ON CONFLICT (goal_id)`: an existing
  achievement stays as it is, except a held one that the data now proves, which turns verified.
  However often the job runs, a goal gets one achievement;
- **statuses** (`MOVE`): every goal a win moves (its version too) and every move in or out of
  met at start, in one update.

Each goal is its own item (`core.audit.failures`): a goal whose verification overrides are not
rules, whose verdict cannot be worded or whose achievement cannot be written is recorded as
failed with its reason and keeps its last evaluation time (bad rules are never stamped; the
others get their earlier time back, `UNSTAMP`), so the next run reads it again, while every
other goal goes on. Achievements are written in chunks of 1,000, each one statement carrying one
array per column (never a parameter per value: psycopg allows 65,535 per statement), and
statuses are set from one array per column, so no pass finds too much work to write.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.audit.failures import Batch, batch
from core.audit.watermarks import SETTLED
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
from core.goals.verify_sql import READ, REPORT, bad_rules, judge_params, judged_ctes, verdict
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

# Judge the goals read, stamp those read with the pass's evaluation time and return the goals
# with something to record (each with the evaluation time it had, for a goal that then fails).
METRIC_GOALS = text(
    f"""
    WITH changed AS MATERIALIZED (  -- series with observations since the watermark
      SELECT o.customer_id, o.metric_key, max(o.ingested_at) AS arrived
        FROM metric_observations o
       WHERE o.ingested_at > CAST(:since AS timestamptz)
       GROUP BY o.customer_id, o.metric_key
    ), {judged_ctes(CANDIDATES)},
    stamped AS (  -- being read is no change to the goal: updated_at stays
      UPDATE goals g SET evaluated_at = CAST(:stamp AS timestamptz)
        FROM judged j WHERE g.id = j.id AND {READ}
    )
    {REPORT}
    """
)

# One statement opens a pass: it reads the watermark, stores this pass's in its place (the
# pass is one transaction: a pass that fails stores nothing) and tells what may have changed
# since the last pass: a metric goal's verdict (new observations, a goal changed or failed) and
# a milestone goal's (a goal, plan or step changed: ticking a step, editing or archiving a plan
# and upserting a goal's steps all move an updated_at, each column with its btree, migration
# 0023). Before the first pass everything is new. The moment is only known as the statement runs,
# so each question is "the first row past it, in index order": an index probe whatever the
# planner guesses (as EXISTS it may pick a scan of the whole table, expecting an early match).
HEAD = text(
    f"""
    WITH clock AS (SELECT {SETTLED} AS stamp),
    prev AS (SELECT value FROM sync_watermarks WHERE key = :key),
    written AS (
      INSERT INTO sync_watermarks (key, value)
      SELECT :key, to_char(c.stamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
        FROM clock c
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
    ),
    mark AS (SELECT CAST((SELECT value FROM prev) AS timestamptz) AS since),
    failed AS (
      SELECT g.metric_key IS NOT NULL AS metric
        FROM job_item_failures f JOIN goals g ON f.item_id = g.id::text
       WHERE f.item_type = :item AND g.status IN ('active', 'met_at_start', 'pending_confirmation')
    )
    SELECT (SELECT value FROM prev) AS since, (SELECT stamp FROM clock) AS stamp,
           m.since IS NULL
           OR (SELECT ingested_at FROM metric_observations WHERE ingested_at > m.since
                ORDER BY ingested_at LIMIT 1) IS NOT NULL
           OR (SELECT updated_at FROM goals
                WHERE updated_at > m.since AND metric_key IS NOT NULL
                  AND status IN ('active', 'met_at_start', 'pending_confirmation')
                ORDER BY updated_at LIMIT 1) IS NOT NULL
           OR EXISTS (SELECT 1 FROM failed WHERE metric) AS metric,
           m.since IS NULL
           OR (SELECT updated_at FROM goals
                WHERE updated_at > m.since AND metric_key IS NULL AND status = 'active'
                ORDER BY updated_at LIMIT 1) IS NOT NULL
           OR (SELECT updated_at FROM milestones WHERE updated_at > m.since
                ORDER BY updated_at LIMIT 1) IS NOT NULL
           OR (SELECT updated_at FROM success_plans WHERE updated_at > m.since
                ORDER BY updated_at LIMIT 1) IS NOT NULL
           OR EXISTS (SELECT 1 FROM failed WHERE NOT metric) AS milestone
      FROM mark m
    """
)
MILESTONE_GOALS = text(
    """
    SELECT g.id, g.customer_id, g.baseline, g.target, max(m.completed_at) AS done_at,
           count(*) AS milestones
    FROM goals g JOIN milestones m ON m.goal_id = g.id
    WHERE g.status = 'active' AND g.type IN ('success_plan', 'onboarding')
      AND g.metric_key IS NULL
      AND NOT EXISTS (SELECT 1 FROM goal_achievements a WHERE a.goal_id = g.id)
    GROUP BY g.id
    HAVING bool_and(m.status IN ('done', 'skipped')) AND bool_or(m.status = 'done')
    """
)
# Give back the evaluation time a goal had before this pass stamped it (a goal that failed).
UNSTAMP = text(
    """
    UPDATE goals g SET evaluated_at = x.at
      FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) AS x(id, at)
     WHERE g.id = x.id
    """
)
# Every status a pass moves, in one statement: a win's (its version moves too) and a move in or
# out of met at start, which only applies to a goal still in the status it was judged from.
MOVE = text(
    """
    UPDATE goals g SET status = x.status, version = g.version + x.bump, updated_at = now()
      FROM unnest(CAST(:ids AS uuid[]), CAST(:froms AS text[]), CAST(:statuses AS text[]),
                  CAST(:bumps AS int[])) AS x(id, from_status, status, bump)
     WHERE g.id = x.id AND (x.from_status IS NULL OR g.status = x.from_status)
    """
)


@dataclass
class Detected:
    goal_id: uuid.UUID
    verdict: Verdict
    customer_id: uuid.UUID
    # A metric win is measured from its verdict's baseline; a milestone win from the goal's.
    baseline: Decimal | None
    target: Decimal | None


def metric_verdicts(
    *, session: Session, now: datetime, stamp: datetime, since: datetime | None, items: Batch
) -> tuple[list[Detected], dict[uuid.UUID, datetime | None]]:
    """Judge (and stamp) the metric goals that may have changed.

    Returns what to record and, per goal reported, the evaluation time it had before.
    """
    params = judge_params(now) | {"since": since, "item": ITEM, "stamp": stamp}
    found, before = [], {}
    for row in session.execute(METRIC_GOALS, params):
        if not row.bad_rules:  # a goal with bad rules is not read, so not stamped
            before[row.id] = row.evaluated_at
        with items.item(row.id, savepoint=False):  # only words the verdict: nothing to roll back
            if row.bad_rules:
                raise Invalid(bad_rules(row.bad_rules))
            judged = verdict(row)
            if judged.status is not None:
                judged.evidence["measure"] = "value ÷ cost" if row.ratio else "value"
            found.append(Detected(row.id, judged, row.customer_id, judged.baseline, row.target))
    return found, before


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
        found.append(Detected(row.id, verdict, row.customer_id, row.baseline, row.target))
    return found


def detect(*, session: Session, now: datetime | None = None) -> list[uuid.UUID]:
    """Evaluate every goal that may have changed; return ids of achievements created now."""
    now = now or datetime.now(UTC)
    session.flush()
    opened = {"key": WATERMARK, "now": now, "grace": INGEST_GRACE, "item": ITEM}
    head = session.execute(HEAD, opened).one()
    since = None if head.since is None else datetime.fromisoformat(head.since)
    with batch(session, ITEM) as items:
        by_metric, before = [], {}
        if head.metric:
            by_metric, before = metric_verdicts(
                session=session, now=now, stamp=head.stamp, since=since, items=items
            )
        moves = met_at_start_moves(by_metric)
        wins = [d for d in by_metric if d.verdict.status is not None]
        done = milestone_verdicts(session=session) if head.milestone else []
        created = record(session=session, detected=wins + done, now=now, items=items)
        for _, goal_id, status in created:
            moves[goal_id] = (None, _WON[status], 1)
        move(session=session, moves=moves)
        # A goal that failed stays as evaluated as it was, so the next run reads it again.
        failed = {goal_id: at for goal_id, at in before.items() if not items.ok(goal_id)}
        if failed:
            session.execute(UNSTAMP, {"ids": list(failed), "ats": list(failed.values())})
    _expire(session)
    return [achievement_id for achievement_id, _, _ in created]


# The goal status a new (or upgraded) achievement gives its goal.
_WON = {
    AchievementStatus.VERIFIED.value: GoalStatus.ACHIEVED.value,
    AchievementStatus.HELD.value: GoalStatus.PENDING_CONFIRMATION.value,
}


def met_at_start_moves(detected: list[Detected]) -> dict[uuid.UUID, tuple]:
    """Per goal judged: met at start (if active), or active again (if it was met at start)."""
    active, met = GoalStatus.ACTIVE.value, GoalStatus.MET_AT_START.value
    return {
        d.goal_id: (active, met, 0) if d.verdict.met_at_start else (met, active, 0)
        for d in detected
    }


def move(*, session: Session, moves: dict[uuid.UUID, tuple]) -> None:
    """Set goal statuses in one statement: (status it must have or None, new status, version+)."""
    if not moves:
        return
    froms, statuses, bumps = (list(column) for column in zip(*moves.values(), strict=True))
    params = {"ids": list(moves), "froms": froms, "statuses": statuses, "bumps": bumps}
    session.execute(MOVE, params)


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


def _row(d: Detected, now: datetime) -> dict:
    """Return the achievement row of one verdict, as plain values for the column arrays."""
    return {
        "id": uuid.uuid4(),
        "goal_id": d.goal_id,
        "customer_id": d.customer_id,
        "status": AchievementStatus(d.verdict.status).value,
        "method": AchievementMethod.AUTOMATIC.value,
        "achieved_at": d.verdict.achieved_at or now,
        "detected_at": now,
        "baseline_value": d.baseline,
        "target_value": d.target,
        "achieved_value": d.verdict.achieved_value,
        "improvement": d.verdict.improvement,
        "confidence": Confidence(d.verdict.confidence).value,
        "rule": d.verdict.reason,
        # The encoder walks the evidence itself and asks json_ready only for what JSON has no
        # type for (decimals, dates): the same text as json_ready's walk, at a fraction of it.
        "evidence": json.dumps(d.verdict.evidence, default=json_ready),
    }


def record(
    *, session: Session, detected: list[Detected], now: datetime, items: Batch
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """Insert one achievement per goal (a held one may turn verified).

    Rows go a chunk per statement; a chunk that fails is retried one goal at a time, so one
    goal that cannot be written is recorded as failed and the others are recorded. Returns
    (achievement id, goal id, status) of each achievement written.
    """
    if not detected:
        return []
    rows = []
    for d in detected:
        with items.item(d.goal_id, savepoint=False):
            rows.append(_row(d, now))
    return items.chunked(
        rows,
        lambda part: _upsert(session, part),
        key=lambda row: row["goal_id"],
    )


def _expire(session: Session) -> None:
    """Forget loaded goals: the set-based updates above changed them behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Goal | Achievement):
            session.expire(obj)
