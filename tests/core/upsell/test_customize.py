import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Direction
from core.customers.models import MetricKind
from core.errors import Conflict, Invalid, NotFound
from core.upsell.models import Checkpoint, CheckpointStatus, Measurement, MeasurementMode
from core.upsell.plans import create_plans, criteria_changes, customize_plan
from tests import factories as f
from tests.core.upsell.scenarios import catalog, days_before


@pytest.fixture
def plan(session):
    catalog(session)
    f.upsell(session, f.customer(session), ["analytics"])
    [plan_id] = create_plans(session=session)
    return session.get(Measurement, plan_id)


def _customize(session, plan, metrics=(), **extra):
    extra.setdefault("expected_version", plan.version)
    extra.setdefault("actor", f.csm(session))
    return customize_plan(session=session, measurement_id=plan.id, metrics=list(metrics), **extra)


ADD = {
    "action": "add",
    "name": "Weekly logins",
    "metricKey": "weekly_active_users",
    "type": "usage",
    "unit": "users",
    "direction": "higher_is_better",
    "target": 200,
    "baseline": 120,
}


def test_add_update_remove_and_move_checkpoints_audited(session, plan):
    actor = f.csm(session)
    version = plan.version
    result = _customize(
        session,
        plan,
        actor=actor,
        checkpoint_days=[30, 90, 120],
        metrics=[
            ADD,
            {
                "action": "update",
                "name": "Core feature adoption",
                "target": "72.5",
                "direction": "higher_is_better",
            },
            {"action": "remove", "name": "Executive dashboards in use"},
        ],
    )
    assert result.version == version + 1
    shown = {m.name: (m.target, m.origin, m.baseline) for m in result.metrics}
    assert shown == {
        "Core feature adoption": (Decimal("72.5"), "template", None),
        "Weekly active users": (Decimal(150), "template", None),
        "Weekly logins": (Decimal(200), "csm", Decimal(120)),
    }
    assert [(c.day, c.due_on) for c in result.checkpoints] == [
        (d, f.CLOSE + timedelta(days=d)) for d in (30, 90, 120)
    ]
    assert result.horizon_days == 120
    assert result.removed_metrics == ["Executive dashboards in use"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(plan.id)))
    assert (entry.action, entry.actor, entry.actor_user_id) == (
        "upsell_plan.customize",
        actor.email,
        actor.id,
    )
    before, after = entry.changes["before"], entry.changes["after"]
    assert before["metrics"]["Core feature adoption"]["target"] == "60"
    assert after["metrics"]["Core feature adoption"]["target"] == "72.5"
    assert "Executive dashboards in use" in before["metrics"]
    assert "Executive dashboards in use" not in after["metrics"]
    assert (before["checkpointDays"], after["checkpointDays"]) == ([30, 60, 90], [30, 90, 120])
    assert result.model_dump(by_alias=True)["horizonDays"] == 120


def test_a_removed_metric_can_be_added_back(session, plan):
    result = _customize(session, plan, [{"action": "remove", "name": "Weekly active users"}])
    plan = session.get(Measurement, plan.id)
    result = _customize(session, plan, [ADD | {"name": "Weekly active users"}])
    assert "Weekly active users" in {m.name for m in result.metrics}
    assert result.removed_metrics == []


def test_stale_version_is_a_conflict(session, plan):
    with pytest.raises(Conflict, match="reload"):
        _customize(session, plan, [ADD], expected_version=plan.version - 1)


def test_unknown_plan(session, plan):
    with pytest.raises(NotFound):
        customize_plan(
            session=session,
            measurement_id=uuid.uuid4(),
            metrics=[],
            expected_version=1,
            actor=f.csm(session),
        )


@pytest.mark.parametrize(
    ("metrics", "days", "message"),
    [
        ([ADD | {"metricKey": "no_such_metric"}], None, "Unknown metric key"),
        ([ADD | {"target": -5}], None, "target: must be at least 0"),
        ([{"action": "update", "name": "Weekly active users", "baseline": -1}], None, "baseline"),
        ([ADD | {"direction": "sideways"}], None, "direction"),
        ([ADD | {"unit": "%", "target": 120}], None, "cannot exceed 100"),
        ([ADD | {"metricKey": None, "measurement": "automatic"}], None, "metric key"),
        ([{k: v for k, v in ADD.items() if k != "target"}], None, "needs target"),
        ([ADD | {"name": "Weekly active users"}], None, "already has"),
        ([{"action": "remove", "name": "Nope"}], None, "no criterion"),
        ([{"action": "rename", "name": "Nope"}], None, "action"),
        ([{"action": "update", "name": "Weekly active users", "target": None}], None, "required"),
        ([], [30, 30, 90], "strictly increasing"),
        ([], [60, 30], "strictly increasing"),
        ([], [], "at least one"),
        ([], [0, 30], "between 1"),
    ],
)
def test_bad_values_are_invalid(session, plan, metrics, days, message):
    with pytest.raises(Invalid, match=message):
        _customize(session, plan, metrics, checkpoint_days=days)


def test_a_checkpoint_already_triggered_cannot_be_removed(session, plan):
    first = session.scalar(
        select(Checkpoint).where(Checkpoint.measurement_id == plan.id, Checkpoint.day == 30)
    )
    first.status = CheckpointStatus.TRIGGERED
    session.flush()
    with pytest.raises(Invalid, match="already triggered"):
        _customize(session, plan, checkpoint_days=[60, 90])


def test_an_invalid_change_leaves_the_plan_as_it_was(session, plan):
    changes = [
        {"action": "remove", "name": "Weekly active users"},
        {"action": "update", "name": "Core feature adoption", "target": 140},  # a % over 100
    ]
    with pytest.raises(Invalid, match="cannot exceed 100"):
        _customize(session, plan, changes)
    session.expire_all()
    plan = session.get(Measurement, plan.id)
    names = {m.name for m in _customize(session, plan).metrics}
    assert "Weekly active users" in names and plan.removed_metrics == []


def _criterion(name, key, target, baseline, measurement, unit="users"):
    return SimpleNamespace(
        name=name,
        metric_key=key,
        type=MetricKind.USAGE if key else MetricKind.OUTCOME,
        unit=unit,
        direction=Direction.HIGHER,
        measurement=MeasurementMode(measurement),
        target=Decimal(target),
        baseline=None if baseline is None else Decimal(baseline),
    )


CURRENT = [
    _criterion("Active users", "active_users", "50.0000", "10.0000", "automatic"),
    _criterion("Hours saved", None, "20.0000", "0.0000", "manual", unit="hours"),
]
TABLE = ("direction", "target", "baseline")


def test_criteria_changes_from_an_edited_table():
    rows = [
        {"name": "Active users", "direction": "higher_is_better", "target": 60.0, "baseline": 10},
        {
            "name": "NPS",
            "metric_key": None,
            "unit": "points",
            "direction": "higher_is_better",
            "target": 40,
            "baseline": None,
        },
    ]
    changes = criteria_changes(CURRENT, rows, updatable=TABLE)
    assert {c["action"]: c["name"] for c in changes} == {
        "remove": "Hours saved",
        "update": "Active users",
        "add": "NPS",
    }
    added = next(c for c in changes if c["action"] == "add")
    assert added["measurement"] == "manual" and added["unit"] == "points"
    assert added["type"] == "outcome"
    updated = next(c for c in changes if c["action"] == "update")
    assert updated == {
        "action": "update",
        "name": "Active users",
        "direction": "higher_is_better",
        "target": 60.0,
        "baseline": 10,
    }
    unchanged = [
        {"name": m.name, "direction": m.direction.value, "target": float(m.target), "unit": "x"}
        | {"baseline": None if m.baseline is None else float(m.baseline)}
        for m in CURRENT
    ]
    assert criteria_changes(CURRENT, unchanged, updatable=TABLE) == []  # the unit is not editable
    cleared = [{**unchanged[0], "baseline": None}, unchanged[1]]
    assert criteria_changes(CURRENT, cleared, updatable=TABLE) == [
        {
            "action": "update",
            "name": "Active users",
            "direction": "higher_is_better",
            "target": 50.0,
            "baseline": None,
        }
    ]


def test_criteria_changes_keep_fields_left_out_and_infer_the_measurement():
    same = [
        {"name": "Active users", "metric_key": "active_users", "target": Decimal(50)},
        {"name": "Hours saved", "target": Decimal(20), "unit": "hours"},
    ]
    assert criteria_changes(CURRENT, same) == []  # the baselines stay as the plan worked out
    # Without a metric key a criterion is measured by hand unless told otherwise.
    keyless = [{"name": "Active users", "target": Decimal(50)}, same[1]]
    assert criteria_changes(CURRENT, keyless) == [
        {"action": "update", "name": "Active users", "measurement": "manual", "target": 50}
    ]
    added = criteria_changes(CURRENT, [*same, {"name": "Logins", "metric_key": "logins"}])
    assert added == [
        {
            "action": "add",
            "type": "outcome",
            "measurement": "automatic",
            "name": "Logins",
            "metric_key": "logins",
        }
    ]


# A target set by a person: beyond the baseline at close, or refused ----------------------------


@pytest.fixture
def measured(session):
    """A plan whose customer had 217.7 weekly active users in the two weeks before close."""
    catalog(session)
    cust = f.customer(session)
    f.observe_at(session, cust, "weekly_active_users", {d: 217.7 for d in days_before(f.CLOSE, 2)})
    f.upsell(session, cust, ["analytics"])
    [plan_id] = create_plans(session=session)
    return session.get(Measurement, plan_id)


MET_AT_CLOSE = "target: must be above the baseline 217.7 for a higher-is-better metric"


@pytest.mark.parametrize("target", [200, "217.7"])
def test_a_target_already_met_at_close_is_refused(session, measured, target):
    change = {"action": "update", "name": "Weekly active users", "target": target}
    with pytest.raises(Invalid) as caught:
        _customize(session, measured, [change])
    assert str(caught.value).startswith(MET_AT_CLOSE)
    assert "Weekly active users" in str(caught.value)
    session.expire_all()
    unchanged = {m.name: m.target for m in _customize(session, measured).metrics}
    assert unchanged["Weekly active users"] == 262  # the drafted 217.7 × 1.2, untouched


def test_an_added_criterion_takes_its_baseline_at_close_and_is_held_to_it(session, measured):
    new = {k: v for k, v in ADD.items() if k != "baseline"}
    with pytest.raises(Invalid, match=MET_AT_CLOSE):
        _customize(session, measured, [new])
    result = _customize(session, measured, [new | {"target": 250}])
    added = next(m for m in result.metrics if m.name == "Weekly logins")
    assert (added.baseline, added.target, added.target_source) == (Decimal("217.7"), 250, "csm")


def test_a_lower_is_better_target_must_be_below_the_baseline(session, plan):
    lower = ADD | {"direction": "lower_is_better", "baseline": 10}
    with pytest.raises(
        Invalid, match="target: must be below the baseline 10 for a lower-is-better"
    ):
        _customize(session, plan, [lower | {"target": 12}])
    with pytest.raises(Invalid, match="must be below the baseline 10 "):
        _customize(session, plan, [lower | {"target": 10}])
    result = _customize(session, plan, [lower | {"target": 8}])
    assert next(m for m in result.metrics if m.name == "Weekly logins").target == 8


def test_a_baseline_moved_past_the_target_is_refused(session, measured):
    change = {"action": "update", "name": "Weekly active users", "baseline": 300}
    with pytest.raises(Invalid, match="target: must be above the baseline 300 "):
        _customize(session, measured, [change])


def test_a_target_set_by_the_csm_says_so(session, measured):
    casey = f.csm(session)
    change = {"action": "update", "name": "Weekly active users", "target": 240}
    result = _customize(session, measured, [change], actor=casey)
    wau = next(m for m in result.metrics if m.name == "Weekly active users")
    assert (wau.target, wau.target_source, wau.origin) == (240, "csm", "template")
    today = datetime.now(UTC).date().isoformat()
    assert wau.target_explanation == f"Set by {casey.name} on {today}; it was 262 users."
    untouched = next(m for m in result.metrics if m.name == "Core feature adoption")
    assert untouched.target_source == "template_level"
