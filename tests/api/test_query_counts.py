"""The main reads issue the same number of SQL statements whatever the number of rows (no N+1).

Each read runs once to warm up (the first outcomes read stores the report), then again while a
`before_cursor_execute` listener counts the statements it sends; the count on a book several
times larger must be the same.
"""

from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, event

from core.base import Consent, Role
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import AchievementMethod, GoalType
from core.reporting.customers import list_customers
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    MeasurementMetric,
    OutcomeSnapshot,
    Review,
)
from tests import factories as f
from tests.core.repository.test_consent_layer import add_win
from tests.core.upsell.test_analysis import decided

SMALL, LARGE = 2, 8  # wins, plans, and rows of the customer and plan looked at
CONSENTS = (Consent.FULL_PUBLIC, Consent.ANONYMIZED, Consent.INTERNAL_ONLY, Consent.LOGO)


@contextmanager
def counted(connection):
    """Count the statements sent on `connection` inside the block."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", count)


def book(session) -> dict:
    """A small book: wins of customers at every consent level, plans, one customer and plan."""
    world = {"owner": f.csm(session), "customers": [], "plans": []}
    grow(session, world, SMALL)
    world["customer"], world["plan"] = world["customers"][0], world["plans"][0]
    return world


def grow(session, world: dict, n: int) -> None:
    """Add `n` documented wins and plans, and `n` more goals, metrics, checkpoints and reviews to
    the customer and the plan the reads look at."""
    start = len(world["customers"])
    for i in range(start, start + n):
        name = f"Northwind {i} Labs"
        consent = CONSENTS[i % len(CONSENTS)]
        world["customers"].append(add_win(session, world["owner"], name, consent=consent))
    detect(session=session, now=f.NOW)
    document_pending(session=session, now=f.NOW)
    for cust in world["customers"][start:]:
        world["plans"].append(decided(session, cust, "success", signal="on_track", predicted=70))
    if "plan" not in world:
        return
    cust, plan = world["customer"], world["plan"]
    for i in range(start, start + n):
        won = f.goal(session, cust, name=f"Extra goal {i}", type=GoalType.CUSTOM)
        f.achievement(session, won, method=AchievementMethod.MANUAL)
        session.add_all(
            [
                MeasurementMetric(
                    measurement_id=plan.id,
                    position=10 + i,
                    unit="units",
                    **f.manual(f"Extra metric {i}", 0, 10, 5),
                ),
                Checkpoint(
                    measurement_id=plan.id,
                    day=120 + 30 * i,
                    kind="custom",
                    due_on=plan.started_on + timedelta(days=120 + 30 * i),
                    status=CheckpointStatus.SCHEDULED,
                ),
                Review(measurement_id=plan.id, assessment="on_track", findings=f"Review {i}"),
            ]
        )
    session.flush()


READS: dict[str, Callable] = {
    "achievements page": lambda c, h, w: c.get("/api/goals/achievements", headers=h),
    "repository search": lambda c, h, w: c.get(
        "/api/value-repository", params={"q": "weekly users"}, headers=h
    ),
    "repository list": lambda c, h, w: c.get("/api/value-repository", headers=h),
    "outcomes": lambda c, h, w: c.get("/api/upsell/outcomes", headers=h),
    "outcomes, filtered": lambda c, h, w: c.get(
        "/api/upsell/outcomes", params={"segment": "mid_market"}, headers=h
    ),
    "a customer's goals": lambda c, h, w: c.get(
        f"/api/goals/customer/{w['customer'].id}", headers=h
    ),
    "a plan's measurement": lambda c, h, w: c.get(
        f"/api/upsell/{w['plan'].upsell_id}/progress", headers=h
    ),
}


@pytest.mark.parametrize("read", list(READS))
def test_an_api_read_sends_as_many_statements_for_many_rows_as_for_few(
    read, session, connection, client, make_key
):
    world = book(session)
    headers = make_key(Role.LEADER)
    counts = {}
    for size in (SMALL, LARGE):
        if size > SMALL:
            grow(session, world, size - SMALL)
            session.execute(delete(OutcomeSnapshot))  # the stored report covers the new plans
        assert READS[read](client, headers, world).status_code == 200  # warm up
        with counted(connection) as sent:
            answer = READS[read](client, headers, world)
        assert answer.status_code == 200, answer.text
        counts[size] = len(sent)
    assert counts[LARGE] == counts[SMALL], counts


def test_the_customer_list_sends_as_many_statements_for_many_customers(session, connection):
    world = book(session)
    counts = {}
    for size in (SMALL, LARGE):
        if size > SMALL:
            grow(session, world, size - SMALL)
        with counted(connection) as sent:
            page = list_customers(session=session, viewer=Role.SALES)
        assert page.total == size
        counts[size] = len(sent)
    assert counts[LARGE] == counts[SMALL], counts
