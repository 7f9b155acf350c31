"""A checkpoint pass prepares all its plans' checkpoints with a few statements."""

from datetime import timedelta

from sqlalchemy import event, func, select

from core.drafts.models import Draft
from core.outbox.models import Delivery
from core.upsell.checkpoints import trigger_due
from core.upsell.models import CheckpointStatus
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of

NOW = f.NOW


def _plans(session, owner, count: int, *, days_ago: int = 30) -> list:
    plans = []
    for _ in range(count):
        cust = f.customer(session, owner=owner, contacts=CONTACTS)
        plans.append(
            f.plan(
                session,
                cust,
                started_on=NOW.date() - timedelta(days=days_ago),
                metrics=[f.manual("Hours saved", 0, 100, 20)],
            )
        )
    return plans


def _statements(session, action) -> tuple[int, dict]:
    count = 0

    def seen(*_):
        nonlocal count
        count += 1

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        result = action()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    return count, result


def test_the_statements_of_a_pass_do_not_grow_with_its_plans(session):
    owner = f.csm(session)
    few_plans = _plans(session, owner, 2)
    few, counts = _statements(session, lambda: trigger_due(session=session, now=NOW))
    assert counts["checkpoints_triggered"] == 2

    # A backlog: days 30 and 60 of each plan are due, the day-30 ones superseded.
    many_plans = _plans(session, owner, 6, days_ago=65)
    many, counts = _statements(session, lambda: trigger_due(session=session, now=NOW))
    assert counts == {
        "checkpoints_triggered": 12,
        "checkpoints_caught_up": 12,
        "checkpoints_skipped": 6,
    }

    assert many == few
    for plan in few_plans:
        assert checkpoints_of(session, plan)[30].status == CheckpointStatus.TRIGGERED
    for plan in many_plans:
        cps = checkpoints_of(session, plan)
        assert (cps[30].status, cps[60].status) == (
            CheckpointStatus.SKIPPED,
            CheckpointStatus.TRIGGERED,
        )
    # A meeting and a summary draft for the latest checkpoint of each plan, a Doc for each.
    assert session.scalar(select(func.count()).select_from(Draft)) == 8
    assert session.scalar(select(func.count()).select_from(Delivery)) == 8 + 14
