"""`ensure_plan`: create an upsell's plan once, as asked for, and refuse to change it later."""

import pytest
from sqlalchemy import func, select

from core.errors import Conflict
from core.upsell.models import Measurement
from core.upsell.schemas import CriteriaIn
from core.upsell.service import ensure_plan
from tests import factories as f
from tests.core.upsell.scenarios import catalog

ASKED = CriteriaIn.model_validate(
    {
        "metrics": [
            {"name": "Dashboards", "type": "outcome", "target": 5, "unit": "dashboards"},
            {
                "name": "Core feature adoption",
                "type": "adoption",
                "target": 70,
                "unit": "%",
                "metricKey": "feature_adoption",
            },
        ],
        "checkpointDays": [30, 90],
    }
)


@pytest.fixture
def sold(session):
    catalog(session)
    return f.upsell(session, f.customer(session), ("analytics",))


def _plans(session) -> int:
    return session.scalar(select(func.count()).select_from(Measurement))


def test_creates_the_template_plan_once_and_predicts_it(session, sold):
    view, created = ensure_plan(session=session, upsell=sold, actor="api:test")
    assert created and view.upsell_id == sold.id and view.predicted_success is not None
    assert view.success_criteria.checkpoint_days == [30, 60, 90]
    again, created = ensure_plan(session=session, upsell=sold, actor="api:test")
    assert not created and again == view and _plans(session) == 1


def test_plans_and_predicts_other_waiting_upsells_too(session, sold):
    other = f.upsell(session, f.customer(session), ("support",))
    ensure_plan(session=session, upsell=sold, actor="api:test")
    waiting = session.scalar(select(Measurement).where(Measurement.upsell_id == other.id))
    assert waiting is not None and waiting.predicted_success is not None


def test_asked_criteria_replace_the_templates_on_creation(session, sold):
    view, created = ensure_plan(session=session, upsell=sold, actor="api:test", criteria=ASKED)
    assert created
    got = {m.name: m for m in view.success_criteria.metrics}
    assert set(got) == {"Dashboards", "Core feature adoption"}
    assert got["Dashboards"].measurement == "manual" and got["Dashboards"].origin == "csm"
    assert got["Core feature adoption"].target == 70
    assert got["Core feature adoption"].baseline is None  # left out: kept what the plan had
    assert view.success_criteria.checkpoint_days == [30, 90]
    same, created = ensure_plan(session=session, upsell=sold, actor="api:test", criteria=ASKED)
    assert not created and same.id == view.id


def test_an_existing_plan_that_differs_is_a_conflict(session, sold):
    ensure_plan(session=session, upsell=sold, actor="api:test")
    with pytest.raises(Conflict, match="already has a measurement plan"):
        ensure_plan(session=session, upsell=sold, actor="api:test", criteria=ASKED)
    days_only = CriteriaIn.model_validate(
        {
            "metrics": [m.model_dump() for m in ASKED.metrics],
            "checkpointDays": [30, 60, 90],
        }
    )
    with pytest.raises(Conflict):
        ensure_plan(session=session, upsell=sold, actor="api:test", criteria=days_only)
