"""Success prediction: partial pooling over confirmed outcomes of similar upsells."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.base import Segment
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
    ProgressStatus,
    Review,
)
from core.upsell.prediction import PRIOR, explain, predict, refresh_predictions
from jobs.upsell_tracking import upsell_tracking
from tests import factories as f
from tests.core.upsell import scenarios

S = OutcomeStatus
MID, ENTERPRISE, SMB = Segment.MID_MARKET, Segment.ENTERPRISE, Segment.SMB
STARTED = date(2025, 6, 1)
K = 5


@pytest.fixture(autouse=True)
def catalog(session):
    scenarios.catalog(session)


def plan(session, product, *, segment=MID, arr=20_000, early=None, outcome=None, confirmed=True):
    """A plan with a day-30 checkpoint (its summary status = `early`) and maybe an outcome."""
    cust = f.customer(session, segment=segment)
    sold = f.upsell(session, cust, (product,), arr=arr, close=STARTED)
    done = outcome is not None and confirmed
    row = f.plan(
        session,
        cust,
        sold=sold,
        started_on=STARTED,
        status=MeasurementStatus.COMPLETED if done else MeasurementStatus.ACTIVE,
        days=(),
    )
    f.add(
        session,
        Checkpoint(
            measurement_id=row.id,
            day=30,
            kind="day_30",
            due_on=STARTED + timedelta(days=30),
            status=CheckpointStatus.TRIGGERED if early else CheckpointStatus.SCHEDULED,
            summary={"status": early} if early else {},
        ),
    )
    if outcome is not None:
        f.outcome(session, row, outcome, confirmed=confirmed)
    return row


def predicted(session, *plans) -> list[Measurement]:
    assert predict(session=session, measurement_ids=[p.id for p in plans]) == len(plans)
    session.expire_all()
    return [session.get(Measurement, p.id) for p in plans]


def pct(rate) -> Decimal:
    return (Decimal(rate) * 100).quantize(Decimal("0.01"))


def shrink(successes, n, toward):
    return (Decimal(successes) + K * toward) / (n + K)


def test_without_history_every_plan_gets_the_prior_and_says_no_history_yet(session):
    a = plan(session, "analytics", segment=MID, early="on_track")
    b = plan(session, "automation", segment=ENTERPRISE, arr=200_000, early="behind")
    for row in predicted(session, a, b):
        assert row.predicted_success == Decimal("60.00")
        assert row.prediction_basis["history"] == 0
        assert row.prediction_basis["note"].startswith("no history yet")
        assert row.prediction_basis["scale"] == "percent (0-100)"


@pytest.fixture
def history(session):
    """Analytics mid-market on track: 4 of 5 succeeded; automation enterprise lagging: 0 of 4."""
    for outcome in ("success", "success", "success", "success", "partial"):
        plan(session, "analytics", segment=MID, early="on_track", outcome=outcome)
    for outcome in ("failed", "failed", "at_risk", "partial"):
        plan(
            session, "automation", segment=ENTERPRISE, arr=200_000, early="behind", outcome=outcome
        )


def test_prediction_varies_with_product_segment_and_early_signal(session, history):
    good = plan(session, "analytics", segment=MID, early="exceeding")
    poor = plan(session, "automation", segment=ENTERPRISE, arr=200_000, early="at_risk")
    good, poor = predicted(session, good, poor)
    base = shrink(4, 9, PRIOR)
    assert good.prediction_basis["base"] == {"n": 9, "successes": 4, "rate": round(float(base), 4)}
    assert good.predicted_success > pct(base) > poor.predicted_success
    # The 5 analytics plans share every feature with `good` (on track at day 30, product,
    # segment, ARR band): they form its closest ring, taken in on top of the base rate.
    assert good.predicted_success == pct(shrink(4, 5, base)) == Decimal("65.00")
    steps = good.prediction_basis["steps"]
    assert [(s["feature"], s["value"], s["n"], s["successes"]) for s in steps] == [
        ("earlySignal", "on_track", 5, 4),
        ("product", "analytics", 5, 4),
        ("segment", "mid_market", 5, 4),
        ("arrBand", "10–50k", 5, 4),
    ]
    assert poor.predicted_success == pct(shrink(0, 4, base)) == Decimal("27.78")
    assert good.prediction_basis["features"]["productName"] == "Analytics"


def test_few_similar_examples_are_shrunk_toward_the_base_rate(session):
    for outcome in ("success", "failed") * 5:
        plan(session, "support", segment=SMB, outcome=outcome)
    plan(session, "analytics", segment=MID, outcome="success")
    new = plan(session, "analytics", segment=MID)
    (one,) = predicted(session, new)
    base = shrink(6, 11, PRIOR)  # 9/16
    assert one.predicted_success == pct(shrink(1, 1, base)) == Decimal("63.54")
    for _ in range(4):
        plan(session, "analytics", segment=MID, outcome="success")
    (five,) = predicted(session, new)
    base = shrink(10, 15, PRIOR)
    assert five.predicted_success == pct(shrink(5, 5, base)) == Decimal("82.50")
    assert pct(base) < five.predicted_success < Decimal(100)


def test_a_plan_like_no_other_gets_the_base_rate(session, history):
    (row,) = predicted(session, plan(session, "support", segment=SMB, arr=5_000))
    assert row.predicted_success == pct(shrink(4, 9, PRIOR))
    assert all(step["n"] == 0 for step in row.prediction_basis["steps"])


def test_unconfirmed_cancelled_and_undecided_outcomes_are_not_history(session):
    for _ in range(3):
        plan(session, "analytics", outcome="failed", confirmed=False)  # proposed only
    cancelled = plan(session, "analytics", outcome="success")
    cancelled.status = MeasurementStatus.CANCELLED
    undecided = plan(session, "analytics", outcome="failed")  # closed: nobody decided in time
    session.query(Outcome).filter_by(measurement_id=undecided.id).one().status = S.NO_DECISION
    session.flush()
    (row,) = predicted(session, plan(session, "analytics"))
    assert row.predicted_success == Decimal("60.00") and row.prediction_basis["history"] == 0


def test_refresh_repredicts_when_the_day_30_signal_arrives_and_only_then(session, history):
    new = plan(session, "analytics", segment=MID)
    (row,) = predicted(session, new)
    assert row.prediction_basis["features"]["earlySignal"] is None
    before = row.predicted_success
    assert refresh_predictions(session=session) == {"predictions_updated": 0}

    cp = session.query(Checkpoint).filter_by(measurement_id=new.id, day=30).one()
    cp.status, cp.summary = CheckpointStatus.TRIGGERED, {"status": "behind"}
    session.flush()
    assert refresh_predictions(session=session) == {"predictions_updated": 1}
    session.expire_all()
    lagging = session.get(Measurement, new.id)
    assert lagging.prediction_basis["features"]["earlySignal"] == "lagging"
    assert lagging.predicted_success < before
    behind = lagging.predicted_success
    assert refresh_predictions(session=session) == {"predictions_updated": 0}

    # A person's review at the checkpoint outranks the summary's status.
    f.add(
        session,
        Review(
            measurement_id=new.id,
            checkpoint_id=cp.id,
            assessment=ProgressStatus.ON_TRACK,
            findings="Adoption picked up after training.",
        ),
    )
    assert refresh_predictions(session=session) == {"predictions_updated": 1}
    session.expire_all()
    reviewed = session.get(Measurement, new.id)
    assert reviewed.prediction_basis["features"]["earlySignal"] == "on_track"
    assert reviewed.predicted_success > behind


def test_refresh_learns_from_newly_confirmed_outcomes(session, history):
    new = plan(session, "support", segment=SMB)
    predicted(session, new)
    proposed = plan(session, "support", segment=SMB, outcome="failed", confirmed=False)
    # Only the proposed plan's own first prediction: a proposal teaches nothing.
    assert refresh_predictions(session=session) == {"predictions_updated": 1}
    assert session.get(Measurement, new.id).prediction_basis["history"] == 9
    outcome = session.query(Outcome).filter_by(measurement_id=proposed.id).one()
    outcome.status = S.FAILED
    session.get(Measurement, proposed.id).status = MeasurementStatus.COMPLETED
    session.flush()
    assert refresh_predictions(session=session) == {"predictions_updated": 1}
    session.expire_all()
    assert session.get(Measurement, new.id).prediction_basis["history"] == 10


def test_explain_is_pure():
    feats = {"earlySignal": None, "product": "x", "productName": "X", "segment": "smb"}
    rate, basis = explain({}, feats | {"arrBand": "<10k"})
    assert rate == PRIOR and basis["rate"] == 0.6 and basis["history"] == 0


def test_nothing_to_predict(session):
    assert predict(session=session, measurement_ids=[]) == 0


def test_the_tracking_pass_repredicts_once_the_day_30_checkpoint_is_triggered(session):
    today = f.NOW.date()
    cust = f.customer(session, owner=f.csm(session), contacts=scenarios.CONTACTS)
    row = f.plan(
        session,
        cust,
        started_on=today - timedelta(days=31),
        metrics=[f.auto("Seats", "pred_seats", 10, 110)],
    )
    f.observe_days(session, cust, "pred_seats", today - timedelta(days=40), today, 12)
    predict(session=session, measurement_ids=[row.id])
    assert upsell_tracking(session=session, now=f.NOW)["predictions_updated"] == 1
    session.expire_all()
    basis = session.get(Measurement, row.id).prediction_basis
    assert basis["features"]["earlySignal"] == "lagging"
    assert upsell_tracking(session=session, now=f.NOW)["predictions_updated"] == 0
