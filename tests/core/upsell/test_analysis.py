"""Outcome analysis: mix, rates, breakdowns, 30-day signals, calibration and PRD metrics."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.errors import Invalid
from core.upsell.analysis import MIN_SCORED, outcomes_analysis, plan_predictions
from core.upsell.models import CheckpointStatus, MeasurementStatus, Outcome, OutcomeStatus, Review
from tests import factories as f
from tests.core.upsell.scenarios import checkpoints_of

START = date(2026, 6, 1)
TODAY = date(2026, 11, 20)


def decided(
    session,
    cust,
    outcome,
    *,
    met=(True, True),
    signal=None,
    predicted=None,
    product=("ANALYTICS", "Analytics Pro"),
    confirmed=True,
    contracted=False,
):
    """A plan with two manual metrics (met or not), an outcome and a day-30 review signal."""
    metrics = [f.manual(f"m{i}", 0, 10, 10 if ok else 2) for i, ok in enumerate(met)]
    plan = f.plan(session, cust, started_on=START, metrics=metrics, product=product)
    plan.predicted_success = None if predicted is None else Decimal(predicted)
    f.outcome(session, plan, outcome, confirmed=confirmed)
    if signal:
        cp = checkpoints_of(session, plan)[30]
        cp.status = CheckpointStatus.REVIEWED
        f.add(
            session,
            Review(measurement_id=plan.id, checkpoint_id=cp.id, assessment=signal, findings="ok"),
        )
    if contracted:
        from core.upsell.models import Upsell

        session.get(Upsell, plan.upsell_id).contracted_at = f.NOW
    session.flush()
    return plan


@pytest.fixture
def cust(session):
    return f.customer(session)


def test_no_plans_gives_empty_figures(session):
    result = outcomes_analysis(session=session, today=TODAY)
    assert result.overall.plans == 0 and result.overall.success_rate is None
    assert result.brier_score is None and result.signals == []


def test_mix_rates_and_value_realization(session, cust):
    decided(session, cust, "success", signal="on_track", predicted=80)
    decided(session, cust, "success", signal="exceeding", predicted=60)
    decided(
        session, cust, "partial", met=(True, False), signal="behind", predicted=40, confirmed=False
    )
    decided(
        session,
        cust,
        "failed",
        met=(False, False),
        signal="behind",
        predicted=20,
        contracted=True,
        product=("SUPPORT", "Support"),
    )
    result = outcomes_analysis(session=session, today=TODAY)
    o = result.overall
    assert o.decided == 4 and o.mix == {"success": 2, "partial": 1, "at_risk": 0, "failed": 1}
    assert o.success_rate == 0.5
    # Every upsell closed less than 12 months ago: churn is not yet known (test_churn.py).
    assert (o.churn_rate, o.churn_known, o.churn_unknown, o.churned) == (None, 0, 4, 0)
    assert (o.met, o.metrics, o.value_realization) == (5, 8, 0.625)
    products = {g.value: g for g in result.breakdowns["product"]}
    assert products["ANALYTICS"].success_rate == pytest.approx(2 / 3, abs=1e-4)
    assert products["SUPPORT"].churn_rate is None and products["SUPPORT"].churn_unknown == 1
    assert {g.value for g in result.breakdowns["arrBand"]} == {"10–50k"}
    # 30-day signals: both ahead succeeded, neither behind did.
    assert result.on_track_at_30_success == 1.0 and result.behind_at_30_success == 0.0
    behind = next(s for s in result.signals if s.signal == "behind")
    assert behind.outcomes == {"failed": 1, "partial": 1} and behind.total == 2
    # Calibration counts confirmed outcomes only: the proposed partial (predicted 40) is left out.
    buckets = {b.low: (b.plans, b.actual) for b in result.calibration}
    assert buckets == {20: (1, 0.0), 60: (1, 1.0), 80: (1, 1.0)}
    assert result.scored_outcomes == 3 and result.brier_score is None  # fewer than 20


def test_time_to_value_uses_checkpoint_then_latest_reading(session, cust):
    first = decided(session, cust, "success")
    cp = checkpoints_of(session, first)[60]
    cp.summary = {"status": "on_track", "metrics": [{"met": True}, {"met": True}]}
    second = decided(session, cust, "success")  # met now: latest reading NOW - 1 day
    session.flush()
    result = outcomes_analysis(session=session, today=TODAY)
    reading_days = (f.NOW.date() - timedelta(days=1) - second.started_on).days
    assert result.overall.median_days_to_value == (60 + reading_days) / 2


def test_filters_and_prd_metrics(session, cust):
    ahead = decided(session, cust, "success", signal="on_track")
    checkpoints_of(session, ahead)[90].summary = {"status": "exceeding"}
    decided(session, cust, "failed", met=(False, False), product=("SUPPORT", "Support"))
    session.flush()
    only = outcomes_analysis(session=session, product="SUPPORT", today=TODAY)
    assert only.overall.plans == 1 and only.overall.mix["failed"] == 1
    assert outcomes_analysis(session=session, segment="smb", today=TODAY).overall.plans == 0
    assert outcomes_analysis(session=session, arr_band=">150k", today=TODAY).overall.plans == 0
    later = outcomes_analysis(session=session, date_from=START + timedelta(days=1), today=TODAY)
    assert later.overall.plans == 0
    kpis = {k.key: k for k in outcomes_analysis(session=session, today=TODAY).kpis}
    assert kpis["coverage"].value == 1.0 and kpis["coverage"].met
    assert kpis["valueRealization"].value == 0.5 and kpis["valueRealization"].met is False
    assert kpis["churn"].value is None and kpis["churn"].met is None
    assert kpis["churn"].detail.startswith("Not yet known")
    # Both plans are past day 90; only one was on track or exceeding at its day-90 checkpoint.
    assert kpis["adoptionSuccess"].value == 0.5 and kpis["adoptionSuccess"].met is False
    early = outcomes_analysis(session=session, today=START + timedelta(days=89)).kpis
    assert next(k for k in early if k.key == "adoptionSuccess").value is None


def test_brier_and_skill_score_use_confirmed_outcomes_against_the_base_rate(session, cust):
    for predicted, outcome in (
        [(80, "success")] * 6
        + [(60, "success")] * 6
        + [(20, "failed")] * 4
        + [(60, "failed")] * 2
        + [(60, "partial")] * 2
    ):  # partial is not a success
        decided(session, cust, outcome, predicted=predicted)
    for _ in range(5):  # proposed, never confirmed: not scored
        decided(session, cust, "success", predicted=5, confirmed=False)
    undecided = decided(session, cust, "failed", predicted=95)  # closed as no decision
    closed = session.query(Outcome).filter_by(measurement_id=undecided.id).one()
    closed.status = OutcomeStatus.NO_DECISION
    session.flush()
    result = outcomes_analysis(session=session, today=TODAY)
    assert (result.scored_outcomes, result.min_scored_outcomes) == (20, MIN_SCORED)
    assert result.scored_base_rate == 0.6
    # 6·0.2² + 6·0.4² + 4·0.2² + 4·0.6² = 2.8 over 20 plans; the base rate 0.6 scores 0.6·0.4.
    assert result.brier_score == pytest.approx(0.14)
    assert result.brier_reference == pytest.approx(0.24)
    assert result.brier_skill == pytest.approx(1 - 0.14 / 0.24, abs=1e-4)
    buckets = {b.low: (b.plans, b.predicted, b.actual) for b in result.calibration}
    assert buckets == {20: (4, 0.2, 0.0), 60: (10, 0.6, 0.6), 80: (6, 0.8, 1.0)}


def test_too_few_confirmed_outcomes_give_a_count_not_a_score(session, cust):
    for _ in range(MIN_SCORED - 1):
        decided(session, cust, "success", predicted=70)
    for _ in range(3):
        decided(session, cust, "failed", predicted=70, confirmed=False)
    result = outcomes_analysis(session=session, today=TODAY)
    assert result.scored_outcomes == MIN_SCORED - 1
    assert result.brier_score is None and result.brier_skill is None
    assert result.brier_reference is None


def test_one_outcome_for_every_plan_has_no_skill_score(session, cust):
    for _ in range(MIN_SCORED):
        decided(session, cust, "failed", predicted=40)
    result = outcomes_analysis(session=session, today=TODAY)
    assert result.brier_score == pytest.approx(0.16) and result.brier_reference == 0
    assert result.brier_skill is None


def test_plan_predictions_list_active_plans_lowest_first(session, cust):
    done = decided(session, cust, "success", predicted=90)
    done.status = MeasurementStatus.COMPLETED
    high = f.plan(session, cust, started_on=START, metrics=[f.manual("m", 0, 10)])
    low = f.plan(session, f.customer(session), started_on=START, metrics=[f.manual("m", 0, 10)])
    high.predicted_success, high.prediction_basis = Decimal(72), {"history": 3}
    low.predicted_success = Decimal(35)
    session.flush()
    rows = plan_predictions(session=session)
    assert [r.measurement_id for r in rows] == [low.id, high.id]
    assert rows[1].basis == {"history": 3} and rows[1].predicted_success == 72
    assert plan_predictions(session=session, product="SUPPORT") == []
    with pytest.raises(Invalid, match="segment"):
        plan_predictions(session=session, segment="huge")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"segment": "huge"},
        {"arr_band": "1M"},
        {"date_from": date(2026, 2, 1), "date_to": date(2026, 1, 1)},
    ],
)
def test_invalid_filters_name_the_field(session, kwargs):
    with pytest.raises(Invalid):
        outcomes_analysis(session=session, **kwargs)
