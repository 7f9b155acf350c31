"""Wins reached before the last four weeks, found and documented when they happened.

The app has been running: a goal reached months ago was detected then and its success record
written within minutes. Reached means what the achievement-capture metric means by it
(`core.reporting.success_metrics`): a metric goal whose data held the target for three
observations in a row (after falling short for three when it was met at the start), or a
milestone goal whose milestones are all done. For each such goal reached before
`as_of - BACKLOG_DAYS`:

- metric goals (those whose scenario reaches the target, data.scenarios) are judged by
  `core.goals.verify.evaluate` on the data as it stood when the third observation of their
  first such run arrived (the latest 60 points, as detection reads them); a verified verdict
  becomes the achievement, detected minutes to hours after that observation;
- milestone goals are achieved when their last milestone was done, detected minutes later;
- a share of the custom goals were confirmed by their CSM at a review, with a note.

Each is documented at once: success record (`core.records.render`), value-repository entry,
marketing score and timeline line, as `core.documentation.service.document` writes them (facts
from data.win_facts), plus the customer's `goal_attainment` health factor. The announcement
and Google Doc of past wins are not replayed (their deliveries would be history, not work);
the congratulations emails CSMs decided and the stories marketing used are
(data.win_outreach). Wins reached in the last BACKLOG_DAYS are the backlog the jobs' first run
detects and documents ("do not fake the current backlog").
"""

import random
import uuid
from collections import defaultdict
from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Connection, text

from core.base import Direction
from core.goals.verify import Point, Start, evaluate, met_at_start, rules_for
from core.records import render
from core.records.facts import RecordFacts
from core.schemas import json_ready
from data import win_outreach
from data.activity import TIMELINE_COLUMNS
from data.catalog import METRIC
from data.goals import Goal
from data.load import as_json, at, copy_rows, driver, midnight, new_id
from data.scenarios import BACKLOG_DAYS
from data.win_facts import gather_all

CONFIRMED_CUSTOM = 0.35  # custom goals a CSM confirmed in the past
RECENT = 60  # observations detection reads per goal
NOTES = (
    "Confirmed with {contact} at the quarterly business review.",
    "{contact} confirmed it in writing; the rollout sign-off is in the account folder.",
    "Walked through the result with {contact}; agreed it is done.",
)
POINTS = """
    SELECT k.i, o.observed_at, o.value::float8
      FROM unnest(%(idx)s::int[], %(customers)s::uuid[], %(keys)s::text[],
                  %(starts)s::timestamptz[], %(untils)s::timestamptz[])
           AS k(i, customer_id, metric_key, start_at, until_at)
      JOIN metric_observations o ON o.customer_id = k.customer_id AND o.metric_key = k.metric_key
       AND o.observed_at >= k.start_at AND o.observed_at < k.until_at
     ORDER BY k.i, o.observed_at
"""
GOALS_DONE = text(
    """
    UPDATE goals g SET status = 'achieved', evaluated_at = v.at
      FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id uuid, at timestamptz)
     WHERE g.id = v.id
    """
)
ACHIEVEMENT_COLUMNS = (
    "id",
    "goal_id",
    "customer_id",
    "status",
    "method",
    "achieved_at",
    "detected_at",
    "baseline_value",
    "target_value",
    "achieved_value",
    "improvement",
    "confidence",
    "rule",
    "evidence",
    "verified_by_id",
    "verification_note",
    "marketing_score",
    "marketing_reasons",
    "marketing_candidates",
    "created_at",
    "updated_at",
)
RECORD_COLUMNS = (
    "id",
    "achievement_id",
    "title",
    "summary",
    "sections",
    "markdown",
    "written_at",
    "created_at",
    "updated_at",
)
ENTRY_COLUMNS = (
    "id",
    "achievement_id",
    "customer_id",
    "title",
    "snippet",
    "industry",
    "use_case",
    "products",
    "goal_type",
    "value_amount",
    "value_unit",
    "achieved_on",
    "consent_level",
    "created_at",
    "updated_at",
)
FACTOR_COLUMNS = (
    "id",
    "customer_id",
    "factor",
    "score",
    "weight",
    "details",
    "source",
    "updated_at",
)


def _win(goal: Goal, achieved_at, detected, **fields) -> SimpleNamespace:
    """A past win: the achievement's fields and when it was reached, detected and written."""
    row = {
        "baseline_value": goal.baseline,
        "target_value": goal.target,
        "achieved_value": None,
        "improvement": None,
        "verified_by_id": None,
        "verification_note": None,
        "evidence": {},
        **fields,
    }
    return SimpleNamespace(
        goal=goal, achieved_at=achieved_at, detected=detected, written=detected, achievement=row
    )


def _proven(values: list[float], target: float, higher: bool, armed: bool, needed: int):
    """Return the index of the point that completes the first run of `needed` points meeting
    the target (counted once the goal is armed: at once, or after `needed` short points)."""
    run = short = 0
    for i, value in enumerate(values):
        if value >= target if higher else value <= target:
            run, short = run + 1, 0
            if armed and run >= needed:
                return i
            continue
        run, short = 0, short + 1
        armed = armed or short >= needed
    return None


def _metric_wins(
    conn: Connection, rng: random.Random, goals: list[Goal], until
) -> list[SimpleNamespace]:
    """Find each goal's first sustained crossing before `until`; judge it as detection did."""
    params = {
        "idx": list(range(len(goals))),
        "customers": [g.account.id for g in goals],
        "keys": [g.metric for g in goals],
        "starts": [midnight(g.start) for g in goals],
        "untils": [until] * len(goals),
    }
    # Values come as floats (they have at most two decimals, so they compare with the target
    # exactly); only the points a verdict reads become Points with Decimal values.
    times: dict[int, list] = defaultdict(list)
    values: dict[int, list[float]] = defaultdict(list)
    for i, observed_at, value in driver(conn).execute(POINTS, params).fetchall():
        times[i].append(observed_at)
        values[i].append(value)
    rules = rules_for(None)
    wins = []
    for i, goal in enumerate(goals):
        direction = Direction(METRIC[goal.metric].direction)
        start = Start(baseline=goal.baseline, observed=goal.start_value)
        armed = not met_at_start(start, goal.target, direction)
        higher = direction == Direction.HIGHER
        proof = _proven(values[i], float(goal.target), higher, armed, rules["consecutive"])
        if proof is None:
            continue
        first = max(0, proof + 1 - RECENT)
        seen = [
            Point(at, Decimal(str(v)))
            for at, v in zip(times[i][first : proof + 1], values[i][first : proof + 1], strict=True)
        ]
        detected = seen[-1].observed_at + timedelta(minutes=rng.randint(10, 360))
        verdict = evaluate(
            seen, target=goal.target, direction=direction, now=detected, rules=rules, start=start
        )
        if verdict.status is None or verdict.status.value != "verified":
            continue  # a held or doubtful one waits for the jobs, as it would have then
        wins.append(
            _win(
                goal,
                verdict.achieved_at,
                detected,
                method="automatic",
                baseline_value=verdict.baseline,
                achieved_value=verdict.achieved_value,
                improvement=verdict.improvement,
                confidence=verdict.confidence.value,
                rule=verdict.reason,
                evidence=verdict.evidence | {"measure": "value"},
            )
        )
    return wins


def _milestone_win(rng: random.Random, goal: Goal, done_at, count: int) -> SimpleNamespace:
    rule = f"all {count} milestones complete"
    return _win(
        goal,
        done_at,
        done_at + timedelta(minutes=rng.randint(1, 5)),
        method="automatic",
        confidence="high",
        rule=rule,
        evidence={"rule": rule, "milestones": count},
    )


def _custom_wins(rng: random.Random, goals: list[Goal], as_of: date) -> list[SimpleNamespace]:
    """Custom goals a CSM confirmed at a review, with a note, before the backlog weeks."""
    last = as_of - timedelta(days=BACKLOG_DAYS + 1)
    wins = []
    for goal in goals:
        if goal.type != "custom" or goal.status != "active" or rng.random() >= CONFIRMED_CUSTOM:
            continue
        first, until = goal.start + timedelta(days=30), min(goal.due or last, last)
        if first > until:
            continue
        when = at(first + timedelta(days=rng.randint(0, (until - first).days)), rng)
        contact = goal.account.contacts[0].name
        wins.append(
            _win(
                goal,
                when,
                when,
                method="manual",
                confidence="medium",
                rule="milestone confirmed by a CSM",
                verified_by_id=goal.account.owner.id,
                verification_note=rng.choice(NOTES).format(contact=contact),
            )
        )
    return wins


def _achievement_rows(wins: list):
    for w in wins:
        a, g = w.achievement, w.goal
        yield (
            w.id,
            g.id,
            g.account.id,
            "verified",
            a["method"],
            w.achieved_at,
            w.detected,
            a["baseline_value"],
            a["target_value"],
            a["achieved_value"],
            a["improvement"],
            a["confidence"],
            a["rule"],
            as_json(a["evidence"]),
            a["verified_by_id"],
            a["verification_note"],
            a["marketing_score"],
            as_json(a["marketing_reasons"]),
            a["marketing_candidates"],
            w.detected,
            w.written,
        )


def _attainment(rng: random.Random, goals: list[Goal], wins: list) -> list[tuple]:
    """The goal_attainment health factor after the last past win: achieved ÷ tracked goals.

    Tracked leaves out cancelled goals and goals met at start (as documentation counts them).
    """
    won = {w.goal.id for w in wins}
    last = {}
    for w in wins:
        last[w.goal.account.id] = max(last.get(w.goal.account.id, w.written), w.written)
    counts: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    for g in goals:
        if g.account.id not in last or g.status == "cancelled":
            continue
        direction = Direction(METRIC[g.metric].direction) if g.metric else Direction.HIGHER
        start = Start(baseline=g.baseline, observed=g.start_value)
        if g.metric and g.id not in won and met_at_start(start, g.target, direction):
            continue
        counts[g.account.id][0] += g.id in won
        counts[g.account.id][1] += 1
    return [
        (
            new_id(rng),
            customer,
            "goal_attainment",
            (Decimal(100) * achieved / tracked).quantize(Decimal("0.01")),
            Decimal(1),
            as_json({"achieved": achieved, "tracked": tracked}),
            "goal_detection",
            last[customer],
        )
        for customer, (achieved, tracked) in sorted(counts.items())
        if tracked
    ]


def sections(facts: RecordFacts) -> dict:
    """What `RecordFacts.as_dict` stores, without its deep copy (most of a big run's time).

    Equal to `as_dict()` (a test holds them together); the values are only read, never changed.
    """
    data = {f.name: getattr(facts, f.name) for f in fields(facts)}
    data["quotes"] = [vars(q) for q in facts.quotes]
    data.update(
        days_to_achieve=facts.days_to_achieve,
        beyond_target=facts.beyond_target,
        improvement=facts.improvement,
        result=facts.result,
    )
    return json_ready(data)


def load(
    conn: Connection, rng: random.Random, goals: list[Goal], deals, metrics_of, as_of: date
) -> dict:
    """Write the past wins with their records, entries, scores and lines; return row counts."""
    cutoff = midnight(as_of - timedelta(days=BACKLOG_DAYS))
    reaching = [
        g
        for g in goals
        if g.metric and g.status == "active" and g.scenario in ("shift", "ramp", "flap")
    ]
    wins = _metric_wins(conn, rng, reaching, cutoff)
    for g in goals:
        done = [m.done_at for m in g.plan.milestones if m.goal_id == g.id] if g.plan else []
        if g.status == "active" and not g.metric and done and all(done):
            wins.append(_milestone_win(rng, g, max(done), len(done)))
    wins += _custom_wins(rng, goals, as_of)
    wins = [w for w in wins if w.written < cutoff]
    wins.sort(key=lambda w: (w.written, str(w.goal.id)))
    for w in wins:
        w.id = new_id(rng)
        w.written = w.detected + timedelta(seconds=rng.randint(1, 20))
    by_customer: dict = defaultdict(list)
    for e in deals:
        by_customer[e.account.id].append(e)
    facts = gather_all(conn, wins, by_customer, metrics_of)
    records, entries, lines = [], [], []
    for w, f in zip(wins, facts, strict=True):
        title, summary = render.title(f), render.summary(f)
        written = w.written
        stored, markdown = as_json(sections(f)), render.markdown(f)
        records.append((new_id(rng), w.id, title, summary, stored, markdown, *[written] * 3))
        entries.append(
            (
                new_id(rng),
                w.id,
                f.customer_id,
                title,
                summary,
                f.industry,
                f.use_case,
                f.products,
                f.goal_type,
                f.achieved,
                f.unit,
                w.achieved_at.date(),
                f.consent_level,
                written,
                written,
            )
        )
        line = f"Goal achieved: {f.goal_name}"
        lines.append(
            (new_id(rng), w.goal.account.id, w.achieved_at, "goal_achieved", line, summary)
            + (None, "achievement", w.id)
        )
    if wins:
        done = [{"id": str(w.goal.id), "at": w.detected.isoformat()} for w in wins]
        conn.execute(GOALS_DONE, {"rows": as_json(done)})
        for w in wins:
            w.goal.status = "achieved"
    return {
        "goal_achievements": copy_rows(
            conn, "goal_achievements", ACHIEVEMENT_COLUMNS, _achievement_rows(wins)
        ),
        "success_records": copy_rows(conn, "success_records", RECORD_COLUMNS, records),
        "value_repository_entries": copy_rows(
            conn, "value_repository_entries", ENTRY_COLUMNS, entries
        ),
        "timeline_events": copy_rows(conn, "timeline_events", TIMELINE_COLUMNS, lines),
        "health_factors": copy_rows(
            conn, "health_factors", FACTOR_COLUMNS, _attainment(rng, goals, wins)
        ),
        # after the achievements they point at
        **win_outreach.load(conn, rng, wins, facts, cutoff),
    }
