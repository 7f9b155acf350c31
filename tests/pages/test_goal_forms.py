"""CS staff set up a customer's goals and success plans on the customer page."""

from datetime import date

import pytest
from sqlalchemy import select

from core.base import Direction, Role
from core.db import session_scope
from core.goals.models import Goal, GoalType, Milestone, MilestoneStatus, SuccessPlan
from tests import factories as f
from tests.pages import apptest

PAGE = "../pages/customers.py"
NEW_GOAL = "goal_new_0"
NEW_PLAN = "plan_new_0"


@pytest.fixture
def acme(scratch_db):
    """A CSM and their customer, with a metric in the catalogue; returns their ids."""
    with session_scope() as session:
        owner = f.csm(session)
        cust = f.customer(session, name="Acme", owner=owner)
        f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
        return owner.id, cust.id


def open_customer(user_id, customer_id):
    return apptest.open_page(user_id, PAGE, customer=str(customer_id), section="goals")


def submit(at, form: str, label: str):
    at.button(key=f"FormSubmitter:{form}-{label}").click().run()
    assert not at.exception, at.exception
    return at


def fill_goal(at, *, name="More weekly users", baseline=40.0, target=55.0):
    at.text_input(key=f"{NEW_GOAL}_name").input(name)
    at.selectbox(key=f"{NEW_GOAL}_metric").select("weekly_active_users")
    at.number_input(key=f"{NEW_GOAL}_baseline").set_value(baseline)
    at.number_input(key=f"{NEW_GOAL}_target").set_value(target)


def errors(at) -> list[str]:
    """The errors shown, as read (without Markdown escapes)."""
    return [str(e.value).replace("\\", "") for e in at.error]


def goals(customer_id) -> list[Goal]:
    with session_scope() as session:
        rows = session.scalars(select(Goal).where(Goal.customer_id == customer_id))
        return [session.merge(g) for g in rows]


def test_a_csm_creates_a_goal_and_sees_it_listed(acme):
    owner_id, customer_id = acme
    at = open_customer(owner_id, customer_id)
    fill_goal(at)
    submit(at, NEW_GOAL, "Create goal")
    [goal] = goals(customer_id)
    assert (goal.name, goal.type, goal.metric_key) == (
        "More weekly users",
        GoalType.KPI,
        "weekly_active_users",
    )
    assert (goal.baseline, goal.target, goal.unit) == (40, 55, "users")
    shown = apptest.texts(at)
    assert "Created the goal “More weekly users”." in shown
    assert "Weekly active users: 40 users → 55 users, higher is better" in shown
    assert "KPI" in shown and "Active" in shown
    assert at.text_input(key="goal_new_1_name").value == ""  # a fresh form for the next goal


def test_a_target_behind_the_baseline_names_the_target_and_keeps_the_entry(acme):
    owner_id, customer_id = acme
    at = open_customer(owner_id, customer_id)
    fill_goal(at, baseline=60.0, target=55.0)
    submit(at, NEW_GOAL, "Create goal")
    assert errors(at) == [
        "Target: must be above the baseline 60 users for a higher-is-better goal."
    ]
    assert goals(customer_id) == []
    assert at.text_input(key=f"{NEW_GOAL}_name").value == "More weekly users"
    assert at.number_input(key=f"{NEW_GOAL}_baseline").value == 60.0
    assert at.number_input(key=f"{NEW_GOAL}_target").value == 55.0


def test_type_rules_read_in_plain_words(acme):
    owner_id, customer_id = acme
    at = open_customer(owner_id, customer_id)
    at.text_input(key=f"{NEW_GOAL}_name").input("Faster support")
    submit(at, NEW_GOAL, "Create goal")
    shown = errors(at)
    assert shown == [
        "Metric: a KPI goal needs a metric.",
        "Target: a KPI goal with a metric needs a target.",
    ]
    assert not any("kpi" in e for e in shown)


def test_an_edit_is_saved_and_a_stale_one_is_refused(acme):
    owner_id, customer_id = acme
    with session_scope() as session:
        cust = session.get(f.Customer, customer_id)
        goal = f.goal(
            session,
            cust,
            name="WAU",
            metric_key="weekly_active_users",
            baseline=40,
            target=55,
            unit="users",
        )
        goal_id = goal.id
    at = open_customer(owner_id, customer_id)
    form = f"goal_edit_{goal_id}_0"
    at.number_input(key=f"{form}_target").set_value(70.0)
    submit(at, form, "Save goal")
    assert goals(customer_id)[0].target == 70
    assert "Saved the goal “WAU”." in apptest.texts(at)

    form = f"goal_edit_{goal_id}_1"  # filled afresh from the saved goal
    assert at.number_input(key=f"{form}_target").value == 70.0
    with session_scope() as session:  # someone else saves meanwhile
        session.get(Goal, goal_id).name = "Renamed elsewhere"
    at.number_input(key=f"{form}_target").set_value(80.0)
    submit(at, form, "Save goal")
    assert any("Someone else changed the goal" in e for e in errors(at))
    assert goals(customer_id)[0].target == 70

    form = f"goal_edit_{goal_id}_2"  # their version, to start over from
    assert at.text_input(key=f"{form}_name").value == "Renamed elsewhere"
    at.number_input(key=f"{form}_target").set_value(80.0)
    submit(at, form, "Save goal")
    [saved] = goals(customer_id)
    assert (saved.name, saved.target) == ("Renamed elsewhere", 80)


def test_a_goal_with_a_win_offers_only_its_name_description_and_due_date(acme):
    owner_id, customer_id = acme
    with session_scope() as session:
        cust = session.get(f.Customer, customer_id)
        goal = f.goal(
            session, cust, name="WAU", metric_key="weekly_active_users", baseline=40, target=55
        )
        f.achievement(session, goal)
        goal_id = goal.id
    at = open_customer(owner_id, customer_id)
    form = f"goal_edit_{goal_id}_0"
    assert at.number_input(key=f"{form}_target").disabled
    assert at.selectbox(key=f"{form}_metric").disabled
    assert not at.text_input(key=f"{form}_name").disabled
    assert "This goal already has a win" in apptest.texts(at)


def test_a_csm_creates_a_plan_with_two_milestones_and_ticks_one(acme):
    owner_id, customer_id = acme
    at = open_customer(owner_id, customer_id)
    at.text_input(key=f"{NEW_PLAN}_name").input("Q1 rollout")
    at.session_state[f"{NEW_PLAN}_steps"] = {
        "edited_rows": {
            0: {"name": "Kickoff", "due": "2027-01-10"},
            1: {"name": "Go live"},
        },
        "added_rows": [],
        "deleted_rows": [],
    }
    submit(at, NEW_PLAN, "Create plan")
    assert "Created the plan “Q1 rollout”" in apptest.texts(at)
    with session_scope() as session:
        plan = session.scalar(select(SuccessPlan).where(SuccessPlan.customer_id == customer_id))
        steps = session.scalars(
            select(Milestone).where(Milestone.plan_id == plan.id).order_by(Milestone.position)
        ).all()
        assert (plan.name, plan.owner_id) == ("Q1 rollout", owner_id)
        assert [(m.name, m.due_date) for m in steps] == [
            ("Kickoff", date(2027, 1, 10)),
            ("Go live", None),
        ]
        kickoff = steps[0].id

    box = at.checkbox(key=f"step_{kickoff}_open")
    assert box.label.replace("\\", "") == "Kickoff — due 2027-01-10" and not box.value
    box.check().run()
    assert not at.exception, at.exception
    with session_scope() as session:
        ticked = session.get(Milestone, kickoff)
        assert ticked.status == MilestoneStatus.DONE and ticked.completed_by_id == owner_id
    assert at.checkbox(key=f"step_{kickoff}_done").value
    shown = apptest.texts(at)
    assert "Ticked off “Kickoff”." in shown and "by Casey Rivera" in shown
    assert "1 of 2 milestones done" in shown


def test_a_plan_without_milestones_is_refused_in_plain_words(acme):
    owner_id, customer_id = acme
    at = open_customer(owner_id, customer_id)
    at.text_input(key=f"{NEW_PLAN}_name").input("Empty plan")
    submit(at, NEW_PLAN, "Create plan")
    assert errors(at) == ["Milestones: add at least one milestone with a name."]
    assert at.text_input(key=f"{NEW_PLAN}_name").value == "Empty plan"


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_other_roles_see_no_forms(scratch_db, role):
    with session_scope() as session:
        viewer = f.user(session, role)
        cust = f.customer(session, name="Acme", owner=f.csm(session))
        f.goal(session, cust, name="Grow usage", type=GoalType.CUSTOM)
        ids = viewer.id, cust.id
    at = open_customer(*ids)
    labels = {e.label for e in at.expander}
    assert not labels & {"New goal", "New plan", "Edit", "Record a manual upsell"}
    assert not [b for b in at.button if b.key and b.key.startswith("FormSubmitter:")]
    assert "#### Set up goals and plans" not in [m.value for m in at.markdown]


def test_a_plan_edit_adds_a_milestone_and_a_stale_one_is_refused(acme):
    owner_id, customer_id = acme
    with session_scope() as session:
        cust = session.get(f.Customer, customer_id)
        plan = f.success_plan(
            session, cust, f.goal(session, cust, type=GoalType.SUCCESS_PLAN), ["open"]
        )
        plan_id = plan.id
    at = open_customer(owner_id, customer_id)
    form = f"plan_edit_{plan_id}_0"
    at.session_state[f"{form}_steps"] = {
        "edited_rows": {},
        "added_rows": [{"name": "Go live", "order": 2}],
        "deleted_rows": [],
    }
    submit(at, form, "Save plan")
    with session_scope() as session:
        names = session.scalars(
            select(Milestone.name).where(Milestone.plan_id == plan_id).order_by(Milestone.position)
        ).all()
    assert names == ["Step 1", "Go live"]
    assert "Saved the plan “Launch plan”." in apptest.texts(at)

    with session_scope() as session:  # someone else saves meanwhile
        row = session.get(SuccessPlan, plan_id)
        row.name, row.updated_at = "Renamed elsewhere", f.NOW
    form = f"plan_edit_{plan_id}_1"
    at.text_input(key=f"{form}_name").input("Mine")
    submit(at, form, "Save plan")
    assert any("Someone else changed the plan" in e for e in errors(at))
    with session_scope() as session:
        assert session.get(SuccessPlan, plan_id).name == "Renamed elsewhere"
    assert at.text_input(key=f"plan_edit_{plan_id}_2_name").value == "Renamed elsewhere"
