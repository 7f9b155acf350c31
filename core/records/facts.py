"""Build the success record of an achievement: the facts, the story, and its renderings."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, Row, Uuid, any_, bindparam, select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Direction
from core.customers.feedback import QUOTE_MIN_LENGTH as QUOTE_MIN_LENGTH  # data/ reads it here
from core.customers.feedback import quotable
from core.customers.models import Customer, Feedback, FeedbackSource, Metric
from core.errors import NotFound
from core.goals.models import Achievement, Goal
from core.goals.queries import achievements_with_goal
from core.goals.results import beyond_target_pct, describe_result, improvement_pct, is_ratio_goal
from core.schemas import json_ready

MILESTONES_SHOWN, ACTIVITY_SHOWN = 5, 3


@dataclass
class Quote:
    text: str
    name: str | None
    title: str | None
    kind: str
    score: int | None  # None: a quote a CSM logged without a score


@dataclass
class RecordFacts:
    """Everything a success record says, gathered once."""

    achievement_id: str
    customer_id: str
    customer_name: str
    industry: str
    segment: str
    use_case: str | None
    consent_level: str
    csm_name: str | None
    csm_email: str | None
    csm_slack_id: str | None
    goal_name: str
    goal_description: str | None
    goal_type: str
    metric_name: str | None
    unit: str | None
    is_money: bool
    direction: str
    baseline: Decimal | None
    target: Decimal | None
    achieved: Decimal | None
    start_date: date
    achieved_at: datetime
    due_date: date | None
    rule: str
    confidence: str
    method: str
    evidence: dict
    products: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)

    @property
    def days_to_achieve(self) -> int:
        return max(0, (self.achieved_at.date() - self.start_date).days)

    @property
    def beyond_target(self) -> float | None:
        return beyond_target_pct(self.achieved, self.target, Direction(self.direction))

    @property
    def improvement(self) -> float | None:
        return improvement_pct(self.baseline, self.achieved, Direction(self.direction))

    @property
    def baseline_source(self) -> str | None:
        """Where the baseline came from when the goal stated none ("observed at the start")."""
        return (self.evidence or {}).get("baselineSource")

    @property
    def result(self) -> str:
        return describe_result(self)

    def as_dict(self) -> dict:
        # No deep copy first (asdict's, the slow part): json_ready builds new containers anyway.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["quotes"] = [asdict(q) for q in self.quotes]
        data.update(
            days_to_achieve=self.days_to_achieve,
            beyond_target=self.beyond_target,
            improvement=self.improvement,
            result=self.result,
        )
        return json_ready(data)


def stored_facts(sections: dict) -> RecordFacts:
    """Rebuild the facts a success record was written from (its `sections`)."""
    data = {f.name: sections[f.name] for f in fields(RecordFacts) if f.name in sections}
    for key in ("baseline", "target", "achieved"):
        data[key] = None if data.get(key) is None else Decimal(data[key])
    for key in ("start_date", "due_date"):
        data[key] = None if data.get(key) is None else date.fromisoformat(data[key])
    data["achieved_at"] = datetime.fromisoformat(data["achieved_at"])
    data["quotes"] = [Quote(**q) for q in data.get("quotes", [])]
    return RecordFacts(**data)


FRAME = (
    achievements_with_goal(
        Achievement.id,
        Achievement.customer_id,
        Achievement.baseline_value,
        Achievement.target_value,
        Achievement.achieved_value,
        Achievement.achieved_at,
        Achievement.rule,
        Achievement.confidence,
        Achievement.method,
        Achievement.evidence,
        Goal.name.label("goal_name"),
        Goal.description,
        Goal.type,
        Goal.use_case.label("goal_use_case"),
        Goal.unit.label("goal_unit"),
        Goal.cost,
        Goal.direction,
        Goal.start_date,
        Goal.due_date,
        Customer.name.label("customer_name"),
        Customer.industry,
        Customer.segment,
        Customer.use_case.label("customer_use_case"),
        Customer.consent_level,
        User.name.label("csm_name"),
        User.email.label("csm_email"),
        User.slack_user_id,
        Metric.name.label("metric_name"),
        Metric.unit.label("metric_unit"),
        Metric.is_money,
    )
    .outerjoin(User, User.id == Customer.owner_csm_id)
    .outerjoin(Metric, Metric.key == Goal.metric_key)
)

# Each win's period: from the midnight its goal started to the moment it was achieved.
PERIODS = """unnest(CAST(:idx AS int[]), CAST(:customers AS uuid[]), CAST(:starts AS timestamptz[]),
                   CAST(:ends AS timestamptz[])) AS k(i, customer_id, start_at, end_at)"""
PRODUCTS = text(
    """
    SELECT DISTINCT k.i, p.name
      FROM unnest(CAST(:idx AS int[]), CAST(:customers AS uuid[]), CAST(:untils AS date[]))
           AS k(i, customer_id, until)
      JOIN upsells u ON u.customer_id = k.customer_id AND u.close_date <= k.until
      JOIN upsell_products up ON up.upsell_id = u.id
      JOIN products p ON p.code = up.product_code
     ORDER BY k.i, p.name
    """
)
# The columns quotes are ranked and made from (lighter than loading every Feedback).
FEEDBACK = select(
    Feedback.customer_id,
    Feedback.kind,
    Feedback.score,
    Feedback.comment,
    Feedback.source,
    Feedback.respondent_name,
    Feedback.respondent_title,
    Feedback.responded_at,
).where(
    Feedback.customer_id == any_(bindparam("customers", type_=ARRAY(Uuid))),
    Feedback.comment.is_not(None),
)
# Metrics whose average over the period's first 14 days and its last 14 days both exist: per win,
# two short index range scans over the customer's observations (every metric at once, grouped),
# not two per metric: a customer observes only some of the metrics.
ADOPTION = text(
    f"""
    SELECT k.i, m.name, m.unit, m.direction, f.v AS first, l.v AS last
      FROM {PERIODS}
     CROSS JOIN LATERAL (
       SELECT o.metric_key, avg(o.value) AS v FROM metric_observations o
        WHERE o.customer_id = k.customer_id
          AND o.observed_at BETWEEN k.start_at AND k.end_at
          AND o.observed_at < k.start_at + interval '14 days'
        GROUP BY o.metric_key) f
     JOIN LATERAL (
       SELECT o.metric_key, avg(o.value) AS v FROM metric_observations o
        WHERE o.customer_id = k.customer_id
          AND o.observed_at BETWEEN k.start_at AND k.end_at
          AND o.observed_at > k.end_at - interval '14 days'
        GROUP BY o.metric_key) l ON l.metric_key = f.metric_key
     JOIN metrics m ON m.key = f.metric_key
     WHERE f.v IS NOT NULL AND l.v IS NOT NULL AND f.v <> 0
     ORDER BY k.i, m.key
    """
)
UPSELLS = text(
    """
    SELECT k.i, p.name, u.close_date
      FROM unnest(CAST(:idx AS int[]), CAST(:customers AS uuid[]), CAST(:from_days AS date[]),
                  CAST(:to_days AS date[])) AS k(i, customer_id, from_day, to_day)
      JOIN upsells u ON u.customer_id = k.customer_id
       AND u.close_date BETWEEN k.from_day AND k.to_day
      JOIN upsell_products up ON up.upsell_id = u.id
      JOIN products p ON p.code = up.product_code
     ORDER BY k.i, u.close_date
    """
)
MILESTONES = text(
    f"""
    SELECT k.i, x.name FROM {PERIODS}
     CROSS JOIN LATERAL (
       SELECT m.name, m.completed_at FROM milestones m JOIN success_plans p ON p.id = m.plan_id
        WHERE p.customer_id = k.customer_id AND m.status = 'done'
          AND m.completed_at BETWEEN k.start_at AND k.end_at
        ORDER BY m.completed_at LIMIT {MILESTONES_SHOWN}) x
     ORDER BY k.i, x.completed_at
    """
)
ACTIVITY = text(
    f"""
    SELECT k.i, x.title FROM {PERIODS}
     CROSS JOIN LATERAL (
       SELECT t.title, t.occurred_at FROM timeline_events t
        WHERE t.customer_id = k.customer_id AND t.occurred_at BETWEEN k.start_at AND k.end_at
          AND t.kind NOT LIKE 'goal%'
        ORDER BY t.occurred_at DESC LIMIT {ACTIVITY_SHOWN}) x
     ORDER BY k.i, x.occurred_at DESC
    """
)


def gather(*, session: Session, achievement_id: uuid.UUID) -> RecordFacts:
    """Collect the facts of one achievement (goal, customer, CSM, quotes, factors)."""
    found = gather_many(session=session, achievement_ids=[achievement_id])
    if achievement_id not in found:
        raise NotFound(f"No achievement {achievement_id}.")
    return found[achievement_id]


def gather_many(
    *, session: Session, achievement_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RecordFacts]:
    """Collect the facts of many achievements in a few queries, however many there are.

    Achievements that do not exist are left out.
    """
    ids = bindparam("ids", list(achievement_ids), type_=ARRAY(Uuid))
    wins = session.execute(FRAME.where(Achievement.id == any_(ids))).all()
    if not wins:
        return {}
    facts = [_facts(row) for row in wins]
    for i, name in session.execute(PRODUCTS, _days(wins, until=True)):
        facts[i].products.append(name)
    quotes = quotes_of(session=session, customer_ids={row.customer_id for row in wins})
    for row, f in zip(wins, facts, strict=True):
        f.quotes = list(quotes.get(row.customer_id, ()))
    for f, found in zip(facts, _factors(session, wins), strict=True):
        f.factors = found
    return {row.id: f for row, f in zip(wins, facts, strict=True)}


def _facts(row) -> RecordFacts:
    facts = RecordFacts(
        achievement_id=str(row.id),
        customer_id=str(row.customer_id),
        customer_name=row.customer_name,
        industry=row.industry,
        segment=row.segment.value,
        use_case=row.goal_use_case or row.customer_use_case,
        consent_level=row.consent_level.value,
        csm_name=row.csm_name,
        csm_email=row.csm_email,
        csm_slack_id=row.slack_user_id,
        goal_name=row.goal_name,
        goal_description=row.description,
        goal_type=row.type.value,
        metric_name=row.metric_name,
        unit=row.goal_unit or row.metric_unit,
        is_money=bool(row.is_money),
        direction=row.direction.value,
        baseline=row.baseline_value,
        target=row.target_value,
        achieved=row.achieved_value,
        start_date=row.start_date,
        achieved_at=row.achieved_at,
        due_date=row.due_date,
        rule=row.rule,
        confidence=row.confidence.value,
        method=row.method.value,
        evidence=row.evidence or {},
    )
    if is_ratio_goal(row.type, row.cost, row.goal_unit):
        facts.unit = "× cost"
    return facts


def _start(row) -> datetime:
    return datetime.combine(row.start_date, datetime.min.time(), tzinfo=row.achieved_at.tzinfo)


def _periods(wins: Sequence) -> dict:
    return {
        "idx": list(range(len(wins))),
        "customers": [row.customer_id for row in wins],
        "starts": [_start(row) for row in wins],
        "ends": [row.achieved_at for row in wins],
    }


def _days(wins: Sequence, *, until: bool = False) -> dict:
    ends = [row.achieved_at.date() for row in wins]
    common = {"idx": list(range(len(wins))), "customers": [row.customer_id for row in wins]}
    if until:
        return common | {"untils": ends}
    return common | {"from_days": [row.start_date for row in wins], "to_days": ends}


def best_quotes(*, session: Session, customer_id: uuid.UUID, limit: int = 3) -> list[Quote]:
    """Return the customer's most quotable feedback: logged quotes, then positive, substantial."""
    return quotes_of(session=session, customer_ids=[customer_id], limit=limit).get(customer_id, [])


def quotes_of(
    *, session: Session, customer_ids: Iterable[uuid.UUID], limit: int = 3
) -> dict[uuid.UUID, list[Quote]]:
    """Return each customer's best quotes (`best_quotes`), read in one query."""
    rows: dict[uuid.UUID, list[Row]] = defaultdict(list)
    stmt = FEEDBACK.order_by(Feedback.customer_id, Feedback.responded_at.desc())
    for fb in session.execute(stmt, {"customers": list(customer_ids)}):
        rows[fb.customer_id].append(fb)
    return {customer_id: _ranked(said, limit) for customer_id, said in rows.items()}


def _ranked(rows: Sequence[Row], limit: int) -> list[Quote]:
    """Rank one customer's feedback (newest first) and return the best quotes."""
    scored = []
    for fb in rows:
        comment = (fb.comment or "").strip()
        if not quotable(fb.kind, fb.score, comment):
            continue
        # A CSM logged it from a call because it is worth quoting: those come first, newest first.
        logged = fb.source == FeedbackSource.CALL
        rank = 0.0 if logged else _rank(fb, comment)
        scored.append(((logged, rank, fb.responded_at), fb, comment))
    scored.sort(key=lambda t: t[0], reverse=True)
    return [
        Quote(comment, fb.respondent_name, fb.respondent_title, fb.kind.value, fb.score)
        for _, fb, comment in scored[:limit]
    ]


def _rank(fb: Row, comment: str) -> float:
    # Higher scores and longer (up to a point) comments quote best; recency breaks ties.
    return fb.score * (10 if fb.kind.value == "csat" else 5) + min(len(comment), 200) / 20


def _factors(session: Session, wins: Sequence) -> list[list[str]]:
    """Derive what helped each win in its goal's period: adoption, upsells, milestones, activity."""
    periods = _periods(wins)
    found: list[list[str]] = [[] for _ in wins]
    for i, name, unit, direction, first, last in session.execute(ADOPTION, periods):
        change = float((last - first) / abs(first))
        if direction == Direction.LOWER.value:
            change = -change
        if change >= 0.10:
            found[i].append(f"{name} improved {change:.0%} over the period ({unit})")
    for i, name, when in session.execute(UPSELLS, _days(wins)):
        found[i].append(f"Adopted {name} (purchased {when:%b %d, %Y})")
    for i, name in session.execute(MILESTONES, periods):
        found[i].append(f"Completed milestone: {name}")
    for i, title in session.execute(ACTIVITY, periods):
        found[i].append(f"Activity: {title}")
    return [factors or ["Steady use of the product over the goal period"] for factors in found]
