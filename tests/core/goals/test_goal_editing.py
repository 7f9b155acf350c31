"""Goals people create and edit in the app meet the rules the API's upserts meet."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Direction, Role
from core.errors import Conflict, Forbidden, Invalid
from core.goals.editing import create_goal, update_goal
from core.goals.models import AchievementStatus, Goal, GoalStatus, GoalType
from core.goals.page_queries import goals_and_plans
from core.goals.page_schemas import GoalEntry
from core.goals.schemas import GoalIn
from core.goals.service import upsert_goal
from tests import factories as f

START = date(2026, 10, 1)


def entry(**changes) -> GoalEntry:
    fields = {
        "type": GoalType.KPI,
        "name": "More weekly users",
        "metric": "weekly_active_users",
        "baseline": 40,
        "target": 55,
        "start_date": START,
        "due_date": date(2027, 3, 31),
    }
    return GoalEntry(**{**fields, **changes})


@pytest.fixture
def setup(session):
    owner = f.csm(session)
    cust = f.customer(session, owner=owner, external_id="acme")
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    f.metric(session, "resolution_hours", Direction.LOWER, "hours")
    return f.actor(owner), cust


def audit(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_csm_creates_a_goal_with_the_metric_s_unit_and_direction(session, setup):
    actor, cust = setup
    goal = create_goal(session=session, customer_id=cust.id, entry=entry(), actor=actor)
    assert goal.customer_id == cust.id and goal.owner_id == cust.owner_csm_id
    assert (goal.unit, goal.direction, goal.status) == ("users", Direction.HIGHER, "active")
    assert (goal.baseline, goal.target, goal.external_id) == (40, 55, None)
    [entry_] = audit(session, "goal.created")
    assert entry_.actor == actor.email and entry_.actor_user_id == actor.id
    assert "target" in entry_.changes["fields"]
    listed = goals_and_plans(session=session, customer_id=cust.id)
    assert [g.name for g in listed.goals] == ["More weekly users"]
    assert listed.goals[0].metric_name == "Weekly active users"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metric": "nope"}, "metric: unknown metric 'nope'."),
        (
            {"target": 30},
            "target: must be above the baseline 40 users for a higher-is-better goal.",
        ),
        ({"target": 40}, "target: must be above the baseline 40 users"),
        (
            {"metric": "resolution_hours", "baseline": 4, "target": 6},
            "target: must be below the baseline 4 hours for a lower-is-better goal.",
        ),
        (
            {"direction": Direction.LOWER},
            "target: must be below the baseline 40 users for a lower-is-better goal.",
        ),
        ({"metric": None}, "metric: a KPI goal needs a metric"),
        ({"target": None}, "target: a KPI goal with a metric needs a target"),
        ({"due_date": date(2026, 9, 1)}, "dueDate: must not be before startDate"),
    ],
)
def test_the_rules_name_the_field(session, setup, changes, message):
    actor, cust = setup
    with pytest.raises(Invalid) as refused:
        create_goal(session=session, customer_id=cust.id, entry=entry(**changes), actor=actor)
    assert message in str(refused.value)
    assert session.scalar(select(Goal.id).where(Goal.customer_id == cust.id)) is None


def test_a_lower_is_better_goal_below_its_baseline_is_fine(session, setup):
    actor, cust = setup
    goal = create_goal(
        session=session,
        customer_id=cust.id,
        entry=entry(metric="resolution_hours", baseline=6, target=4),
        actor=actor,
    )
    assert goal.direction == Direction.LOWER and goal.unit == "hours"


def test_the_api_refuses_a_target_behind_its_baseline_too(session, setup):
    body = GoalIn(
        customer_external_id="acme",
        type="kpi",
        name="Backwards",
        metric="weekly_active_users",
        baseline=60,
        target=55,
        start_date=START,
    )
    with pytest.raises(Invalid, match="target: must be above the baseline 60 users"):
        upsert_goal(session=session, external_id="g-back", body=body, actor="api:test")


def test_a_stored_goal_behind_its_baseline_still_takes_other_changes(session, setup):
    _, cust = setup
    f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        baseline=60,
        target=55,
        external_id="g-old",
        start=START,
    )
    body = GoalIn(
        customer_external_id="acme",
        type="kpi",
        name="Renamed",
        metric="weekly_active_users",
        baseline=60,
        target=55,
        start_date=START,
    )
    goal, created = upsert_goal(session=session, external_id="g-old", body=body, actor="api:t")
    assert not created and goal.name == "Renamed"


def test_an_edit_saves_and_makes_detection_read_the_goal_again(session, setup):
    actor, cust = setup
    goal = create_goal(session=session, customer_id=cust.id, entry=entry(), actor=actor)
    goal.evaluated_at = f.NOW
    session.flush()
    version = goal.version
    saved = update_goal(
        session=session,
        goal_id=goal.id,
        entry=entry(target=70, name="Even more users"),
        expected_version=goal.version,
        actor=actor,
    )
    assert (saved.target, saved.name, saved.version) == (70, "Even more users", version + 1)
    assert saved.evaluated_at is None
    [changed] = audit(session, "goal.updated")
    assert changed.changes["fields"] == ["name", "target"]
    assert changed.changes["before"]["target"] == "55"


def test_an_edit_from_an_older_version_is_refused(session, setup):
    actor, cust = setup
    goal = create_goal(session=session, customer_id=cust.id, entry=entry(), actor=actor)
    first = goal.version
    update_goal(
        session=session,
        goal_id=goal.id,
        entry=entry(name="Someone else's edit"),
        expected_version=first,
        actor=actor,
    )
    with pytest.raises(Conflict, match="Someone else changed the goal"):
        update_goal(
            session=session,
            goal_id=goal.id,
            entry=entry(target=90),
            expected_version=first,
            actor=actor,
        )
    session.refresh(goal)
    assert goal.target == 55 and goal.name == "Someone else's edit"


def test_a_goal_with_a_win_changes_only_its_name_description_and_due_date(session, setup):
    actor, cust = setup
    goal = create_goal(session=session, customer_id=cust.id, entry=entry(), actor=actor)
    f.achievement(session, goal, status=AchievementStatus.VERIFIED)
    goal.status = GoalStatus.ACHIEVED
    session.flush()
    for changes, field in (({"target": 60}, "target"), ({"baseline": 30}, "baseline")):
        with pytest.raises(Conflict, match=f"^{field}: this goal already has a win"):
            update_goal(
                session=session,
                goal_id=goal.id,
                entry=entry(**changes),
                expected_version=goal.version,
                actor=actor,
            )
    saved = update_goal(
        session=session,
        goal_id=goal.id,
        entry=entry(name="Weekly users up", description="Rolled out", due_date=date(2027, 6, 1)),
        expected_version=goal.version,
        actor=actor,
    )
    assert saved.name == "Weekly users up" and saved.target == Decimal(55)
    assert saved.status == GoalStatus.ACHIEVED


def test_only_cs_staff_set_up_goals(session, setup):
    _, cust = setup
    seller = f.actor(f.user(session, Role.SALES))
    with pytest.raises(Forbidden):
        create_goal(session=session, customer_id=cust.id, entry=entry(), actor=seller)
