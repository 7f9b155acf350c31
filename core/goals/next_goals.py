"""Suggest next goals: a stretch of this one, the customer's next goal, what peers did next."""

import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.goals.results import number

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
    if facts.achieved is not None and facts.metric_name and facts.unit != "× cost":
        step = Decimal("0.85") if Direction(facts.direction) == Direction.LOWER else Decimal("1.15")
        stretch = number(Decimal(facts.achieved) * step, facts.unit, money=facts.is_money)
        ideas.append(f"Take {facts.metric_name.lower()} to {stretch} next quarter")
    own = session.execute(OWN_NEXT, {"customer": facts.customer_id, "goal": goal_id}).scalar()
    if own:
        ideas.append(f"Finish the next goal on your plan: {own}")
    if metric_key:
        params = {"industry": facts.industry, "metric": metric_key, "customer": facts.customer_id}
        for name, peers in session.execute(PEERS_NEXT, params):
            noun = "team" if peers == 1 else "teams"
            ideas.append(
                f"Improve {name.lower()}, as {peers} other {facts.industry} {noun} did next"
            )
    return ideas[:3]
