"""The System page lists the items jobs could not process, in plain words."""

from datetime import UTC, datetime, timedelta

from core.accounts.models import User
from core.audit.models import JobItemFailure, JobRun
from core.base import Direction, Role
from core.db import session_scope
from core.documentation.service import document_pending
from core.goals.models import Achievement
from tests import factories as f
from tests.pages.apptest import open_page

BAD_NAME = "x\r\nBcc: y"


def test_failed_items_are_listed_with_their_reason(scratch_db):
    with session_scope() as session:
        admin = User(email="ada@outcomes.example", name="Ada Admin", role=Role.ADMIN)
        session.add(admin)
        cust = f.customer(session, name=BAD_NAME)
        f.metric(session, "weekly_active_users", Direction.LOWER, "hours")
        goal = f.goal(session, cust, metric_key="weekly_active_users", target=55, name="Grow")
        session.add(
            Achievement(
                goal_id=goal.id,
                customer_id=cust.id,
                status="verified",
                method="automatic",
                achieved_at=datetime.now(UTC) - timedelta(days=1),
                confidence="high",
                rule="3 consecutive observations meet the target",
            )
        )
        session.add(
            JobRun(
                job_name="goal_detection",
                status="ok",
                details={"documented": 0, "items_failed": 1},
                finished_at=datetime.now(UTC),
            )
        )
        session.flush()
        document_pending(session=session)  # the subject would carry the line break
        admin_id = admin.id

    at = open_page(admin_id, "../pages/system.py")

    assert "Items that failed" in [s.value for s in at.subheader]
    runs, items = at.dataframe[0].value, at.dataframe[1].value
    assert runs.iloc[0]["Job"] == "Goal detection"
    assert runs.iloc[0]["Status"] == "Done, 1 item failed (listed below)"
    row = items.iloc[0]
    assert row["Job"] == "Run outside the scheduler"
    assert row["What failed"] == "Documenting a win"
    assert row["Item"] == f"The win “Grow” of {BAD_NAME}"
    assert "single line" in row["Reason"]
    assert row["Tries"] == "failed 1 time"
    with session_scope() as session:
        assert session.query(JobItemFailure).count() == 1
