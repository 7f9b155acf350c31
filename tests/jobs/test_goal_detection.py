"""The goal_detection job: one win that cannot be documented never stops the others."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from core.audit.models import JobItemFailure
from core.base import Direction
from core.customers.models import Customer
from core.db import session_scope
from core.drafts.models import Draft
from core.goals.models import Achievement, AchievementStatus, Goal, GoalStatus
from core.outbox.models import Delivery
from core.records.models import SuccessRecord
from core.reporting.failed_items import failed_items
from jobs import registry
from jobs.goals import goal_detection
from tests import factories as f

BAD_NAME = "x\r\nBcc: y"
RISING = [50, 56, 57, 58]


def _win(session, owner, name: str) -> Goal:
    """A customer whose goal the data proves now (the job reads the clock)."""
    cust = f.customer(session, owner=owner, name=name)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name=f"Grow weekly active users ({name.splitlines()[0]})",
    )
    end = datetime.now(UTC) - timedelta(hours=6)
    f.observe(session, cust, "weekly_active_users", RISING, end=end)
    return goal


def _achievement(session, goal: Goal) -> Achievement:
    stmt = select(Achievement).where(Achievement.goal_id == goal.id)
    return session.scalar(stmt.execution_options(populate_existing=True))


def _documented(session, goal: Goal) -> bool:
    stmt = (
        select(func.count())
        .select_from(SuccessRecord)
        .join(Achievement, Achievement.id == SuccessRecord.achievement_id)
        .where(Achievement.goal_id == goal.id)
    )
    return session.scalar(stmt) == 1


def _failures(session) -> list[JobItemFailure]:
    stmt = select(JobItemFailure).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def test_a_name_with_a_line_break_fails_its_own_win_and_the_others_are_documented(session):
    owner = f.csm(session)
    good = [_win(session, owner, name) for name in ("Acme Health", "Brightline Bank")]
    bad = _win(session, owner, BAD_NAME)

    details = goal_detection(session=session)

    assert details == {"detected": 3, "held": 0, "documented": 2}
    assert all(_documented(session, g) for g in good)
    drafts = session.scalar(select(func.count()).select_from(Draft))
    assert drafts == 2  # one congratulations email per documented win
    slack = select(func.count()).where(Delivery.idempotency_key.like("achievement:%:slack"))
    assert session.scalar(slack) == 2
    # The bad win is detected (verified, the goal achieved) but not documented.
    achievement = _achievement(session, bad)
    assert achievement.status == AchievementStatus.VERIFIED
    assert not _documented(session, bad)
    [failure] = _failures(session)
    assert (failure.item_type, failure.item_id) == ("win", str(achievement.id))
    assert "single line" in failure.reason and failure.failure_count == 1

    [row] = failed_items(session=session)  # what the System page lists
    assert row.step == "Documenting a win"
    assert row.item == f"The win “{bad.name}” of {BAD_NAME}"
    assert "single line" in row.reason

    # The next run tries it again (and counts), still without holding anything else back.
    assert goal_detection(session=session)["documented"] == 0
    [failure] = _failures(session)
    assert failure.failure_count == 2

    # Once the name is fixed, the win is documented and its failure cleared.
    session.execute(update(Customer).where(Customer.id == bad.customer_id).values(name="X Corp"))
    assert goal_detection(session=session)["documented"] == 1
    assert _documented(session, bad)
    assert _failures(session) == []


@pytest.fixture
def committed_wins(scratch_db):
    with session_scope() as session:
        owner = f.csm(session)
        good = _win(session, owner, "Acme Health")
        bad = _win(session, owner, BAD_NAME)
        ids = good.id, bad.id
    return ids


def test_a_run_records_its_failed_items_under_the_job(committed_wins):
    good_id, bad_id = committed_wins
    run = registry.run_job("goal_detection")

    assert run.status == "ok"
    assert run.details == {"detected": 2, "held": 0, "documented": 1, "items_failed": 1}
    with session_scope() as session:
        [failure] = session.scalars(select(JobItemFailure)).all()
        assert (failure.job_name, failure.item_type) == ("goal_detection", "win")
        assert _documented(session, session.get(Goal, good_id))
        assert session.get(Goal, bad_id).status == GoalStatus.ACHIEVED


def test_detection_is_committed_even_when_documenting_fails(committed_wins, monkeypatch):
    def broken(**_):
        raise RuntimeError("documentation is down")

    monkeypatch.setattr("jobs.goals.document_pending", broken)
    run = registry.run_job("goal_detection")

    assert run.status == "failed" and "documentation is down" in run.error
    with session_scope() as session:
        statuses = session.scalars(select(Achievement.status)).all()
        assert statuses == [AchievementStatus.VERIFIED] * 2
        assert session.scalar(select(func.count()).select_from(SuccessRecord)) == 0
    monkeypatch.undo()
    assert registry.run_job("goal_detection").details["documented"] == 1
