"""The facts of many wins, read together, are each win's facts as read alone."""

from datetime import UTC, date, datetime, timedelta

from core.base import Direction
from core.customers.models import FeedbackKind, TimelineEvent
from core.goals.models import AchievementStatus
from core.records.facts import gather, gather_many
from core.upsell.models import Product
from tests import factories as f

START = date(2026, 9, 1)


def _won(session, owner, name: str, *, product: str, praise: str, tickets: tuple[int, int]):
    """A verified win of `name` with products, praise, a milestone, activity and a usage trend."""
    cust = f.customer(session, owner=owner, name=name, industry="healthcare")
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    f.metric(session, "tickets_closed", Direction.HIGHER, "tickets")
    goal = f.goal(
        session, cust, metric_key="weekly_active_users", target=55, baseline=45, start=START
    )
    f.observe_days(session, cust, "tickets_closed", START, f.NOW.date(), lambda i: tickets[i > 40])
    f.upsell(session, cust, (product,), close=date(2026, 10, 1), name=f"{name} upsell")
    f.feedback(
        session,
        cust,
        when=f.NOW - timedelta(days=3),
        score=5,
        kind=FeedbackKind.CSAT,
        comment=praise,
    )
    f.feedback(
        session,
        cust,
        when=f.NOW - timedelta(days=9),
        score=2,
        kind=FeedbackKind.CSAT,
        comment="Too slow to load the dashboards in the morning, every day.",
    )
    f.success_plan(session, cust, goal, ["done"])
    at = datetime.combine(START, datetime.min.time(), tzinfo=UTC) + timedelta(days=30)
    f.add(
        session,
        TimelineEvent(customer_id=cust.id, occurred_at=at, kind="note", title=f"{name} workshop"),
    )
    return f.achievement(session, goal, status=AchievementStatus.VERIFIED, achieved_value=58)


def test_wins_read_together_have_the_facts_each_has_alone(session):
    owner = f.csm(session)
    f.add(session, Product(code="AUTO", name="Automation"))
    f.add(session, Product(code="INSIGHT", name="Insights"))
    wins = [
        _won(
            session,
            owner,
            "Acme",
            product="AUTO",
            praise="The automation rules gave our support leads two hours back every morning.",
            tickets=(100, 130),
        ),
        _won(
            session,
            owner,
            "Brightline",
            product="INSIGHT",
            praise="Setting up the insight boards took an afternoon and paid off in a week.",
            tickets=(100, 100),
        ),
    ]

    together = gather_many(session=session, achievement_ids=[w.id for w in wins])

    for win in wins:
        assert together[win.id] == gather(session=session, achievement_id=win.id)
    acme, bright = (together[w.id] for w in wins)
    assert [q.text for q in acme.quotes] == [
        "The automation rules gave our support leads two hours back every morning."
    ]
    assert (acme.products, bright.products) == (["Automation"], ["Insights"])
    assert acme.factors == [
        "Tickets closed improved 30% over the period (tickets)",
        "Adopted Automation (purchased Oct 01, 2026)",
        "Completed milestone: Step 1",
        "Activity: Acme workshop",
    ]
    assert bright.factors == [
        "Adopted Insights (purchased Oct 01, 2026)",
        "Completed milestone: Step 1",
        "Activity: Brightline workshop",
    ]
