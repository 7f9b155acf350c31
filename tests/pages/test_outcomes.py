"""The Upsell outcomes page: empty state before any outcome, then metrics, charts and learnings."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from components.deltas import arrow, target_words, vs_target, window_words
from components.format import plural
from components.outcome_drill import BY_KEY, VALUE_KEY
from components.outcome_views import calibration_chart, prediction_reasons
from core.base import Role
from core.db import session_scope
from core.reporting.outcome_periods import PERIOD_DAYS
from core.reporting.team import windows
from core.upsell.analysis_schemas import Bucket
from core.upsell.models import CheckpointStatus, MeasurementStatus, Outcome
from core.upsell.outcome_report import refresh
from core.upsell.prediction import predict
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of
from tests.core.upsell.test_analysis import START, decided
from tests.pages import apptest
from tests.pages.apptest import texts
from tests.pages.visible_text import problems

PAGE = "../pages/outcomes.py"


def open_page(user_id):
    return apptest.open_page(user_id, PAGE)


def test_before_any_outcome_the_page_explains_when_they_appear(scratch_db):
    # (the demo book has older upsells' outcomes: an empty database has none)
    with session_scope() as session:
        user_id = f.user(session, Role.LEADER).id
    at = open_page(user_id)
    assert at.title[0].value == "Upsell outcomes"
    (info,) = at.info
    assert "No outcomes yet" in info.value and "final checkpoint" in info.value
    assert {m.label.split(" ")[0] for m in at.metric} >= {"Measurement", "Adoption"}
    assert not at.get("plotly_chart")
    assert "Chance of success of active plans" in [h.value for h in at.subheader]


@pytest.fixture
def seeded(scratch_db):
    with session_scope() as session:
        leader = f.user(session, Role.LEADER, "Lee", email="lee@outcomes.example")
        cust = f.customer(session, contacts=CONTACTS)
        for _ in range(2):
            decided(session, cust, "success", signal="on_track", predicted=80)
        support = ("SUPPORT", "Support")
        for _ in range(2):
            decided(
                session,
                cust,
                "failed",
                met=(False, False),
                signal="behind",
                predicted=30,
                contracted=True,
                product=support,
            )
        return leader.id


def test_leader_sees_metrics_charts_signals_and_learnings(seeded):
    at = open_page(seeded)
    assert not at.info
    metrics = {m.label: m.value for m in at.metric}
    churn = next(v for k, v in metrics.items() if k.startswith("Churn on expansion"))
    assert churn == "Not yet known"  # every expansion closed less than 12 months ago
    assert len(at.get("plotly_chart")) == 3  # too few confirmed outcomes for calibration
    shown = texts(at)
    assert "Not enough confirmed outcomes yet (4 of 20)" in shown
    assert "Best product: Analytics Pro (100% of 2 plans succeeded)" in shown
    assert "weakest: Support (0% of 2)" in shown  # products by name, never their keys
    assert "Plans on track at day 30 succeeded 100% of the time (of 2 decided plans)" in shown
    assert "plans at risk or behind at day 30, 0% (of 2 decided plans)" in shown
    signals = next(d.value for d in at.dataframe if "Succeeded" in d.value.columns)
    assert list(signals["Status at day 30"]) == ["Behind", "On track"]
    at.selectbox(key="oc_product").select("SUPPORT").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert next(v for k, v in metrics.items() if k.startswith("Churn")) == "Not yet known"


@pytest.fixture
def predicted(scratch_db):
    """20 confirmed outcomes (12 analytics successes; 8 support failures, behind at day 30) and
    two open plans: a new analytics one and a support one behind at day 30."""
    with session_scope() as session:
        leader = f.user(session, Role.LEADER, "Lee", email="lee@outcomes.example")
        cust = f.customer(session, contacts=CONTACTS)
        support = ("SUPPORT", "Support")
        for _ in range(12):
            decided(session, cust, "success", predicted=70).status = MeasurementStatus.COMPLETED
        for _ in range(8):
            done = decided(session, cust, "failed", signal="behind", predicted=40, product=support)
            done.status = MeasurementStatus.COMPLETED
        metrics = [f.manual("m", 0, 10)]
        fresh = f.plan(
            session, f.customer(session, contacts=CONTACTS), started_on=START, metrics=metrics
        )
        lagging = f.plan(
            session,
            f.customer(session, contacts=CONTACTS),
            started_on=START,
            metrics=metrics,
            product=support,
        )
        cp = checkpoints_of(session, lagging)[30]
        cp.status, cp.summary = CheckpointStatus.TRIGGERED, {"status": "behind"}
        session.flush()
        predict(session=session, measurement_ids=[fresh.id, lagging.id])
        return leader.id


def test_predictions_are_checked_and_explained(predicted):
    at = open_page(predicted)
    assert len(at.get("plotly_chart")) == 4
    shown = texts(at)
    # Brier: 12·0.3² + 8·0.4² = 2.36 over 20 = 0.118; the base rate 60% scores 0.24.
    assert "On 20 confirmed outcomes the predictions score 0.12" in shown
    assert "Always predicting the base rate (60% succeeded) would score 0.24," in shown
    assert "so the predictions are 51% better than the base rate" in shown
    table = at.dataframe[-1].value
    # Support, behind at day 30: (0 + 5·0.6) / (8 + 5); analytics: (12 + 5·0.6) / (12 + 5).
    assert list(table["Chance of success"]) == ["23%", "88%"]
    low, high = table["Why"]
    assert low.startswith(
        "Similar upsells (at risk or behind at day 30, Support, Mid-market, $10K–$50K added ARR): "
        "0 of 8 succeeded;"
    )
    assert "all confirmed upsells: 12 of 20 succeeded" in low
    assert "early adoption at risk or behind at day 30" in low
    assert high.startswith("Similar upsells (Analytics Pro, Mid-market, $10K–$50K added ARR)")
    assert "12 of 12 succeeded" in high and "no 30-day check yet" in high


def test_without_history_the_page_says_so_instead_of_a_number(scratch_db):
    with session_scope() as session:
        leader = f.user(session, Role.LEADER, "Lee", email="lee@outcomes.example")
        fresh = f.plan(
            session,
            f.customer(session, contacts=CONTACTS),
            started_on=START,
            metrics=[f.manual("m", 0, 9)],
        )
        predict(session=session, measurement_ids=[fresh.id])
    at = open_page(leader.id)
    table = at.dataframe[-1].value
    assert list(table["Chance of success"]) == ["No history yet"]
    assert table["Why"][0].startswith("No history yet: no upsell has a confirmed outcome")
    assert "assumed 60%" in table["Why"][0]


def test_csm_opening_the_page_is_told_whose_it_is(seeded):
    with session_scope() as session:
        csm_id = f.csm(session).id
    at = open_page(csm_id)
    assert at.title[0].value == "Upsell outcomes"
    (info,) = at.info
    assert info.value.startswith("This page is for CS leaders and admins — ask an admin")
    assert not at.metric and not at.get("plotly_chart")  # nothing of the page itself ran


def _basis(*counts, early="lagging"):
    names = ["earlySignal", "product", "segment", "arrBand"]
    values = [early, "support", "smb", "<10k"]
    steps = [
        {"feature": name, "value": value, "n": n, "successes": s}
        for name, value, (n, s) in zip(names, values, counts, strict=True)
    ]
    features = dict(zip(names, values, strict=True)) | {"productName": "Premium Support"}
    return {
        "features": features,
        "steps": steps,
        "history": 14,
        "base": {"n": 14, "successes": 3, "rate": 0.3},
        "prior": 0.6,
    }


def test_reasons_name_the_closest_group_with_enough_examples():
    reasons = prediction_reasons(_basis((12, 1), (1, 0), (1, 0), (1, 0)))
    assert reasons == [
        "Similar upsells (at risk or behind at day 30): 1 of 12 succeeded",
        "all confirmed upsells: 3 of 14 succeeded",
        "early adoption at risk or behind at day 30",
    ]
    few = prediction_reasons(_basis((3, 1), (2, 1), (0, 0), (0, 0)))
    assert few[0] == (
        "Similar upsells (at risk or behind at day 30, Premium Support): 1 of 2 succeeded "
        "(few so far, so they weigh little)"
    )
    none = prediction_reasons(_basis((0, 0), (0, 0), (0, 0), (0, 0)))
    assert none[0] == "No similar upsell has a confirmed outcome yet"
    wide = prediction_reasons(_basis((9, 1), (8, 1), (7, 1), (6, 1), early="on_track"))
    assert wide[0].startswith(
        "Similar upsells (on track or ahead at day 30, Premium Support, SMB, under $10K added "
        "ARR): 1 of 6"
    )


def test_plan_latency_and_tracking_list_the_plans_behind_them(seeded):
    at = open_page(seeded)
    labels = [e.label for e in at.expander]
    assert "Plans within 48 h: 0 of 4 upsells planned within 48 hours of the close" in labels
    assert (
        "Tracking by first review: 0 of 4 plans past their first checkpoint had data for every "
        "metric by that day" in labels
    )
    rows = [x.proto for x in at.get("page_link") if x.proto.query_string.startswith("plan=")]
    late = [r for r in rows if "days later" in r.label]
    idle = [r for r in rows if "no data by then for m0, m1" in r.label]
    assert len(late) == 4 and len(idle) == 4  # each plan once per metric, linking to it
    assert "≤ 48 h: **0**" in texts(at) and "over 4 weeks: **4**" in texts(at)


def test_the_figures_say_when_they_were_worked_out(seeded):
    with session_scope() as session:
        refresh(session=session, now=f.NOW)
    at = open_page(seeded)
    shown = texts(at)
    assert "As of 2026-" in shown and "every 10 minutes" in shown
    assert f"As of {f.NOW:%Y-%m-%d %H:%M} UTC" in shown  # the stored report, not a new one
    at.selectbox(key="oc_product").select("SUPPORT").run()
    assert "worked out for these filters" in texts(at)


def _metric(at, title):
    return next(m for m in at.metric if m.label == title)


def test_targets_and_the_period_before_are_named(seeded):
    with session_scope() as session:
        first = session.scalars(
            select(Outcome).where(Outcome.status == "success").order_by(Outcome.id)
        ).first()
        first.created_at = datetime.now(UTC) - timedelta(days=120)  # the period before
    at = open_page(seeded)
    current, previous = windows(datetime.now(UTC).date(), PERIOD_DAYS)
    shown = texts(at)
    assert f"Outcomes decided {window_words(current)}" in shown
    assert f"against {window_words(previous)}" in shown
    realization = _metric(at, "Value realization")  # every plan to date: 4 of 8 goals
    assert realization.value == "50%" and realization.delta == "-30 pts vs target 80%+"
    target = _metric(at, "Realization vs target")
    decided = _metric(at, "Decided plans")
    assert decided.value == "3" and decided.delta == "+2 vs 1 before"
    # 3 plans decided now: 2 goals of 6 met (33%); the one before met 2 of 2 (100%)
    assert target.value == "33%" and target.delta == "-47 pts vs target 80%+"
    assert _metric(at, "Realization this period").delta == f"-67 pts vs {window_words(previous)}"


def test_the_drill_down_lists_the_plans_behind_a_group_with_links(seeded):
    at = open_page(seeded)
    table = next(d.value for d in at.dataframe if "Plan" in d.value.columns)
    assert len(table) == 4 and set(table["Product"]) == {"Analytics Pro", "Support"}
    at.selectbox(key=VALUE_KEY).select("failed").run()
    table = next(d.value for d in at.dataframe if "Plan" in d.value.columns)
    assert list(table["Product"]) == ["Support", "Support"]
    assert set(table["Outcome"]) == {"Failed"} and set(table["Goals met"]) == {"0 of 2"}
    assert all(link.startswith("upsells?plan=") for link in table["Plan"])
    assert "2 plans — outcome: Failed" in texts(at)
    at.selectbox(key=BY_KEY).select("product").run()
    at.selectbox(key=VALUE_KEY).select("ANALYTICS").run()
    table = next(d.value for d in at.dataframe if "Plan" in d.value.columns)
    assert list(table["Outcome"]) == ["Success", "Success"]
    product = at.selectbox(key="oc_product")
    assert "Support" in product.options and "SUPPORT" not in product.options  # shown by name
    for dimension in ("segment", "salesRep", "arrBand"):  # every grouping in plain words
        at.segmented_control(key="oc_dim").set_value(dimension).run()
        assert problems(at, keys={"ANALYTICS", "SUPPORT"}) == []


def _drill_app():
    import streamlit as st

    from components.outcome_drill import drill_down, pick_from_chart
    from core.reporting.landing_schemas import OutcomePlan, OutcomePlans

    def plan(name, outcome, product):
        return OutcomePlan(
            measurement_id="00000000-0000-0000-0000-00000000000" + str(len(name)),
            customer=name,
            upsell="Expansion",
            product=product,
            product_name=product.title(),
            segment="smb",
            industry="Retail",
            arr_band="<10k",
            sales_rep="unassigned",
            outcome=outcome,
            confirmed=outcome,
            metrics=2,
            met=1,
            signal_30=None,
            predicted_success=None,
        )

    found = OutcomePlans(
        plans=[plan("A", "success", "alpha"), plan("Bb", "failed", "beta")],
        total=2,
        products={"alpha": "Alpha", "beta": "Beta"},
    )
    event = st.session_state.get("fake_event")
    pick_from_chart(event, "product")
    drill_down(found)


def test_selecting_a_bar_picks_its_group_once(scratch_db):
    at = AppTest.from_function(_drill_app).run()
    assert len(at.dataframe[0].value) == 2
    at.session_state["fake_event"] = {"selection": {"points": [{"customdata": "beta"}]}}
    at.run()
    assert list(at.dataframe[0].value["Customer"]) == ["Bb"]
    at.selectbox(key=VALUE_KEY).select("alpha").run()  # a later pick in the box wins
    assert list(at.dataframe[0].value["Customer"]) == ["A"]


def test_targets_read_one_way_and_arrows_follow_the_number():
    # churn on expansion: 14% against under 10% is a rise (up arrow) and bad (red)
    assert vs_target(0.14, 0.10, higher_is_better=False) == ("+4 pts vs target under 10%", "red")
    assert arrow(0.14, 0.10) == "up"
    assert vs_target(1.0, 1.0) == ("on target 100%", "green") and arrow(1.0, 1.0) == "off"
    assert vs_target(0.86, 0.90) == ("-4 pts vs target 90%+", "red")
    assert arrow(0.86, 0.90) == "down"
    assert target_words(0.2) == "target 20%+"


def test_the_page_says_success_measures_in_plain_words(seeded):
    at = open_page(seeded)
    shown = texts(at)
    assert "PRD" not in shown and "≥" not in shown and "pts vs >" not in shown
    assert "the success measures against our targets" in shown
    deltas = [str(m.delta) for m in at.metric if m.delta]
    assert deltas and not any(sign in d for d in deltas for sign in "≥>=")
    assert "-30 pts vs target 80%+" in deltas


def test_counts_are_in_the_singular_for_one():
    assert (plural(1, "plan"), plural(12, "plan")) == ("1 plan", "12 plans")
    assert plural(1_204, "criterion", "criteria") == "1,204 criteria"


def test_calibration_counts_are_in_the_hover_not_beside_the_markers():
    buckets = [Bucket(low=0, high=10, predicted=0.05, actual=0.0, plans=1)]
    trace = calibration_chart(buckets).data[1]
    assert "text" not in trace.mode and list(trace.customdata[0]) == ["0-10", "1 plan"]
