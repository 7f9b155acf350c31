from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core.audit.models import AuditEntry
from core.base import Direction
from core.customers.models import MetricKind
from core.errors import Invalid, NotFound
from core.upsell import curve, progress
from core.upsell.models import Measurement, MeasurementStatus, MetricReading, ProgressStatus
from core.upsell.progress import record_manual_values, update_progress
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, metrics_of, set_current

NOW = f.NOW
TODAY = NOW.date()
S = ProgressStatus


def score(current, baseline, target, direction=Direction.HIGHER):
    return curve.score_metric(
        current=current, baseline=baseline, target=target, direction=direction
    )


def test_progress_is_direction_aware():
    assert score(150, 100, 200).progress == 0.5
    assert score(6, 8, 4, Direction.LOWER).progress == 0.5
    assert score(3, 8, 4, Direction.LOWER).progress == 1.25
    assert score(4, 8, 4, Direction.LOWER).met and not score(4.1, 8, 4, Direction.LOWER).met


def test_progress_is_clamped():
    assert score(900, 100, 200).progress == 1.5
    assert score(-400, 100, 200).progress == -0.5
    assert score(30, 8, 4, Direction.LOWER).progress == -0.5
    assert score(0, 8, 4, Direction.LOWER).progress == 1.5


def test_missing_baseline_counts_as_zero_when_higher_is_better():
    assert score(50, None, 200).progress == 0.25
    lower = score(3, None, 4, Direction.LOWER)
    assert lower.progress is None and "no baseline" in lower.note
    assert lower.met  # met is known without a baseline


def test_target_not_beyond_baseline_and_no_value():
    assert score(100, 100, 100).progress == 1.0
    assert score(90, 100, 100).progress == 0.0
    assert score(None, 100, 200).progress is None


@pytest.mark.parametrize(
    ("days", "horizon", "expected"),
    [(0, 90, 0.0), (45, 90, 0.5), (45, 180, 0.25), (90, 180, 0.5), (120, 90, 1.0), (-3, 90, 0.0)],
)
def test_expected_follows_the_plan_horizon(days, horizon, expected):
    assert curve.expected_at(days=days, horizon=horizon) == expected


@pytest.mark.parametrize(
    ("progress", "day", "status"),
    [
        (0.0, 0, S.ON_TRACK),
        (0.0, 9, S.ON_TRACK),  # gap −0.10
        (0.0, 18, S.AT_RISK),  # gap −0.20
        (0.0, 27, S.BEHIND),  # gap −0.30
        (0.65, 45, S.EXCEEDING),  # gap +0.15
        (0.5, 54, S.ON_TRACK),  # gap −0.10 exactly
        (0.35, 54, S.AT_RISK),  # gap −0.25 exactly
        (0.34, 54, S.BEHIND),
        (0.95, 90, S.ON_TRACK),
        (0.95, 120, S.ON_TRACK),  # past the horizon expected stays at 1
        (0.8, 120, S.AT_RISK),
    ],
)
def test_status_across_the_horizon(progress, day, status):
    metrics = [curve.MetricScore(progress, progress >= 1)]
    assert curve.score_plan(metrics=metrics, days=day, horizon=90).status == status


def test_met_targets_are_never_behind_after_the_horizon():
    metrics = [curve.MetricScore(1.0, True), curve.MetricScore(None, True, "no baseline")]
    result = curve.score_plan(metrics=metrics, days=120, horizon=90)
    assert result.expected == 1.0 and result.status == S.EXCEEDING


@pytest.fixture
def owner(session):
    return f.csm(session)


def test_update_progress_reads_the_latest_week_of_usage(session, owner):
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    start = TODAY - timedelta(days=45)
    plan = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[
            f.auto("Active users", "tr_active_users", 100, 200),
            f.auto("Handle time", "tr_handle_hours", 8, 4, direction=Direction.LOWER),
        ],
    )
    f.observe_days(session, cust, "tr_active_users", start, TODAY - timedelta(days=8), 100)
    f.observe_days(session, cust, "tr_active_users", TODAY - timedelta(days=6), TODAY, 150)
    f.observe_days(
        session, cust, "tr_active_users", TODAY + timedelta(days=1), TODAY + timedelta(3), 999
    )
    f.observe_days(
        session, cust, "tr_handle_hours", TODAY - timedelta(days=6), TODAY, lambda i: 5 + i % 3
    )
    counts = update_progress(session=session, now=NOW)
    assert counts["values_refreshed"] == 2 and counts["plans"] == 1
    metrics = metrics_of(session, plan)
    users, hours = metrics["Active users"], metrics["Handle time"]
    assert users.current == Decimal(150) and users.current_at.date() == TODAY
    assert users.progress == Decimal("0.5") and users.expected == Decimal("0.5")
    assert hours.current == Decimal("5.8571")  # 5,6,7,5,6,7,5 → 41/7
    assert hours.progress == Decimal("0.5357")
    assert session.get(Measurement, plan.id).progress_status == S.ON_TRACK


def test_expected_progress_uses_the_last_checkpoint_day(session, owner):
    cust = f.customer(session, owner=owner)
    start = TODAY - timedelta(days=45)
    short = f.plan(session, cust, started_on=start, metrics=[f.manual("Savings", 0, 100, 20)])
    long = f.plan(
        session,
        cust,
        started_on=start,
        metrics=[f.manual("Savings", 0, 100, 20)],
        days=(30, 60, 90, 180),
        horizon_days=90,
        name="Platform",
    )
    update_progress(session=session, now=NOW)
    assert metrics_of(session, short)["Savings"].expected == Decimal("0.5")
    assert metrics_of(session, long)["Savings"].expected == Decimal("0.25")
    assert session.get(Measurement, short.id).progress_status == S.BEHIND
    assert session.get(Measurement, long.id).progress_status == S.ON_TRACK


def test_status_through_and_after_the_horizon(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(session, cust, started_on=TODAY, metrics=[f.manual("Adoption", 0, 100)])
    seen = []
    steps = [
        (0, 0),
        (15, 10),
        (30, 5),
        (60, 50),
        (75, 80),
        (90, 95),
        (120, 90),
        (120, 100),
        (150, 120),
    ]
    for day, value in steps:
        set_current(session, plan, {"Adoption": value})
        update_progress(session=session, now=NOW + timedelta(days=day))
        seen.append(session.get(Measurement, plan.id).progress_status)
    assert seen == [
        S.ON_TRACK,
        S.ON_TRACK,
        S.BEHIND,
        S.AT_RISK,
        S.ON_TRACK,
        S.ON_TRACK,
        S.ON_TRACK,
        S.EXCEEDING,
        S.EXCEEDING,
    ]


def test_update_progress_changes_nothing_the_second_time(session, owner):
    cust = f.customer(session, owner=owner)
    start = TODAY - timedelta(days=20)
    f.plan(session, cust, started_on=start, metrics=[f.auto("Seats", "tr_seats", 10, 50)])
    f.observe_days(session, cust, "tr_seats", start, TODAY, lambda i: 10 + i)
    first = update_progress(session=session, now=NOW)
    assert first["metrics_rescored"] == 1 and first["status_changes"] == 1
    again = update_progress(session=session, now=NOW)
    assert again == {"plans": 1, "values_refreshed": 0, "metrics_rescored": 0, "status_changes": 0}


def test_completed_plans_are_not_rescored(session, owner):
    cust = f.customer(session, owner=owner)
    f.plan(
        session,
        cust,
        started_on=TODAY,
        metrics=[f.manual("Adoption", 0, 100, 50)],
        status=MeasurementStatus.COMPLETED,
    )
    assert update_progress(session=session, now=NOW)["plans"] == 0


def _history(session, owner, count):
    """Completed 90-day plans whose progress followed (t/90)² (a slow start)."""
    for n in range(count):
        cust = f.customer(session, owner=owner, contacts=())
        start = TODAY - timedelta(days=200 + n)
        key = f"tr_hist_{n % 3}"
        f.plan(
            session,
            cust,
            started_on=start,
            metrics=[f.auto("Usage", key, 0, 100)],
            status=MeasurementStatus.COMPLETED,
        )
        f.observe_days(
            session,
            cust,
            key,
            start - timedelta(days=7),
            start + timedelta(days=95),
            lambda i: 100 * (max(0, i - 7) / 90) ** 2,
        )


def test_fit_curve_normalises_and_is_monotone():
    plans = [{0: 0.0, 3: 0.2, 5: 0.1, 10: 0.8} for _ in range(10)]
    shape = curve.fit_curve(plans)
    assert shape[0] == 0 and shape[10] == 1 and shape[3] == 0.25 and shape[5] == 0.25
    assert all(a <= b for a, b in zip(shape, shape[1:], strict=False))
    assert curve.fit_curve(plans[:9]) is None


def test_learned_curve_needs_ten_completed_plans(session, owner):
    _history(session, owner, 9)
    assert curve.learned_curve(session=session) is None
    _history(session, owner, 1)
    shape = curve.learned_curve(session=session)
    assert shape is not None and shape[0] == 0 and shape[10] == 1
    assert shape[5] == pytest.approx(0.25, abs=0.05) and shape[9] == pytest.approx(0.81, abs=0.05)


def test_learned_curve_changes_what_is_expected(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=45),
        metrics=[f.manual("Adoption", 0, 100, 30)],
    )
    update_progress(session=session, now=NOW)
    assert session.get(Measurement, plan.id).progress_status == S.AT_RISK  # linear: 0.5
    _history(session, owner, 10)
    update_progress(session=session, now=NOW)
    expected = metrics_of(session, plan)["Adoption"].expected
    assert expected == pytest.approx(Decimal("0.25"), abs=Decimal("0.05"))
    assert session.get(Measurement, plan.id).progress_status == S.ON_TRACK


def test_record_manual_values(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=30),
        metrics=[
            f.manual("Hours saved", 0, 200),
            f.auto("Seats", "tr_seats2", 10, 50),
        ],
    )
    with pytest.raises(Invalid, match="no metric named 'Nope'"):
        record_manual_values(
            session=session, measurement_id=plan.id, values={"Nope": 1}, actor=owner
        )
    with pytest.raises(Invalid, match="automatically"):
        record_manual_values(
            session=session, measurement_id=plan.id, values={"Seats": 1}, actor=owner
        )
    with pytest.raises(Invalid, match="not a number"):
        record_manual_values(
            session=session, measurement_id=plan.id, values={"Hours saved": "lots"}, actor=owner
        )
    with pytest.raises(NotFound):
        record_manual_values(session=session, measurement_id=cust.id, values={"x": 1}, actor=owner)
    seen_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)  # recent: it counts
    [metric] = record_manual_values(
        session=session,
        measurement_id=plan.id,
        values={"Hours saved": "150"},
        actor=owner,
        observed_at=seen_at,
    )
    assert metric.current == Decimal(150) and metric.current_at == seen_at
    assert metric.progress == Decimal("0.75")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(plan.id)))
    assert entry.action == "measurement.manual_values" and entry.actor == owner.email
    assert entry.changes["values"]["Hours saved"] == [None, "150"]


def test_manual_values_need_an_active_plan(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY,
        metrics=[f.manual("Savings", 0, 10)],
        status=MeasurementStatus.COMPLETED,
    )
    with pytest.raises(Invalid, match="completed"):
        record_manual_values(
            session=session, measurement_id=plan.id, values={"Savings": 1}, actor=owner
        )


def test_manual_values_keep_their_history_for_checkpoints(session, owner):
    cust = f.customer(session, owner=owner)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=60),
        metrics=[f.manual("Hours saved", 0, 200)],
    )
    first, second = NOW - timedelta(days=40), NOW - timedelta(days=5)
    for when, value in ((first, 50), (second, 120), (first, 60)):  # the last corrects the first
        record_manual_values(
            session=session,
            measurement_id=plan.id,
            values={"Hours saved": value},
            actor=owner,
            observed_at=when,
        )
    metric = metrics_of(session, plan)["Hours saved"]
    readings = session.execute(
        select(MetricReading.observed_at, MetricReading.value, MetricReading.recorded_by_id)
        .where(MetricReading.metric_id == metric.id)
        .order_by(MetricReading.observed_at)
    ).all()
    assert [tuple(r) for r in readings] == [
        (first, Decimal(60), owner.id),
        (second, Decimal(120), owner.id),
    ]


def _mixed_plans(session, owner):
    """Plans with fresh, stale, missing and future usage, a manual value, and a completed plan."""
    a, b = (f.customer(session, owner=owner) for _ in range(2))
    first = f.plan(
        session,
        a,
        started_on=TODAY - timedelta(days=45),
        metrics=[
            f.auto("Active users", "mx_users", 100, 200),
            f.auto("Handle time", "mx_hours", 8, 4, direction=Direction.LOWER, kind=MetricKind.ROI),
            f.manual("Savings", 0, 100, 30),
        ],
    )
    second = f.plan(
        session,
        b,
        started_on=TODAY - timedelta(days=10),
        metrics=[
            f.auto("Seats", "mx_seats", 10, 50),
            f.auto("Tickets", "mx_tickets", 20, 10, direction=Direction.LOWER),
        ],
        name="Support expansion",
    )
    done = f.plan(
        session,
        b,
        started_on=TODAY - timedelta(days=200),
        metrics=[f.auto("Tickets", "mx_tickets", 20, 10, direction=Direction.LOWER)],
        status=MeasurementStatus.COMPLETED,
        name="Old expansion",
    )
    # 140, 150, 160, 140, 150, 160, 140 in the week ending now; the day before does not count.
    f.observe_days(
        session,
        a,
        "mx_users",
        TODAY - timedelta(days=7),
        TODAY,
        lambda i: 999 * (i == 0) + 140 + 10 * ((i - 1) % 3),
    )
    f.observe_days(
        session, a, "mx_hours", TODAY - timedelta(days=40), TODAY - timedelta(days=40), 5
    )
    f.observe_days(session, b, "mx_seats", TODAY + timedelta(days=1), TODAY + timedelta(days=2), 40)
    f.observe_days(session, b, "mx_tickets", TODAY - timedelta(days=2), TODAY, 15)
    return first, second, done


def _stored(session, plan):
    return {
        name: (m.current, m.current_at, m.progress, m.expected, m.frequency)
        for name, m in metrics_of(session, plan).items()
    }


def test_one_pass_stores_each_criterion_value_and_score(session, owner):
    first, second, done = _mixed_plans(session, owner)
    counts = update_progress(session=session, now=NOW)
    assert counts == {
        "plans": 2,
        "values_refreshed": 3,  # users and tickets; handle time learns when data last came
        "metrics_rescored": 5,
        "status_changes": 2,
    }
    noon = datetime.combine(TODAY, time(12), tzinfo=UTC)
    half = Decimal("0.5")
    assert _stored(session, first) == {
        "Active users": (Decimal("148.5714"), noon, Decimal("0.4857"), half, "weekly"),
        "Handle time": (None, noon - timedelta(days=40), None, half, "monthly"),
        "Savings": (Decimal(30), NOW - timedelta(days=1), Decimal("0.3"), half, "monthly"),
    }
    tenth = Decimal("0.1111")  # day 10 of 90
    assert _stored(session, second) == {
        "Seats": (None, None, None, tenth, "weekly"),
        "Tickets": (Decimal(15), noon, half, tenth, "weekly"),
    }
    assert _stored(session, done) == {"Tickets": (None, None, None, None, "weekly")}
    assert session.get(Measurement, first.id).progress_status == S.AT_RISK  # 0.39 vs 0.5
    assert session.get(Measurement, second.id).progress_status == S.EXCEEDING  # 0.5 vs 0.11
    assert session.get(Measurement, done.id).progress_status is None


def _versions(session):
    """Return the row versions (ctid) of every criterion and plan: a rewrite changes them."""
    return (
        session.execute(
            text(
                "SELECT array_agg(ctid::text ORDER BY id) FROM measurement_metrics "
                "UNION ALL SELECT array_agg(ctid::text ORDER BY id) FROM upsell_measurements"
            )
        )
        .scalars()
        .all()
    )


def test_a_second_pass_with_nothing_new_rewrites_no_row(session, owner):
    _mixed_plans(session, owner)
    update_progress(session=session, now=NOW)
    before = _versions(session)
    again = update_progress(session=session, now=NOW)
    assert again == {"plans": 2, "values_refreshed": 0, "metrics_rescored": 0, "status_changes": 0}
    assert _versions(session) == before


def test_new_usage_is_stored_even_when_its_plan_cannot_be_scored(session, owner, monkeypatch):
    first, _, _ = _mixed_plans(session, owner)

    def broken(*args, **kwargs):
        raise ValueError("this plan's data is broken")

    monkeypatch.setattr(progress, "_score", broken)
    counts = update_progress(session=session, now=NOW)
    assert counts["values_refreshed"] == 3 and counts["metrics_rescored"] == 0
    users = metrics_of(session, first)["Active users"]
    assert (users.current, users.progress) == (Decimal("148.5714"), None)
