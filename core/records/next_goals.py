"""Suggest next goals: a stretch of this one, the customer's next goal, what peers did next.

"What peers did next" counts, for the win's industry and metric, the other customers of that
industry who reached a goal on that metric and later a verified goal on another metric, per
metric name. The counts are read once for all the wins of a pass (`peers`), not once per win.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.formatting import number
from core.goals.results import noun

PEERS_SHOWN, IDEAS_SHOWN = 2, 3

# For the industries and metrics of the wins `ids`, per (industry, metric reached first, metric
# name reached next): how many customers did that, the name's place in the database's order of
# names, and which of the wins' own customers are among them (none is a peer of itself). The
# achievements on a metric in the wins' industries are read once, then paired per customer.
PEERS_NEXT = text(
    """
    WITH wins AS (
      SELECT DISTINCT c.industry, g.metric_key AS metric, a.customer_id
        FROM goal_achievements a
        JOIN goals g ON g.id = a.goal_id
        JOIN customers c ON c.id = a.customer_id
       WHERE a.id = ANY(CAST(:ids AS uuid[])) AND g.metric_key IS NOT NULL),
    reached AS MATERIALIZED (
      SELECT a.customer_id, a.achieved_at, a.status, g.metric_key AS metric, c.industry
        FROM goal_achievements a
        JOIN goals g ON g.id = a.goal_id
        JOIN customers c ON c.id = a.customer_id
       WHERE g.metric_key IS NOT NULL AND c.industry IN (SELECT industry FROM wins)),
    next AS (
      SELECT DISTINCT r1.industry, r1.metric, m.name, r1.customer_id
        FROM reached r1
        JOIN reached r2
          ON r2.customer_id = r1.customer_id AND r2.achieved_at > r1.achieved_at
         AND r2.status = 'verified' AND r2.metric <> r1.metric
        JOIN metrics m ON m.key = r2.metric
       WHERE (r1.industry, r1.metric) IN (SELECT industry, metric FROM wins))
    SELECT n.industry, n.metric, n.name, count(*) AS peers,
           dense_rank() OVER (PARTITION BY n.industry, n.metric ORDER BY n.name) AS place,
           coalesce(array_agg(n.customer_id) FILTER (
             WHERE n.customer_id IN (SELECT customer_id FROM wins)), '{}') AS own
      FROM next n
     GROUP BY n.industry, n.metric, n.name
    """
)

# Each customer's first two active goals in plan order (one of them may be the win's own goal).
OWN_NEXT = text(
    """
    SELECT customer_id, id, name FROM (
      SELECT customer_id, id, name,
             row_number() OVER (PARTITION BY customer_id ORDER BY due_date NULLS LAST, name) AS n
        FROM goals
       WHERE customer_id = ANY(CAST(:customers AS uuid[])) AND status = 'active') g
     WHERE n <= 2
     ORDER BY customer_id, n
    """
)


@dataclass(frozen=True)
class PeerMetric:
    name: str
    peers: int  # customers of the industry, the win's own customer included
    place: int  # the name's place in the database's order of names
    own: frozenset[str]  # the customers asked about among them


@dataclass
class Peers:
    """What peers did next, per (industry, metric): read once for every win of a pass."""

    by_metric: dict[tuple[str, str], list[PeerMetric]] = field(default_factory=dict)

    def ideas(self, *, industry: str, metric_key: str, customer_id: str) -> list[tuple[str, int]]:
        """Return up to two (metric name, peers) that others did next, most peers first."""
        found = []
        for p in self.by_metric.get((industry, metric_key), ()):
            count = p.peers - (customer_id in p.own)
            if count > 0:
                found.append((count, p.place, p.name))
        found.sort(key=lambda t: (-t[0], t[1]))
        return [(name, count) for count, _, name in found[:PEERS_SHOWN]]


def peers(*, session: Session, achievement_ids: Sequence[uuid.UUID]) -> Peers:
    """Read what peers did next for the industries and metrics of these wins, in one query."""
    found: dict[tuple[str, str], list[PeerMetric]] = defaultdict(list)
    for row in session.execute(PEERS_NEXT, {"ids": list(achievement_ids)}):
        own = frozenset(str(c) for c in row.own)
        found[(row.industry, row.metric)].append(PeerMetric(row.name, row.peers, row.place, own))
    return Peers(dict(found))


def next_goals(*, session: Session, customers: Iterable[str]) -> dict[str, list[tuple]]:
    """Return each customer's first two active goals as (goal id, name), in plan order."""
    found: dict[str, list[tuple]] = defaultdict(list)
    rows = session.execute(OWN_NEXT, {"customers": sorted(set(customers))})
    for customer_id, goal_id, name in rows:
        found[str(customer_id)].append((goal_id, name))
    return found


def suggest(
    *, facts, goal_id: uuid.UUID, metric_key: str | None, own: Sequence[tuple], peers: Peers
) -> list[str]:
    """Return up to three next goals worth proposing, from what `next_goals` and `peers` read."""
    ideas = []
    stretch = _stretch(facts)
    if stretch is not None:
        ideas.append(f"Take {noun(facts.metric_name)} to {stretch} next quarter")
    following = next((name for other, name in own if other != goal_id), None)
    if following:
        ideas.append(f"Finish the next goal on your plan: {following}")
    if metric_key:
        found = peers.ideas(
            industry=facts.industry, metric_key=metric_key, customer_id=facts.customer_id
        )
        for name, count in found:
            teams = "team" if count == 1 else "teams"
            ideas.append(
                f"Improve {noun(name)}, as {count} other {facts.industry} {teams} did next"
            )
    return ideas[:IDEAS_SHOWN]


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
