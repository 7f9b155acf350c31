"""The facts of wins documented in the past, gathered for all of them at once.

`core.records.facts.gather` collects one achievement's facts with a handful of queries, as the
documentation job does one win at a time. Writing months of past wins that way would dominate a
large demo, so this module reads the same things for every past win in a few set-based queries
and fills the same `RecordFacts`, by the same rules, as of the moment each record was written:

- products: every product of the customer's upsells closed by the day it was achieved;
- quotes: the customer's positive feedback (NPS 9-10, CSAT 4-5) of at least QUOTE_MIN_LENGTH
  characters given by then, ranked by score, length and recency (`best_quotes`);
- contributing factors: metrics that improved 10% or more from the goal's first to its last 14
  days, upsells closed and milestones completed in the goal's period, the latest three timeline
  lines of the period (`contributing_factors`);
- the marketing score (`core.marketing.score`) with the sentiment, novelty and fatigue as of then.
"""

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, text

from core.base import Direction
from core.marketing import score as marketing

# Milestones and timeline lines of each win's period are read by documentation's own queries.
from core.records.facts import ACTIVITY, MILESTONES, QUOTE_MIN_LENGTH, Quote, RecordFacts
from data.catalog import METRIC, PRODUCTS
from data.load import midnight

FACTOR_MIN = 0.10  # an improvement that counts as a contributing factor
QUOTES_SHOWN = 3
# One row per (win, metric the customer reports): two short index range scans each.
ADOPTION = text(
    """
    SELECT k.i, m.name, m.unit, m.direction, f.v AS first, l.v AS last
      FROM unnest(CAST(:idx AS int[]), CAST(:customers AS uuid[]), CAST(:keys AS text[]),
                  CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
           AS k(i, customer_id, metric_key, start_at, end_at)
     CROSS JOIN LATERAL (
       SELECT avg(o.value) AS v FROM metric_observations o
        WHERE o.customer_id = k.customer_id AND o.metric_key = k.metric_key
          AND o.observed_at >= k.start_at AND o.observed_at <= k.end_at
          AND o.observed_at < k.start_at + interval '14 days') f
     CROSS JOIN LATERAL (
       SELECT avg(o.value) AS v FROM metric_observations o
        WHERE o.customer_id = k.customer_id AND o.metric_key = k.metric_key
          AND o.observed_at >= k.start_at AND o.observed_at <= k.end_at
          AND o.observed_at > k.end_at - interval '14 days') l
      JOIN metrics m ON m.key = k.metric_key
     WHERE f.v IS NOT NULL AND l.v IS NOT NULL AND f.v <> 0
     ORDER BY k.i, m.name
    """
)
FEEDBACK = text(
    """
    SELECT customer_id, kind, score, comment, respondent_name, respondent_title, responded_at
      FROM customer_feedback WHERE customer_id = ANY(CAST(:customers AS uuid[]))
     ORDER BY responded_at
    """
)


def _period_params(wins: list) -> dict:
    return {
        "idx": list(range(len(wins))),
        "customers": [w.goal.account.id for w in wins],
        "starts": [midnight(w.goal.start) for w in wins],
        "ends": [w.achieved_at for w in wins],
    }


def _factors(conn: Connection, wins: list, deals, metrics_of) -> list[list[str]]:
    """The contributing factors of each win, in the order core.records.facts lists them."""
    params = _period_params(wins)
    pairs = [(i, key) for i, w in enumerate(wins) for key in metrics_of[w.goal.account.id]]
    adoption = {
        "idx": [i for i, _ in pairs],
        "customers": [params["customers"][i] for i, _ in pairs],
        "keys": [key for _, key in pairs],
        "starts": [params["starts"][i] for i, _ in pairs],
        "ends": [params["ends"][i] for i, _ in pairs],
    }
    found: list[list[str]] = [[] for _ in wins]
    for i, name, unit, direction, first, last in conn.execute(ADOPTION, adoption):
        change = float((last - first) / abs(first))
        change = -change if direction == Direction.LOWER.value else change
        if change >= FACTOR_MIN:
            found[i].append(f"{name} improved {change:.0%} over the period ({unit})")
    for i, w in enumerate(wins):
        bought = sorted(
            (e.close, line[1])
            for e in deals.get(w.goal.account.id, ())
            for line in e.lines
            if w.goal.start <= e.close <= w.achieved_at.date()
        )
        found[i] += [
            f"Adopted {PRODUCTS[code][0]} (purchased {when:%b %d, %Y})" for when, code in bought
        ]
    for i, name in conn.execute(MILESTONES, params):
        found[i].append(f"Completed milestone: {name}")
    for i, title in conn.execute(ACTIVITY, params):
        found[i].append(f"Activity: {title}")
    return [f or ["Steady use of the product over the goal period"] for f in found]


def _quotes(feedback: list, until: datetime) -> list[Quote]:
    scored = []
    for fb in feedback:
        comment = (fb.comment or "").strip()
        positive = fb.score >= (9 if fb.kind == "nps" else 4)
        if fb.responded_at > until or len(comment) < QUOTE_MIN_LENGTH or not positive:
            continue
        rank = fb.score * (10 if fb.kind == "csat" else 5) + min(len(comment), 200) / 20
        scored.append((rank, fb.responded_at, fb, comment))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [
        Quote(comment, fb.respondent_name, fb.respondent_title, fb.kind, fb.score)
        for _, _, fb, comment in scored[:QUOTES_SHOWN]
    ]


def _latest(feedback: list, kind: str, until: datetime) -> int | None:
    scores = [fb.score for fb in feedback if fb.kind == kind and fb.responded_at <= until]
    return scores[-1] if scores else None


def gather_all(conn: Connection, wins: list, deals: dict, metrics_of: dict) -> list[RecordFacts]:
    """Return each past win's facts (and set its marketing score), in the order given.

    `wins` have .id, .goal, .achievement (the row's fields) and .written (when the record was
    written); `deals` maps a customer to its upsells, `metrics_of` to the metrics it reports.
    Wins are scored in the order written, so the repository's similar wins are those documented
    before.
    """
    factors = _factors(conn, wins, deals, metrics_of)
    customers = sorted({w.goal.account.id for w in wins})
    feedback: dict[uuid.UUID, list] = defaultdict(list)
    for fb in conn.execute(FEEDBACK, {"customers": customers}):
        feedback[fb.customer_id].append(fb)
    similar: dict[tuple, int] = defaultdict(int)
    facts = []
    for w, found in zip(wins, factors, strict=True):
        g, a, account = w.goal, w.achievement, w.goal.account
        m = METRIC.get(g.metric or "")
        csm = account.owner
        said = feedback[account.id]
        f = RecordFacts(
            achievement_id=str(w.id),
            customer_id=str(account.id),
            customer_name=account.name,
            industry=account.industry.name,
            segment=account.segment,
            use_case=account.use_case,
            consent_level=account.consent,
            csm_name=csm.name,
            csm_email=csm.email,
            csm_slack_id=csm.slack_user_id,
            goal_name=g.name,
            goal_description=g.description,
            goal_type=g.type,
            metric_name=m.name if m else None,
            unit=m.unit if m else None,
            is_money=bool(m and m.is_money),
            direction=m.direction if m else Direction.HIGHER.value,
            baseline=a["baseline_value"],
            target=a["target_value"],
            achieved=a["achieved_value"],
            start_date=g.start,
            achieved_at=w.achieved_at,
            due_date=g.due,
            rule=a["rule"],
            confidence=a["confidence"],
            method=a["method"],
            evidence=a["evidence"],
            products=sorted(
                {
                    PRODUCTS[line[1]][0]
                    for e in deals.get(account.id, ())
                    if e.close <= w.achieved_at.date()
                    for line in e.lines
                }
            ),
            factors=found,
            quotes=_quotes(said, w.written),
        )
        key = (f.industry, f.use_case)
        money = float(f.achieved) if f.is_money and f.achieved is not None else None
        result = marketing.score(
            marketing.ScoreInputs(
                improvement=f.improvement,
                beyond_target=f.beyond_target,
                money_value=money,
                goal_type=f.goal_type,
                nps=_latest(said, "nps", w.written),
                csat=_latest(said, "csat", w.written),
                health=account.health,
                customer_since=account.since,
                as_of=w.written.date(),
                quote_ready=bool(f.quotes),
                any_comment=any(fb.responded_at <= w.written for fb in said if fb.comment),
                similar_wins=similar[key],
                consent=account.consent,
                asks_last_90_days=0,
            )
        )
        similar[key] += 1
        a["marketing_score"] = result.value
        a["marketing_reasons"] = result.reasons
        a["marketing_candidates"] = result.candidates
        facts.append(f)
    return facts
