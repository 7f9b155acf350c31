"""The Upsell outcomes page: empty state before any outcome, then metrics, charts and learnings."""

import pytest
from sqlalchemy import create_engine, select

from core.accounts.models import User
from core.base import Role
from core.db import session_scope
from tests.core.upsell import factories_tracking as f
from tests.core.upsell.test_analysis import decided
from tests.pages import apptest
from tests.pages.apptest import texts

PAGE = "../pages/outcomes.py"


def open_page(user_id):
    return apptest.open_page(user_id, PAGE)


def test_before_any_outcome_the_page_explains_when_they_appear(app_db):
    engine = create_engine(app_db)
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.role == Role.LEADER).limit(1))
    engine.dispose()
    at = open_page(user_id)
    assert at.title[0].value == "Upsell outcomes"
    (info,) = at.info
    assert "No outcomes yet" in info.value and "final checkpoint" in info.value
    assert {m.label.split(" ")[0] for m in at.metric} >= {"Measurement", "Adoption"}
    assert not at.get("plotly_chart")


@pytest.fixture
def seeded(scratch_db):
    with session_scope() as session:
        leader = f.add(session, User(email="lee@outcomes.example", name="Lee", role=Role.LEADER))
        cust = f.customer(session)
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
    assert churn == "50%"
    assert len(at.get("plotly_chart")) == 4
    shown = texts(at)
    assert "Best product: ANALYTICS (100% of 2 plans succeeded)" in shown
    assert "weakest: SUPPORT (0% of 2)" in shown
    assert "Plans on track at day 30 succeeded 100% of the time" in shown
    signals = at.dataframe[0].value
    assert list(signals["Status at day 30"]) == ["Behind", "On track"]
    at.selectbox(key="oc_product").select("SUPPORT").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert next(v for k, v in metrics.items() if k.startswith("Churn")) == "100%"


def test_csm_may_not_open_the_page(seeded):
    with session_scope() as session:
        csm_id = f.csm(session).id
    at = apptest.signed_in(csm_id)
    with pytest.raises(ValueError, match="navigation page"):
        at.switch_page(PAGE)
