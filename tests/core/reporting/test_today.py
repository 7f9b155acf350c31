"""A CSM's Today: only their book, each kind counted in full and listed oldest first."""

from datetime import date, timedelta

from core.base import Role
from core.drafts.models import DraftStatus
from core.goals.models import AchievementStatus, GoalType
from core.reporting.today import SHOWN, today_for
from core.upsell.models import CheckpointStatus, MeasurementStatus, ProgressStatus
from tests import factories as f
from tests.core.upsell.scenarios import checkpoints_of

TODAY = date(2026, 11, 30)


def test_nothing_waits_in_an_empty_book(session):
    csm = f.csm(session)
    found = today_for(session=session, user_id=csm.id, today=TODAY)
    assert found.waiting == 0 and found.drafts.items == []


def test_each_kind_of_work_waits_for_its_own_csm_only(session):
    csm, other = f.csm(session), f.user(session, Role.CSM, "Other")
    mine, theirs = f.customer(session, owner=csm, name="Acme"), f.customer(session, owner=other)
    for _ in range(SHOWN + 2):
        f.draft(session, mine, csm)
    f.draft(session, mine, csm, status=DraftStatus.SENT)  # decided: not waiting
    f.draft(session, theirs, other)
    held = f.goal(session, mine, name="Faster tickets")
    f.achievement(session, held, status=AchievementStatus.HELD, rule="one reading only")
    f.goal(session, mine, name="Due", type=GoalType.CUSTOM, due_date=TODAY - timedelta(days=1))
    f.goal(session, mine, name="Later", type=GoalType.CUSTOM, due_date=TODAY + timedelta(days=9))
    f.goal(session, theirs, name="Not mine", type=GoalType.CUSTOM, due_date=TODAY)
    late = f.plan(session, mine, started_on=date(2026, 8, 1), name="Seats")
    checkpoints_of(session, late)[30].status = CheckpointStatus.OVERDUE
    late.progress_status = ProgressStatus.AT_RISK
    behind = f.plan(session, mine, started_on=date(2026, 9, 1), name="Support")
    behind.progress_status = ProgressStatus.BEHIND
    done = f.plan(session, mine, started_on=date(2026, 5, 1), status=MeasurementStatus.COMPLETED)
    done.progress_status = ProgressStatus.BEHIND
    checkpoints_of(session, done)[30].status = CheckpointStatus.OVERDUE
    f.plan(session, theirs, started_on=date(2026, 8, 1)).progress_status = ProgressStatus.BEHIND
    session.flush()

    found = today_for(session=session, user_id=csm.id, today=TODAY)

    assert found.drafts.total == SHOWN + 2 and len(found.drafts.items) == SHOWN
    assert {i.customer_name for i in found.drafts.items} == {"Acme"}
    assert [(i.kind, i.subject) for i in found.confirmations.items] == [
        ("held_win", "Faster tickets"),
        ("custom_goal", "Due"),
    ]
    assert "one reading only" in found.confirmations.items[0].detail
    (checkpoint,) = found.checkpoints.items
    assert checkpoint.plan_id == late.id and checkpoint.subject == "Seats"
    assert checkpoint.detail.startswith("Day 30 review overdue")
    assert [i.plan_id for i in found.lagging.items] == [behind.id, late.id]  # behind first
    assert found.lagging.items[0].detail == "adoption behind the expected curve"
    assert found.waiting == SHOWN + 2 + 2 + 1 + 2
