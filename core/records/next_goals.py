"""Suggest next goals: a stretch of this one, the customer's next goal, what peers did next."""

import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.formatting import number
from core.goals.results import noun

PEERS_NEXT = text(
    """
    SELECT m.name, count(DISTINCT a2.customer_id) AS peers
    FROM goal_achievements a1
    JOIN goals g1 ON g1.id = a1.goal_id
    JOIN customers c ON c.id = a1.customer_id AND c.industry = :industry
    JOIN goal_achievements a2 ON a2.customer_id = a1.customer_id AND a2.achieved_at > a1.achieved_at
    JOIN goals g2 ON g2.id = a2.goal_id
    JOIN metrics m ON m.key = g2.metric_key
    WHERE g1.metric_key = :metric AND g2.metric_key <> :metric AND a1.customer_id <> :customer
      AND a2.status = 'verified'
    GROUP BY m.name ORDER BY peers DESC, m.name LIMIT 2
    """
)

OWN_NEXT = text(
    """
    SELECT name FROM goals
    WHERE customer_id = :customer AND status = 'active' AND id <> :goal
    ORDER BY due_date NULLS LAST, name LIMIT 1
    """
)


def suggest(*, session: Session, facts, goal_id: uuid.UUID, metric_key: str | None) -> list[str]:
    """Return up to three next goals worth proposing to the customer."""
    ideas = []
    stretch = _stretch(facts)
    if stretch is not None:
        ideas.append(f"Take {noun(facts.metric_name)} to {stretch} next quarter")
    own = session.execute(OWN_NEXT, {"customer": facts.customer_id, "goal": goal_id}).scalar()
    if own:
        ideas.append(f"Finish the next goal on your plan: {own}")
    if metric_key:
        params = {"industry": facts.industry, "metric": metric_key, "customer": facts.customer_id}
        for name, peers in session.execute(PEERS_NEXT, params):
            teams = "team" if peers == 1 else "teams"
            ideas.append(
                f"Improve {noun(name)}, as {peers} other {facts.industry} {teams} did next"
            )
    return ideas[:3]


def _stretch(facts) -> str | None:
    """A 15% further target, or None where the scale has no room (scores, nearly 100%)."""
    if facts.achieved is None or not facts.metric_name or facts.unit in ("× cost", "score"):
        return None
    lower = Direction(facts.direction) == Direction.LOWER
    target = Decimal(facts.achieved) * (Decimal("0.85") if lower else Decimal("1.15"))
    if facts.unit == "%" and not lower:
        if Decimal(facts.achieved) >= 95:
            return None
        target = min(target, Decimal(100))
    return number(target, facts.unit, money=facts.is_money)
