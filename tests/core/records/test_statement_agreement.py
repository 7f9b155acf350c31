"""The grouped factor and peer statements read what their one-pair-at-a-time forms read."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from core.base import Direction
from core.goals.models import AchievementStatus
from core.records.facts import ADOPTION
from core.records.next_goals import PEERS_NEXT
from tests import factories as f

START = date(2026, 9, 1)

# The forms the statements had before: two scans per (win, metric), every pair of achievements.
ADOPTION_PER_METRIC = text(
    """
    SELECT k.i, m.name, m.unit, m.direction, f.v AS first, l.v AS last
      FROM unnest(CAST(:idx AS int[]), CAST(:customers AS uuid[]),
                  CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
           AS k(i, customer_id, start_at, end_at)
     CROSS JOIN metrics m
     CROSS JOIN LATERAL (
       SELECT avg(o.value) AS v FROM metric_observations o
        WHERE o.customer_id = k.customer_id AND o.metric_key = m.key
          AND o.observed_at BETWEEN k.start_at AND k.end_at
          AND o.observed_at < k.start_at + interval '14 days') f
     CROSS JOIN LATERAL (
       SELECT avg(o.value) AS v FROM metric_observations o
        WHERE o.customer_id = k.customer_id AND o.metric_key = m.key
          AND o.observed_at BETWEEN k.start_at AND k.end_at
          AND o.observed_at > k.end_at - interval '14 days') l
     WHERE f.v IS NOT NULL AND l.v IS NOT NULL AND f.v <> 0
     ORDER BY k.i, m.key
    """
)
PEERS_PER_PAIR = text(
    """
    WITH wins AS (
      SELECT DISTINCT c.industry, g.metric_key AS metric, a.customer_id
        FROM goal_achievements a
        JOIN goals g ON g.id = a.goal_id
        JOIN customers c ON c.id = a.customer_id
       WHERE a.id = ANY(CAST(:ids AS uuid[])) AND g.metric_key IS NOT NULL),
    next AS (
      SELECT DISTINCT c.industry, g1.metric_key AS metric, m.name, a1.customer_id
        FROM goal_achievements a1
        JOIN goals g1 ON g1.id = a1.goal_id
        JOIN customers c ON c.id = a1.customer_id
        JOIN goal_achievements a2
          ON a2.customer_id = a1.customer_id AND a2.achieved_at > a1.achieved_at
        JOIN goals g2 ON g2.id = a2.goal_id
        JOIN metrics m ON m.key = g2.metric_key
       WHERE (c.industry, g1.metric_key) IN (SELECT industry, metric FROM wins)
         AND g2.metric_key <> g1.metric_key AND a2.status = 'verified')
    SELECT n.industry, n.metric, n.name, count(*) AS peers,
           dense_rank() OVER (PARTITION BY n.industry, n.metric ORDER BY n.name) AS place,
           coalesce(array_agg(n.customer_id) FILTER (
             WHERE n.customer_id IN (SELECT customer_id FROM wins)), '{}') AS own
      FROM next n
     GROUP BY n.industry, n.metric, n.name
    """
)


def _metrics(session):
    f.metric(session, "users", Direction.HIGHER, "users")
    f.metric(session, "hours", Direction.LOWER, "hours")
    f.metric(session, "runs", Direction.HIGHER, "runs")
    f.metric(session, "spend", Direction.HIGHER, "USD", money=True)


def _observed(session, cust, *, shift: int):
    """Metrics that change, one seen only early, one starting at zero, values outside the period."""
    f.observe_days(session, cust, "users", START - timedelta(days=20), f.NOW.date(), lambda i: i)
    f.observe_days(session, cust, "hours", START, f.NOW.date(), lambda i: 40 - i % 7 + shift)
    f.observe_days(session, cust, "runs", START, START + timedelta(days=9), 5)
    f.observe_days(session, cust, "spend", START, f.NOW.date(), lambda i: 0 if i < 30 else 9)


def test_adoption_reads_what_two_scans_per_metric_read(session):
    _metrics(session)
    owner = f.csm(session)
    customers = [f.customer(session, owner=owner, name=n) for n in ("Acme", "Brightline")]
    for shift, cust in enumerate(customers):
        _observed(session, cust, shift=shift)
    start = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    periods = {
        "idx": [0, 1, 2],
        "customers": [c.id for c in (*customers, customers[0])],
        "starts": [start, start, start + timedelta(days=35)],
        "ends": [f.NOW, f.NOW - timedelta(days=20), f.NOW],
    }

    grouped = session.execute(ADOPTION, periods).all()

    assert grouped == session.execute(ADOPTION_PER_METRIC, periods).all()
    assert {(row.i, row.name) for row in grouped} == {
        (i, name) for i in range(3) for name in ("Users", "Hours")
    } | {(2, "Spend")}


def test_peers_read_what_pairing_every_achievement_reads(session):
    _metrics(session)
    owner = f.csm(session)

    def won(cust, key: str, days_ago: int, status=AchievementStatus.VERIFIED):
        goal = f.goal(session, cust, metric_key=key, target=1, name=f"{key} {days_ago}")
        return f.achievement(
            session, goal, achieved_at=f.NOW - timedelta(days=days_ago), status=status
        )

    first, second, third, elsewhere = (
        f.customer(session, owner=owner, industry=industry)
        for industry in ("Retail", "Retail", "Retail", "Banking")
    )
    won(first, "users", 60)
    won(first, "hours", 10)
    won(first, "runs", 5, status=AchievementStatus.HELD)
    won(second, "users", 30)
    late = won(second, "runs", 0)
    won(elsewhere, "users", 40)
    won(elsewhere, "spend", 20)
    win = won(third, "users", 0)
    won(third, "spend", 50)
    goal = f.goal(session, third, name="A milestone goal", type="success_plan")
    f.achievement(session, goal, achieved_at=f.NOW)

    def rows(statement):
        params = {"ids": [win.id, late.id]}
        found = session.execute(statement, params).all()
        return sorted((*row[:5], sorted(row.own)) for row in found)

    assert rows(PEERS_NEXT) == rows(PEERS_PER_PAIR)
    assert [row[:4] for row in rows(PEERS_NEXT)] == [
        ("Retail", "users", "Hours", 1),
        ("Retail", "users", "Runs", 1),
    ]
