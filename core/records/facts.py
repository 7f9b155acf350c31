"""Build the success record of an achievement: the facts, the story, and its renderings."""

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Direction
from core.customers.models import Customer, Feedback, Metric
from core.errors import NotFound
from core.goals.models import Achievement, Goal
from core.goals.queries import achievements_with_goal
from core.goals.results import beyond_target_pct, describe_result, improvement_pct, is_ratio_goal
from core.schemas import json_ready

QUOTE_MIN_LENGTH = 30


@dataclass
class Quote:
    text: str
    name: str | None
    title: str | None
    kind: str
    score: int


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
        data = asdict(self)
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


def gather(*, session: Session, achievement_id: uuid.UUID) -> RecordFacts:
    """Collect the facts of one achievement (goal, customer, CSM, quotes, factors)."""
    row = session.execute(
        achievements_with_goal(Achievement, Goal, Customer, User, Metric)
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .outerjoin(Metric, Metric.key == Goal.metric_key)
        .where(Achievement.id == achievement_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No achievement {achievement_id}.")
    ach, goal, cust, csm, metric = row
    facts = RecordFacts(
        achievement_id=str(ach.id),
        customer_id=str(cust.id),
        customer_name=cust.name,
        industry=cust.industry,
        segment=cust.segment.value,
        use_case=goal.use_case or cust.use_case,
        consent_level=cust.consent_level.value,
        csm_name=csm.name if csm else None,
        csm_email=csm.email if csm else None,
        csm_slack_id=csm.slack_user_id if csm else None,
        goal_name=goal.name,
        goal_description=goal.description,
        goal_type=goal.type.value,
        metric_name=metric.name if metric else None,
        unit=(goal.unit or (metric.unit if metric else None)),
        is_money=bool(metric and metric.is_money),
        direction=goal.direction.value,
        baseline=ach.baseline_value,
        target=ach.target_value,
        achieved=ach.achieved_value,
        start_date=goal.start_date,
        achieved_at=ach.achieved_at,
        due_date=goal.due_date,
        rule=ach.rule,
        confidence=ach.confidence.value,
        method=ach.method.value,
        evidence=ach.evidence or {},
    )
    if is_ratio_goal(goal.type, goal.cost, goal.unit):
        facts.unit = "× cost"
    facts.products = _products(session, cust.id, ach.achieved_at)
    facts.quotes = best_quotes(session=session, customer_id=cust.id)
    facts.factors = contributing_factors(session=session, goal=goal, achieved_at=ach.achieved_at)
    return facts


def _products(session: Session, customer_id, until: datetime) -> list[str]:
    rows = session.execute(
        text(
            "SELECT DISTINCT p.name FROM upsells u JOIN upsell_products up ON up.upsell_id = u.id "
            "JOIN products p ON p.code = up.product_code "
            "WHERE u.customer_id = :c AND u.close_date <= :until ORDER BY p.name"
        ),
        {"c": customer_id, "until": until.date()},
    )
    return [r[0] for r in rows]


def best_quotes(*, session: Session, customer_id: uuid.UUID, limit: int = 3) -> list[Quote]:
    """Return the customer's most quotable feedback: positive, substantial, recent first."""
    rows = session.scalars(
        select(Feedback)
        .where(Feedback.customer_id == customer_id, Feedback.comment.is_not(None))
        .order_by(Feedback.responded_at.desc())
    ).all()
    scored = []
    for fb in rows:
        comment = (fb.comment or "").strip()
        positive = fb.score >= (9 if fb.kind.value == "nps" else 4)
        if len(comment) < QUOTE_MIN_LENGTH or not positive:
            continue
        # Higher scores, longer (up to a point) and more recent comments quote best.
        rank = fb.score * (10 if fb.kind.value == "csat" else 5) + min(len(comment), 200) / 20
        scored.append((rank, fb.responded_at, fb, comment))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [
        Quote(comment, fb.respondent_name, fb.respondent_title, fb.kind.value, fb.score)
        for _, _, fb, comment in scored[:limit]
    ]


def contributing_factors(*, session: Session, goal: Goal, achieved_at: datetime) -> list[str]:
    """Derive what helped from data in the goal's period: adoption, milestones, activity."""
    start = datetime.combine(goal.start_date, datetime.min.time(), tzinfo=achieved_at.tzinfo)
    params = {"c": goal.customer_id, "start": start, "end": achieved_at}
    factors = []
    adoption = session.execute(
        text(
            """
            WITH bounds AS (
              SELECT o.metric_key,
                avg(o.value) FILTER (WHERE o.observed_at < :start + interval '14 days') AS first,
                avg(o.value) FILTER (WHERE o.observed_at > :end - interval '14 days') AS last
              FROM metric_observations o
              WHERE o.customer_id = :c AND o.observed_at BETWEEN :start AND :end
              GROUP BY o.metric_key)
            SELECT m.name, m.unit, m.direction, b.first, b.last
            FROM bounds b JOIN metrics m ON m.key = b.metric_key
            WHERE b.first IS NOT NULL AND b.last IS NOT NULL AND b.first <> 0
            """
        ),
        params,
    ).all()
    for name, unit, direction, first, last in adoption:
        change = float((last - first) / abs(first))
        if direction == Direction.LOWER.value:
            change = -change
        if change >= 0.10:
            factors.append(f"{name} improved {change:.0%} over the period ({unit})")
    upsells = session.execute(
        text(
            "SELECT p.name, u.close_date FROM upsells u "
            "JOIN upsell_products up ON up.upsell_id = u.id "
            "JOIN products p ON p.code = up.product_code "
            "WHERE u.customer_id = :c AND u.close_date BETWEEN :start AND :end "
            "ORDER BY u.close_date"
        ),
        {**params, "start": start.date(), "end": achieved_at.date()},
    ).all()
    factors += [f"Adopted {name} (purchased {when:%b %d, %Y})" for name, when in upsells]
    milestones = session.execute(
        text(
            "SELECT m.name FROM milestones m JOIN success_plans p ON p.id = m.plan_id "
            "WHERE p.customer_id = :c AND m.status = 'done' "
            "AND m.completed_at BETWEEN :start AND :end ORDER BY m.completed_at"
        ),
        params,
    ).all()
    factors += [f"Completed milestone: {name}" for (name,) in milestones[:5]]
    activity = session.execute(
        text(
            "SELECT title FROM timeline_events WHERE customer_id = :c "
            "AND occurred_at BETWEEN :start AND :end AND kind NOT LIKE 'goal%' "
            "ORDER BY occurred_at DESC LIMIT 3"
        ),
        params,
    ).all()
    factors += [f"Activity: {title}" for (title,) in activity]
    return factors or ["Steady use of the product over the goal period"]
