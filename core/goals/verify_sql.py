"""The verification rules of `core.goals.verify`, decided in SQL over each goal's observations.

`core.goals.verify` is the readable reference; this module states the same rules with window
functions, so a pass ships only the goals that have a verdict (a win, a held spike, met at start
or active again) with their evidence, never every point. A property test
(tests/core/goals/test_verify_agreement.py) holds the two to the same verdicts.

Per goal (`r` = 1 is the latest point, so the reference's index `i` is `n - r`):

- **seen**: one `LATERAL` read of the latest `RECENT` observations since the start date (the
  observations' primary key serves it) and of the value at the start, with each point's measure
  (value ÷ cost rounded half-even to 4 places for ratio ROI goals, else the value) and whether it
  meets the target in the goal's direction. Most goals stop here: when no point meets the target
  there is no excursion, so the verdict follows from the count. A goal with a point that meets
  keeps its points as arrays for the next steps, latest first (a point's place in them is its
  `r`: the arrays are aggregated in the order the read returns them, so no sort);
- **streaks** (`SCAN`): stretches of points with the same answer, numbered from the latest
  (`k` = 1); a meeting streak is an *excursion*. The goal is armed from the start unless it was
  met at start (its stated baseline or value at the start meets the target: decided from the
  data while the points reach back to the start, else by the stored status), otherwise from the
  first streak of `consecutive` short points; only excursions after that count;
- **decision**: not armed → met at start; the latest point older than `max_age_days` → nothing;
  the excursion under way → verified once it holds (`consecutive` points, or in window mode the
  average and the median of the last `window_days` days since arming); otherwise the latest
  excursion that fell back, shorter than `consecutive`, with at least 7 points before it and a
  median more than `spike_z` spreads beyond their mean (spread: the population standard deviation
  of the 30 points before it, floored at 10% of their mean, else 1) → held;
- **evidence** (`EVIDENCE`), for a verdict only: the shown observations and which prove it, the
  medians of the run and of the points before it, the level a goal met at start fell back to.

Every step after `seen` is a `LATERAL` over the goal's own arrays, never a join between sets of
goals, so no estimate of the planner's can turn a pass quadratic (tests and fresh databases run
without statistics). Numbers keep the reference's arithmetic: comparisons and medians are exact
`numeric` (a median comes back as its two middle values, averaged in Python as
`statistics.median` does); the spike statistics that decide are `float8` like the reference's
floats (the spread is the square root of the exact variance, to 40 places). The figures a held
win shows (its z and the mean before it) come from the reference's own functions over the
points returned with it: the reference sums with `fsum`, and at a tie in the fourth decimal one
ulp tells the two apart. Otherwise Python only words the verdict (`verdict`).

A goal whose `verification` overrides are not numbers of the right kind is not judged: it comes
back with the names of the bad rules, for the caller to record as a failed item.
"""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from core.base import Direction
from core.goals.models import AchievementStatus, Confidence
from core.goals.results import RATIO_UNITS, improvement_pct
from core.goals.verify import (
    DEFAULTS,
    FELL_BACK_TO,
    MIN_SPREAD_POINTS,
    OBSERVED_AT_START,
    SHOWN,
    SPREAD_POINTS,
    STATED,
    Verdict,
    after_flapping,
    consecutive_rule,
    prior_mean,
    rules_for,
    spike_reason,
    window_rule,
    z_score,
)

RECENT = 60  # observations read per goal (the latest since its start)
START_LOOKBACK_DAYS = 31  # the value at the start: the latest observation this far before it
MAX_DAYS = 36_500  # window_days and max_age_days beyond this are not a rule
MAX_SPIKE_Z = 1_000_000

# Python's str.strip() removes every Unicode space; btrim() gets them spelled out.
SPACES = "".join(c for c in map(chr, range(0x110000)) if c.isspace())


def _meets(value: str) -> str:
    """SQL telling whether `value` meets the goal's target in its direction."""
    return f"(CASE WHEN g.lower THEN {value} <= g.target ELSE {value} >= g.target END)"


def _measure(value: str) -> str:
    """SQL of what a goal compares: value ÷ cost rounded half-even to 4 places for ratio goals."""
    # Exactly as Decimal.quantize rounds: the truncated quotient of value × 10,000 by the cost,
    # moved away from zero when the rest is over half the cost, or half and the quotient odd.
    scaled = f"({value} * 10000)"
    quotient = f"div({scaled}, g.cost)"
    twice_rest = f"(2 * abs({scaled} - {quotient} * g.cost))"
    return (
        f"(CASE WHEN g.ratio THEN ({quotient} + CASE WHEN {twice_rest} > abs(g.cost) "
        f"OR ({twice_rest} = abs(g.cost) AND mod({quotient}, 2) <> 0) "
        f"THEN sign({value}) * sign(g.cost) ELSE 0 END) * 0.0001 ELSE {value} END)"
    )


def _rule(key: str, default, low, high, cast: str) -> str:
    """SQL reading one numeric override: its default when absent, NULL when not a rule."""
    value = f"(o.rules ->> '{key}')"
    return (
        f"CASE WHEN o.rules IS NULL THEN NULL WHEN NOT o.rules ? '{key}' THEN {default} "
        f"WHEN jsonb_typeof(o.rules -> '{key}') <> 'number' THEN NULL "
        f"WHEN {value}::numeric BETWEEN {low} AND {high} THEN {value}::{cast} END"
    )


def _since_now(days: str) -> str:
    """SQL of the moment `days` (a float8 column) before the pass's `now`."""
    return f"(CAST(:now AS timestamptz) - make_interval(secs => {days} * 86400))"


def _goal_cte(candidates: str) -> str:
    """SQL of the `goal` CTE: the candidate goal rows with their rules read and checked."""
    return f"""
goal AS MATERIALIZED (
  SELECT c.id, c.customer_id, c.metric_key, c.status::text AS stored, c.evaluated_at,
         c.start_date, c.target, c.cost, c.verification,
         c.direction = 'lower_is_better' AS lower, k.ratio,
         CASE WHEN k.ratio THEN NULL ELSE c.baseline END AS stated,
         k.needed, k.window_mode, k.window_days, k.max_age_days, k.spike_z,
         CASE WHEN o.rules IS NULL THEN ARRAY['verification']
              ELSE array_remove(ARRAY[
                CASE WHEN k.needed IS NULL THEN 'consecutive' END,
                CASE WHEN k.window_days IS NULL THEN 'window_days' END,
                CASE WHEN k.max_age_days IS NULL THEN 'max_age_days' END,
                CASE WHEN k.spike_z IS NULL THEN 'spike_z' END], NULL) END AS bad_rules
    FROM ({candidates}) c
    CROSS JOIN LATERAL (
      SELECT CASE jsonb_typeof(coalesce(c.verification, 'null'))
               WHEN 'object' THEN c.verification WHEN 'null' THEN '{{}}'::jsonb END AS rules
    ) o
    CROSS JOIN LATERAL (
      SELECT coalesce(c.type::text = 'roi' AND c.cost <> 0
                      AND lower(btrim(c.unit, :spaces)) = ANY(:ratio_units), false) AS ratio,
             CASE WHEN o.rules IS NULL THEN NULL
                  WHEN NOT o.rules ? 'consecutive' THEN {DEFAULTS["consecutive"]}
                  WHEN jsonb_typeof(o.rules -> 'consecutive') <> 'number' THEN NULL
                  WHEN (o.rules ->> 'consecutive') !~ '^[0-9]{{1,6}}$' THEN NULL
                  WHEN (o.rules ->> 'consecutive')::int >= 1
                  THEN (o.rules ->> 'consecutive')::int END AS needed,
             coalesce(o.rules ->> 'mode', '') = 'window' AS window_mode,
             {_rule("window_days", DEFAULTS["window_days"], 0, MAX_DAYS, "float8")}
               AS window_days,
             {_rule("max_age_days", DEFAULTS["max_age_days"], 0, MAX_DAYS, "float8")}
               AS max_age_days,
             {_rule("spike_z", DEFAULTS["spike_z"], -MAX_SPIKE_Z, MAX_SPIKE_Z, "float8")}
               AS spike_z
    ) k
)"""


# Where the goal started: its measure at the start, and whether that or the stated baseline
# already meets the target.
START = f"""
  SELECT sv.v AS start_value,
         coalesce(g.stated IS NOT NULL AND {_meets("g.stated")}, false)
           OR coalesce({_meets("sv.v")}, false) AS start_met
    FROM (SELECT max({_measure("s.value")}) AS v FROM (
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
            LIMIT 1) s) sv
"""

VERIFIED, HELD = AchievementStatus.VERIFIED.value, AchievementStatus.HELD.value
# The points of a goal with one meeting the target, from the arrays `seen` keeps for it.
POINTS = "unnest(g.at, g.vs) WITH ORDINALITY AS {0}(observed_at, v, r)"
CANDIDATE = f"""b.m AND b.k > 1 AND b.start_r <= b.armed_r AND b.len < g.needed
           AND g.n - b.start_r >= {MIN_SPREAD_POINTS}"""

# One goal's streaks, numbered from the latest (k = 1): where the goal was armed, the
# excursion under way, how often it crossed and fell back, and the latest lone spike.
SCAN = f"""
  SELECT max(c.armed_r) AS armed_r,
         max(c.len) FILTER (WHERE c.k = 1 AND c.m AND c.start_r <= c.armed_r) AS run_len,
         max(c.start_at) FILTER (WHERE c.k = 1 AND c.m) AS run_at,
         count(*) FILTER (WHERE c.m AND c.k > 1 AND c.start_r <= c.armed_r) AS flapped,
         max(c.start_r) FILTER (WHERE c.spike) AS spike_r,
         max(c.len) FILTER (WHERE c.spike) AS spike_len,
         max(c.start_at) FILTER (WHERE c.spike) AS spike_at
    FROM (  -- the latest excursion whose z is beyond spike_z is the spike
      SELECT b.*, z.z,
             coalesce(z.z > g.spike_z AND count(*) FILTER (WHERE z.z > g.spike_z)
                                          OVER (ORDER BY b.k ROWS UNBOUNDED PRECEDING) = 1,
                      false) AS spike
        FROM (  -- streaks, at their oldest point, and where the goal was armed
          SELECT a.k, a.m, a.r AS start_r, a.pos AS len, a.observed_at AS start_at,
                 CASE WHEN g.armed0 THEN g.n
                      ELSE max(a.r) FILTER (WHERE NOT a.m AND a.pos >= g.needed) OVER () END
                   AS armed_r
            FROM (
              SELECT p.*, count(*) FILTER (WHERE p.head) OVER w AS k,
                     p.r - max(p.r) FILTER (WHERE p.head) OVER w + 1 AS pos
                FROM (
                  SELECT u.*,
                         (lag(u.m) OVER o) IS DISTINCT FROM u.m AS head,  -- its streak's newest
                         (lead(u.m) OVER o) IS DISTINCT FROM u.m AS tail  -- its streak's oldest
                    FROM (SELECT q.r, q.observed_at, {_meets("q.v")} AS m
                            FROM {POINTS.format("q")}) u
                  WINDOW o AS (ORDER BY u.r)
                ) p
              WINDOW w AS (ORDER BY p.r ROWS UNBOUNDED PRECEDING)
            ) a
           WHERE a.tail
        ) b
        LEFT JOIN LATERAL (  -- a short excursion's distance beyond the spread before it
          SELECT (CASE WHEN g.lower THEN l.mean - l.level ELSE l.level - l.mean END)
                   / CASE WHEN greatest(l.sd, abs(l.mean) * 0.1::float8) = 0 THEN 1.0
                          ELSE greatest(l.sd, abs(l.mean) * 0.1::float8) END AS z
            FROM (SELECT count(*) FILTER (WHERE q.r > b.start_r) AS n,
                         sum(q.v) FILTER (WHERE q.r > b.start_r) AS total,
                         sum(q.v * q.v) FILTER (WHERE q.r > b.start_r) AS squares,
                         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v)
                           FILTER (WHERE q.r <= b.start_r) AS lo,
                         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v DESC)
                           FILTER (WHERE q.r <= b.start_r) AS hi
                    FROM {POINTS.format("q")}
                   WHERE {CANDIDATE}
                     AND q.r > b.start_r - b.len AND q.r <= b.start_r + {SPREAD_POINTS}
                  HAVING count(*) > 0) x
            CROSS JOIN LATERAL (
              SELECT x.total::float8 / x.n AS mean,
                     sqrt(round(x.n * x.squares - x.total * x.total, 40) / (x.n * x.n))::float8
                       AS sd,
                     CASE WHEN mod(b.len, 2) = 1 THEN x.lo::float8
                          ELSE (x.lo::float8 + x.hi::float8) / 2 END AS level
            ) l
        ) z ON true
    ) c
"""

# Window mode: the points of the last window_days since the goal was armed.
RECENT_POINTS = f"""
  SELECT count(*) AS rec_n, sum(q.v) AS rec_sum,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v) AS rec_lo,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v DESC) AS rec_hi
    FROM {POINTS.format("q")}
   WHERE g.window_mode AND s.run_len IS NOT NULL AND q.r <= s.armed_r
     AND q.observed_at >= {_since_now("g.window_days")}
"""

# A verdict's evidence: the observations shown and those proving it, the run's level and
# margin, the level before it, and the level a goal met at start fell back to.
EVIDENCE = f"""
  SELECT array_agg(q.observed_at ORDER BY q.r) FILTER (WHERE f.shown) AS shown_at,
         array_agg(q.v ORDER BY q.r) FILTER (WHERE f.shown) AS shown_v,
         array_agg(f.proves ORDER BY q.r) FILTER (WHERE f.shown) AS shown_q,
         max(q.v) FILTER (WHERE q.r = 1) AS latest_v,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v) FILTER (WHERE f.run) AS run_lo,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v DESC) FILTER (WHERE f.run) AS run_hi,
         min(abs(q.v::float8 - g.target::float8)
             / CASE WHEN g.target = 0 THEN 1.0 ELSE abs(g.target::float8) END)
           FILTER (WHERE f.run) AS run_margin,
         CASE WHEN g.lower THEN min(q.v) FILTER (WHERE f.spike)
              ELSE max(q.v) FILTER (WHERE f.spike) END AS spike_peak,
         max(q.v) FILTER (WHERE q.r = s.spike_r - s.spike_len) AS spike_after,
         array_agg(q.v) FILTER (WHERE f.spike) AS spike_vs,
         array_agg(q.v) FILTER (WHERE f.before_spike) AS before_spike,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v) FILTER (WHERE f.before_run)
           AS prior_lo,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v DESC) FILTER (WHERE f.before_run)
           AS prior_hi,
         count(*) FILTER (WHERE f.before_run) AS prior_n,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v) FILTER (WHERE f.fell_back) AS base_lo,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY q.v DESC) FILTER (WHERE f.fell_back)
           AS base_hi,
         count(*) FILTER (WHERE f.fell_back) AS base_n
    FROM {POINTS.format("q")}
    CROSS JOIN LATERAL (
      SELECT CASE WHEN v.held THEN s.spike_r ELSE s.run_len END AS at_r,
             CASE WHEN v.held AND s.spike_r > {SHOWN}  -- an older spike: the days around it
                  THEN least(g.n, s.spike_r + 3) ELSE {SHOWN} END AS shown_hi
    ) x
    CROSS JOIN LATERAL (
      SELECT q.r BETWEEN x.shown_hi - {SHOWN - 1} AND x.shown_hi AS shown,
             NOT v.held AND q.r <= s.run_len AS run,
             v.held AND q.r > s.spike_r - s.spike_len AND q.r <= s.spike_r AS spike,
             CASE WHEN v.held THEN q.r > s.spike_r - s.spike_len AND q.r <= s.spike_r
                  WHEN g.window_mode
                  THEN q.r <= s.armed_r AND q.observed_at >= {_since_now("g.window_days")}
                  ELSE q.r <= s.run_len END AS proves,
             NOT v.held AND q.r > s.run_len AND q.r <= s.run_len + {SPREAD_POINTS}
               AS before_run,
             v.held AND q.r > s.spike_r AND q.r <= s.spike_r + {SPREAD_POINTS} AS before_spike,
             g.start_met AND NOT {_meets("q.v")}
               AND q.r > x.at_r AND q.r <= x.at_r + {SPREAD_POINTS} AS fell_back
    ) f
   WHERE v.verdict IS NOT NULL
"""


def _judged_ctes() -> str:
    """SQL of the CTEs after `goal`, ending in `judged` (see the module docstring)."""
    return f"""
seen AS MATERIALIZED (  -- per goal: its latest points as a whole, and them if one meets
  SELECT g.*, st.start_value, st.start_met, w.n, w.latest_at, w.any_m, w.at, w.vs,
         CASE WHEN w.n < :recent OR g.evaluated_at IS NULL THEN NOT st.start_met
              ELSE g.stored <> 'met_at_start' END AS armed0
    FROM goal g
    CROSS JOIN LATERAL ({START}) st
    CROSS JOIN LATERAL (
      SELECT count(*) AS n, max(x.observed_at) AS latest_at,
             coalesce(bool_or(x.m), false) AS any_m,
             -- latest first, so a point's place is its r: the read's own order (no sort)
             CASE WHEN bool_or(x.m) THEN array_agg(x.observed_at ORDER BY x.observed_at DESC)
             END AS at,
             CASE WHEN bool_or(x.m) THEN array_agg(x.v ORDER BY x.observed_at DESC) END AS vs
        FROM (SELECT y.observed_at, y.v, {_meets("y.v")} AS m
                FROM (SELECT ob.observed_at, {_measure("ob.value")} AS v
                        FROM metric_observations ob
                       WHERE ob.customer_id = g.customer_id AND ob.metric_key = g.metric_key
                         AND ob.observed_at >= g.start_date
                       ORDER BY ob.observed_at DESC
                       LIMIT :recent) y) x
    ) w
), judged AS MATERIALIZED (  -- every goal read, with its verdict and the evidence of one
  SELECT g.id, g.customer_id, g.stored, g.evaluated_at, g.verification, g.lower, g.target,
         g.ratio, g.stated,
         g.window_mode, g.bad_rules, g.start_value, g.start_met, g.n, g.latest_at,
         v.armed_r, s.run_len, s.run_at, s.flapped, s.spike_len, s.spike_at,
         rec.*, ev.*, v.verdict,
         CASE WHEN s.run_len >= 2 * g.needed AND ev.run_margin >= 0.02::float8
                   AND s.flapped = 0 THEN '{Confidence.HIGH.value}'
              WHEN s.run_len >= 2 * g.needed OR ev.run_margin >= 0.02::float8
              THEN '{Confidence.MEDIUM.value}'
              ELSE '{Confidence.LOW.value}' END AS confidence
    FROM seen g
    CROSS JOIN LATERAL ({SCAN} WHERE g.any_m) s  -- no point meets: no streak to scan
    CROSS JOIN LATERAL ({RECENT_POINTS}) rec
    CROSS JOIN LATERAL (  -- the verdict
      SELECT a.armed_r,
             CASE WHEN cardinality(g.bad_rules) > 0 OR g.n = 0 OR a.armed_r IS NULL THEN NULL
                  WHEN g.latest_at < {_since_now("g.max_age_days")} THEN NULL
                  WHEN s.run_len IS NOT NULL THEN
                    CASE WHEN CASE WHEN NOT g.window_mode THEN s.run_len >= g.needed
                                   WHEN g.lower
                                   THEN rec.rec_n > 0 AND rec.rec_sum <= g.target * rec.rec_n
                                        AND rec.rec_lo + rec.rec_hi <= 2 * g.target
                                   ELSE rec.rec_n > 0 AND rec.rec_sum >= g.target * rec.rec_n
                                        AND rec.rec_lo + rec.rec_hi >= 2 * g.target END
                         THEN '{VERIFIED}' END
                  WHEN s.spike_r IS NOT NULL THEN '{HELD}'
             END AS verdict,
             s.run_len IS NULL AND s.spike_r IS NOT NULL AS held
        FROM (SELECT CASE WHEN g.armed0 THEN g.n
                          WHEN NOT g.any_m THEN CASE WHEN g.n >= g.needed THEN g.n END
                          ELSE s.armed_r END AS armed_r) a
    ) v
    LEFT JOIN LATERAL ({EVIDENCE}) ev ON true
)"""


def judged_ctes(candidates: str) -> str:
    """SQL of the CTEs, ending in `judged`, judging the goals `candidates` selects."""
    # The statement binds judge_params(now) and whatever `candidates` names.
    return f"{_goal_cte(candidates)},{_judged_ctes()}"


# The judged goals worth reporting: a verdict, a move in or out of met at start, or bad rules.
# (The goals read are those with observations since their start and rules that are rules:
# `READ`, for a statement that stamps them.)
READ = "j.n > 0 AND cardinality(j.bad_rules) = 0"
REPORT = """
SELECT j.* FROM judged j
 WHERE j.n > 0
   AND (cardinality(j.bad_rules) > 0 OR j.verdict IS NOT NULL
        OR ((j.armed_r IS NULL) <> (j.stored = 'met_at_start')
            AND j.stored <> 'pending_confirmation'))
"""


def judge_params(now: datetime) -> dict:
    """The parameters every judging statement binds."""
    return {
        "now": now,
        "recent": RECENT,
        "lookback": START_LOOKBACK_DAYS,
        "spaces": SPACES,
        "ratio_units": list(RATIO_UNITS),
    }


# What each override must be, for the failure a goal with a bad one is recorded with.
RULE_KINDS = {
    "verification": f"an object of rules ({', '.join(DEFAULTS)})",
    "consecutive": "a whole number of at least 1",
    "window_days": f"a number of days from 0 to {MAX_DAYS:,}",
    "max_age_days": f"a number of days from 0 to {MAX_DAYS:,}",
    "spike_z": "a number",
}


def bad_rules(names: list[str]) -> str:
    """Say which verification overrides are not rules (the goal's failure reason)."""
    if names == ["verification"]:
        return f"verification: must be {RULE_KINDS['verification']}"
    return "verification: " + "; ".join(f"{name} must be {RULE_KINDS[name]}" for name in names)


def judge(*, session: Session, now: datetime, goal_ids: list[uuid.UUID]) -> dict:
    """Judge the given goals as they stand; return the verdicts worth reporting by goal id."""
    candidates = "SELECT * FROM goals WHERE id = ANY(CAST(:ids AS uuid[]))"
    statement = text(f"WITH {judged_ctes(candidates)} {REPORT}")
    rows = session.execute(statement, judge_params(now) | {"ids": goal_ids})
    return {row.id: verdict(row) for row in rows if not row.bad_rules}


def verdict(row: Row) -> Verdict:
    """Word a reported row's verdict as `core.goals.verify` words it."""
    if row.verdict is None:
        met = row.armed_r is None
        reason = "already met when the goal started" if met else "not achieved"
        return Verdict(None, reason, met_at_start=met)
    direction = Direction.LOWER if row.lower else Direction.HIGHER
    evidence = {
        "target": str(row.target),
        "direction": direction.value,
        "observations": [
            {"observedAt": at.isoformat(), "value": str(value), "qualifying": proves}
            for at, value, proves in zip(row.shown_at, row.shown_v, row.shown_q, strict=True)
        ],
        "qualifying": 0,
        "startValue": None if row.start_value is None else str(row.start_value),
    }
    judged = _crossing(row, evidence) if row.verdict == VERIFIED else _held(row, evidence)
    judged.baseline = _against_baseline(row, evidence)
    change = improvement_pct(judged.baseline, judged.achieved_value, direction)
    judged.improvement = None if change is None else Decimal(str(change))
    return judged


def _median(low: Decimal, high: Decimal, count: int) -> Decimal:
    """The median from its two middle values, as `statistics.median` computes it."""
    return low if count % 2 == 1 else (low + high) / 2


def _crossing(row: Row, evidence: dict) -> Verdict:
    rules = rules_for(row.verification)
    if row.window_mode:
        average = row.rec_sum / row.rec_n
        median = _median(row.rec_lo, row.rec_hi, row.rec_n)
        rule_text = window_rule(rules["window_days"], average, median, row.target)
        qualifying = row.rec_n
    else:
        rule_text = consecutive_rule(row.run_len, rules["consecutive"])
        qualifying = row.run_len
    if row.flapped:
        rule_text = after_flapping(rule_text, row.flapped)
    held_days = (row.latest_at - row.run_at).total_seconds() / 86400
    evidence |= {
        "rule": rule_text,
        "qualifying": qualifying,
        "crossings": row.flapped + 1,
        "level": str(_median(row.run_lo, row.run_hi, row.run_len)),
        "priorLevel": str(_median(row.prior_lo, row.prior_hi, row.prior_n))
        if row.prior_n
        else None,
        "heldDays": round(held_days, 1),
        "pattern": "flapping_then_held" if row.flapped else "level_shift",
    }
    return Verdict(
        AchievementStatus.VERIFIED,
        rule_text,
        Confidence(row.confidence),
        row.run_at,
        row.latest_v,
        evidence,
    )


def _held(row: Row, evidence: dict) -> Verdict:
    # SQL chose the spike by its float8 z; the figures shown are the reference's own floats
    # (its mean is fsum's, which a tie in the fourth decimal could tell apart).
    direction = Direction.LOWER if row.lower else Direction.HIGHER
    z = z_score(row.spike_vs, row.before_spike, direction)
    reason = spike_reason(row.spike_len, row.spike_peak, row.spike_after, z)
    evidence |= {
        "rule": reason,
        "pattern": "lone_spike",
        "qualifying": 0,
        "spikeZ": round(z, 2),
        "priorMean": round(prior_mean(row.before_spike), 4),
    }
    return Verdict(
        AchievementStatus.HELD,
        reason,
        Confidence.LOW,
        row.spike_at,
        row.spike_peak,
        evidence,
    )


def _against_baseline(row: Row, evidence: dict) -> Decimal | None:
    """The stated baseline, else the value at the start, else the level it fell back to."""
    baseline, source = row.stated, STATED
    if baseline is None:
        baseline, source = row.start_value, OBSERVED_AT_START
    if row.start_met and row.base_n:
        baseline, source = _median(row.base_lo, row.base_hi, row.base_n), FELL_BACK_TO
    evidence["baseline"] = None if baseline is None else str(baseline)
    evidence["baselineSource"] = None if baseline is None else source
    return baseline
