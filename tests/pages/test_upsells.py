"""The Upsell progress page: list, plan detail, reviews, manual values and stale criteria."""

from datetime import timedelta

import pandas as pd
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest

from components.upsell_forms import TABLE_COLUMNS, table_criteria
from components.upsell_views import OUTCOME_LABELS
from core.accounts.models import User
from core.base import Role
from core.db import session_scope
from core.upsell.models import (
    CheckpointStatus,
    Measurement,
    MeasurementMetric,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
    ProgressStatus,
    Review,
    TargetSource,
)
from core.upsell.outcomes import confirm_outcome, propose_outcomes
from core.upsell.progress import update_progress
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of
from tests.factories import NOW, auto, csm, customer, manual, observe_days, plan
from tests.pages import apptest
from tests.pages.visible_text import problems

START = NOW.date() - timedelta(days=35)


def _seed() -> tuple:
    with session_scope() as session:
        owner = csm(session)
        cust = customer(session, owner=owner, name="Northwind <Logistics>", contacts=CONTACTS)
        metrics = [auto("Active users", "active_users", 10, 50), manual("Hours saved", 0, 20)]
        row = plan(session, cust, started_on=START, metrics=metrics)
        observe_days(session, cust, "active_users", START - timedelta(days=40), NOW.date(), 20)
        update_progress(session=session, now=NOW, measurement_ids=[row.id])
        return owner.id, row.id


def _open(user_id, plan_id=None, role=None) -> AppTest:
    query = {"plan": str(plan_id)} if plan_id else {}
    return apptest.open_page(user_id, "../pages/upsells.py", **query)


def _count(model, **where) -> int:
    with session_scope() as session:
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return session.scalar(stmt)


def test_empty_state_guides(scratch_db):
    with session_scope() as session:
        owner_id = csm(session).id
    at = _open(owner_id)
    assert _shown(at.info, "within one sync cycle after an upsell closes")


def test_list_and_detail_render(scratch_db):
    owner_id, plan_id = _seed()
    at = _open(owner_id)
    assert list(at.dataframe[0].value["Plan"]) == ["Northwind <Logistics> — Analytics expansion"]
    at = _open(owner_id, plan_id)
    assert any("Analytics expansion" in s.value for s in at.subheader)
    assert len(at.get("plotly_chart")) == 2
    assert any(t.label == "Reviews (0)" for t in at.tabs)


def _shown(elements, text: str) -> bool:
    return any(text in str(e.value).replace("\\", "") for e in elements)


def _form_button(at, prefix):
    return next(b for b in at.button if b.key.startswith(f"FormSubmitter:{prefix}"))


def test_recording_a_30_day_review(scratch_db):
    owner_id, plan_id = _seed()
    at = _open(owner_id, plan_id)
    at.text_area[0].input("Strong start in the EU team")
    _form_button(at, "review_").click().run()
    assert not at.exception
    assert _shown(at.success, "Recorded the day-30 review")
    assert _count(Review, measurement_id=plan_id) == 1
    assert any(t.label == "Reviews (1)" for t in at.tabs)  # the cached plan was dropped
    with session_scope() as session:
        review = session.scalar(select(Review))
        assert review.findings == "Strong start in the EU team" and review.checkpoint_id


def test_missing_findings_shows_an_error(scratch_db):
    owner_id, plan_id = _seed()
    at = _open(owner_id, plan_id)
    _form_button(at, "review_").click().run()
    assert _shown(at.error, "findings are required")
    assert _count(Review, measurement_id=plan_id) == 0


def test_manual_value_is_recorded(scratch_db):
    owner_id, plan_id = _seed()
    at = _open(owner_id, plan_id)
    at.number_input[0].set_value(12)
    _form_button(at, "manual_").click().run()
    assert not at.exception
    assert _shown(at.success, "Saved the values")
    with session_scope() as session:
        hours = session.scalar(select(MeasurementMetric).filter_by(name="Hours saved"))
        assert hours.current == 12 and hours.progress is not None


def test_stale_customize_shows_conflict(scratch_db):
    owner_id, plan_id = _seed()
    at = _open(owner_id, plan_id)
    with session_scope() as session:  # someone else saves first
        session.execute(
            update(Measurement)
            .where(Measurement.id == plan_id)
            .values(version=Measurement.version + 1)
        )
    at.text_input[0].input("30, 60")
    _form_button(at, "customize_").click().run()
    assert not at.exception
    assert _shown(at.error, "Someone else changed this plan")
    assert _count(Review) == 0
    at.text_input[0].input("30, 60")  # reloaded with the latest version: now it saves
    _form_button(at, "customize_").click().run()
    assert _shown(at.success, "Saved the plan's criteria")


def test_leader_sees_every_plan(scratch_db):
    _seed()
    with session_scope() as session:
        leader = csm(session)
        leader.role = Role.LEADER
        leader_id = leader.id
    at = _open(leader_id)
    assert len(at.dataframe[0].value) == 1


def _proposed() -> tuple:
    with session_scope() as session:
        owner = csm(session)
        cust = customer(session, owner=owner, contacts=CONTACTS)
        metrics = [manual("Hours saved", 0, 20, current=25)]
        row = plan(session, cust, started_on=NOW.date() - timedelta(days=100), metrics=metrics)
        checkpoints_of(session, row)[90].status = CheckpointStatus.TRIGGERED
        propose_outcomes(session=session, measurement_ids=[row.id])
        return owner.id, row.id


def test_outcome_override_needs_a_reason_then_confirms(scratch_db):
    owner_id, plan_id = _proposed()
    at = _open(owner_id, plan_id)
    with session_scope() as session:
        proposed = session.scalar(select(Outcome.proposed_status))
    other = next(s for s in OutcomeStatus if s != proposed)
    outcome = next(s for s in at.selectbox if s.label == "Outcome")
    outcome.set_value(other.value)
    _form_button(at, "outcome_").click().run()
    assert _shown(at.error, "give a reason")
    outcome = next(s for s in at.selectbox if s.label == "Outcome")
    outcome.set_value(proposed.value)
    _form_button(at, "outcome_").click().run()
    assert not at.exception
    assert _shown(at.success, "Recorded the outcome")
    with session_scope() as session:
        assert session.get(Measurement, plan_id).status == MeasurementStatus.COMPLETED


def test_the_criteria_table_becomes_criteria():
    frame = pd.DataFrame(
        [
            [" Active users ", "active_users", "users", "higher_is_better", 50.0, None],
            ["  ", None, None, "higher_is_better", 1.0, None],
            ["NPS", "", "", "higher_is_better", 30.0, 10.0],
            ["NPS", None, "points", "higher_is_better", 40.0, None],
        ],
        columns=TABLE_COLUMNS,
    )
    assert table_criteria(frame) == [
        {
            "name": "Active users",
            "metric_key": "active_users",
            "unit": "users",
            "direction": "higher_is_better",
            "target": 50.0,
            "baseline": None,
        },
        {
            "name": "NPS",
            "metric_key": None,
            "unit": "points",
            "direction": "higher_is_better",
            "target": 40.0,
            "baseline": None,
        },
    ]


def test_the_review_form_starts_from_the_computed_status(scratch_db):
    owner_id, plan_id = _seed()
    with session_scope() as session:
        status = session.get(Measurement, plan_id).progress_status
    assert status == ProgressStatus.AT_RISK  # 25% of the way on day 35 of 90
    at = _open(owner_id, plan_id)
    assessment = next(s for s in at.selectbox if s.label == "Assessment")
    assert assessment.value == "at_risk"
    checkpoint = next(s for s in at.selectbox if s.label == "Checkpoint")
    assert checkpoint.value == 30


def test_a_closed_plan_leaves_the_active_list(scratch_db):
    owner_id, plan_id = _proposed()
    with session_scope() as session:
        proposed = OUTCOME_LABELS[session.scalar(select(Outcome.proposed_status))]
    at = _open(owner_id)
    [status] = at.dataframe[0].value["Status"]
    assert status == f"Awaiting decision — {proposed.lower()} proposed"
    with session_scope() as session:
        owner = session.get(User, owner_id)
        confirm_outcome(
            session=session,
            measurement_id=plan_id,
            status="success",
            actor=owner,
            reason="The customer reported the savings after day 90.",
        )
    at = _open(owner_id)
    assert not at.dataframe and _shown(at.info, "Pick 'All' to see every plan")
    at = _open(owner_id, plan_id)
    assert any("Closed — success" in m.value for m in at.markdown)
    assert _shown(at.markdown, "Proposed: **" + proposed)


def _seed_plain_words() -> tuple:
    """A plan past day 60 whose day-60 review waits while day 90 comes next."""
    start = NOW.date() - timedelta(days=65)
    with session_scope() as session:
        owner = csm(session)
        cust = customer(session, owner=owner, name="Contoso", contacts=CONTACTS)
        metrics = [
            {**manual("Annualized cost savings", 21_350, 28_900, 29_080), "unit": "USD"},
            {**manual("Tickets closed", 1_200, 4_500, 61.52)},
            {
                **manual("Signed off", 0, 1, 0),
                "unit": "met",
                "target_source": TargetSource.STATED,
                "target_explanation": "Stated on the opportunity.",
            },
        ]
        row = plan(session, cust, started_on=start, metrics=metrics, health_before=25)
        cps = checkpoints_of(session, row)
        cps[30].status = CheckpointStatus.REVIEWED
        cps[60].status = CheckpointStatus.TRIGGERED
        cps[60].review_due_on = start + timedelta(days=87)
        update_progress(session=session, now=NOW, measurement_ids=[row.id])
        return owner.id, row.id, start


def test_a_plan_reads_in_plain_words(scratch_db):
    owner_id, plan_id, start = _seed_plain_words()
    at = _open(owner_id, plan_id)
    shown = apptest.texts(at)
    assert "e+0" not in shown and "1.2e" not in shown
    assert "Baseline $21.4K → target $28.9K · now $29.1K" in shown
    assert "Baseline 1,200 units → target 4,500 units · now 61.5 units" in shown
    # a yes/no criterion: met or not, no progress share, no averaging window, no repeated source
    signed = next(c.value for c in at.caption if c.value in ("Met", "Not met yet"))
    assert signed == "Not met yet"
    assert "Target: **Stated on the opportunity**" in shown
    assert "Stated on the opportunity — Stated" not in shown
    # the next checkpoint and the review still waiting are two facts, not two "next" values
    cards = [str(m.value) for m in at.markdown]
    assert f"**Day 90 · {start + timedelta(days=90)}**" in cards
    due = start + timedelta(days=87)
    assert f"**Day 60 ({start + timedelta(days=60)}), due by {due}**" in cards
    assert "**25 at start → not decided yet**" in cards
    assert "average, so one criterion can lag" in shown
    table = _open(owner_id).dataframe[0].value
    assert list(table["Next checkpoint"]) == [f"Day 90 · {start + timedelta(days=90)}"]
    # a ProgressColumn draws a missing prediction as an empty cell, not as 'None'
    assert [p for p in problems(at) if "'Predicted success'" not in p] == []
