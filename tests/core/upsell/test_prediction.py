from decimal import Decimal

import pytest

from core.base import Segment
from core.upsell.models import Measurement, MeasurementStatus, OutcomeStatus
from core.upsell.plans import create_plans
from core.upsell.prediction import explain, predict
from tests.core.upsell import factories_plans as f

S = OutcomeStatus


@pytest.fixture
def mid(session):
    f.catalog(session)
    return f.customer(session, segment=Segment.MID_MARKET)


def _new_plan(session, cust, products):
    sold = f.upsell(session, cust, products)
    create_plans(session=session)
    return session.query(Measurement).filter_by(upsell_id=sold.id).one()


def _predicted(session, plan):
    assert predict(session=session, measurement_ids=[plan.id]) == 1
    session.expire_all()
    return session.get(Measurement, plan.id)


def test_without_history_the_documented_prior_is_used(session, mid):
    plan = _predicted(session, _new_plan(session, mid, ["analytics"]))
    assert plan.predicted_success == Decimal("60.00")
    basis = plan.prediction_basis
    assert basis["prior"] == 0.6 and basis["overall"] == {"n": 0, "successes": 0.0, "rate": 0.6}
    assert "no completed plans with a confirmed outcome yet: prior 0.6 used" in basis["note"]
    assert basis["scale"] == "percent (0-100)"
    assert basis["groups"][0]["product"] == "analytics"


@pytest.fixture
def history(session, mid):
    """Analytics in mid-market: 3 successes and 1 partial; automation in enterprise: 2 failures."""
    for status in (S.SUCCESS, S.SUCCESS, S.SUCCESS, S.PARTIAL):
        f.past_plan(session, f.customer(session), "analytics", status)
    for _ in range(2):
        f.past_plan(
            session, f.customer(session, segment=Segment.ENTERPRISE), "automation", S.FAILED
        )
    f.past_plan(session, f.customer(session), "analytics", None)  # no confirmed outcome: ignored
    cancelled = f.past_plan(session, f.customer(session), "automation", S.SUCCESS)
    cancelled.status = MeasurementStatus.CANCELLED  # cancelled plans teach nothing
    session.flush()


# overall = (3.5 + 5·0.6) / (6 + 5); analytics = (3.5 + 5·overall) / 9; × mid = (3.5 + 5·an) / 9
OVERALL = (Decimal("3.5") + 5 * Decimal("0.6")) / 11
ANALYTICS = (Decimal("3.5") + 5 * OVERALL) / 9
ANALYTICS_MID = (Decimal("3.5") + 5 * ANALYTICS) / 9
AUTOMATION = (0 + 5 * OVERALL) / 7


def _pct(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.01"))


def test_rates_shrink_toward_product_then_overall(session, mid, history):
    plan = _predicted(session, _new_plan(session, mid, ["analytics"]))
    assert plan.predicted_success == _pct(ANALYTICS_MID) == Decimal("78.73")
    [group] = plan.prediction_basis["groups"]
    assert group["productSegmentRate"] == {
        "n": 4,
        "successes": 3.5,
        "rate": round(float(ANALYTICS_MID), 4),
    }
    assert group["productRate"]["n"] == 4
    assert plan.prediction_basis["overall"]["n"] == 6
    assert "note" not in plan.prediction_basis


def test_an_empty_segment_falls_back_to_the_product_rate(session, history):
    enterprise = f.customer(session, segment=Segment.ENTERPRISE)
    plan = _predicted(session, _new_plan(session, enterprise, ["analytics"]))
    assert plan.predicted_success == _pct(ANALYTICS)
    assert plan.prediction_basis["groups"][0]["productSegmentRate"]["n"] == 0


def test_several_products_average_their_rates(session, mid, history):
    plan = _predicted(session, _new_plan(session, mid, ["analytics", "automation"]))
    assert plan.predicted_success == _pct((ANALYTICS_MID + AUTOMATION) / 2)
    assert [g["product"] for g in plan.prediction_basis["groups"]] == ["analytics", "automation"]


def test_a_plan_without_products_gets_the_overall_rate(session, mid, history):
    plan = _predicted(session, _new_plan(session, mid, []))
    assert plan.predicted_success == _pct(OVERALL)
    assert plan.prediction_basis["groups"] == []


def test_explain_is_pure():
    rate, basis = explain({}, ["x"], "smb")
    assert rate == Decimal("0.6") and basis["rate"] == 0.6


def test_nothing_to_predict(session):
    assert predict(session=session, measurement_ids=[]) == 0
