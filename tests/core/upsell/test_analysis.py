"""Outcome analysis: mix, rates, breakdowns, 30-day signals, calibration and PRD metrics."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.errors import Invalid
from core.upsell.analysis import outcomes_analysis
from core.upsell.models import CheckpointStatus, Outcome, OutcomeStatus, Review
from tests.core.upsell import factories_tracking as f

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
    status = OutcomeStatus(outcome)
    f.add(
        session,
        Outcome(
            measurement_id=plan.id, proposed_status=status, status=status if confirmed else None
        ),
    )
    if signal:
        cp = f.checkpoints_of(session, plan)[30]
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
    assert o.success_rate == 0.5 and o.churn_rate == 0.25 and o.churned == 1
    assert (o.met, o.metrics, o.value_realization) == (5, 8, 0.625)
    products = {g.value: g for g in result.breakdowns["product"]}
    assert products["ANALYTICS"].success_rate == pytest.approx(2 / 3, abs=1e-4)
    assert products["SUPPORT"].churn_rate == 1.0
    assert {g.value for g in result.breakdowns["arrBand"]} == {"10–50k"}
    # 30-day signals: both ahead succeeded, neither behind did.
    assert result.on_track_at_30_success == 1.0 and result.behind_at_30_success == 0.0
    behind = next(s for s in result.signals if s.signal == "behind")
    assert behind.outcomes == {"failed": 1, "partial": 1} and behind.total == 2
    # Brier: (0.8-1)^2 + (0.6-1)^2 + 0.4^2 + 0.2^2 = 0.04 + 0.16 + 0.16 + 0.04 = 0.4 → 0.1
    assert result.brier_score == pytest.approx(0.1)
    buckets = {b.low: (b.plans, b.actual) for b in result.calibration}
    assert buckets == {20: (1, 0.0), 40: (1, 0.0), 60: (1, 1.0), 80: (1, 1.0)}


def test_time_to_value_uses_checkpoint_then_latest_reading(session, cust):
    first = decided(session, cust, "success")
    cp = f.checkpoints_of(session, first)[60]
    cp.summary = {"status": "on_track", "metrics": [{"met": True}, {"met": True}]}
    second = decided(session, cust, "success")  # met now: latest reading NOW - 1 day
    session.flush()
    result = outcomes_analysis(session=session, today=TODAY)
    reading_days = (f.NOW.date() - timedelta(days=1) - second.started_on).days
    assert result.overall.median_days_to_value == (60 + reading_days) / 2


def test_filters_and_prd_metrics(session, cust):
    ahead = decided(session, cust, "success", signal="on_track")
    f.checkpoints_of(session, ahead)[90].summary = {"status": "exceeding"}
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
    assert kpis["churn"].value == 0.0 and kpis["churn"].met
    # Both plans are past day 90; only one was on track or exceeding at its day-90 checkpoint.
    assert kpis["adoptionSuccess"].value == 0.5 and kpis["adoptionSuccess"].met is False
    early = outcomes_analysis(session=session, today=START + timedelta(days=89)).kpis
    assert next(k for k in early if k.key == "adoptionSuccess").value is None


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
