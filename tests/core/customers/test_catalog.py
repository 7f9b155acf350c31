"""The metrics catalogue: upsert by key, key shape, unit and direction fixed once used, audit."""

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Direction
from core.customers.catalog import get_metric, list_metrics, metric_uses, save_metric
from core.customers.catalog_schemas import MetricIn
from core.customers.models import Metric, MetricKind
from core.errors import Conflict, Invalid, NotFound
from core.upsell.models import Product, SuccessTemplate
from tests import factories as f

ACTOR = "ada@outcomes.example"


def body(**changes) -> MetricIn:
    values = {
        "name": "Reports exported",
        "unit": "reports",
        "kind": "usage",
        "direction": "higher_is_better",
    }
    return MetricIn.model_validate(values | changes)


def save(session, key="reports_exported", **changes):
    return save_metric(session=session, key=key, body=body(**changes), actor=ACTOR)


def audits(session) -> list[tuple[str, str, dict]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "metric"))
    return [(a.action, a.entity_id, a.changes) for a in rows]


def test_a_new_metric_is_created_then_updated_and_each_change_audited(session):
    created, is_new = save(session, description="Reports people downloaded.")
    assert is_new and created.key == "reports_exported" and created.used_by == []
    stored = session.get(Metric, "reports_exported")
    assert (stored.kind, stored.direction, stored.is_money) == (
        MetricKind.USAGE,
        Direction.HIGHER,
        False,
    )

    updated, is_new = save(session, name="Reports exported per week", isMoney=True)
    assert not is_new and updated.name == "Reports exported per week" and updated.is_money
    assert updated.description == "Reports people downloaded."  # left out: kept

    _, is_new = save(session, name="Reports exported per week", isMoney=True)
    assert not is_new
    [(first, key, made), (second, _, changed)] = sorted(audits(session), key=lambda a: a[0])
    assert (first, key, second) == ("metric.created", "reports_exported", "metric.updated")
    assert made["unit"] == [None, "reports"]
    assert changed == {
        "name": ["Reports exported", "Reports exported per week"],
        "is_money": [False, True],
    }


@pytest.mark.parametrize("key", ["A_metric", "x", "1st_metric", "has-dash", "a" * 65, "ünits"])
def test_a_badly_shaped_key_is_refused_naming_key(session, key):
    with pytest.raises(Invalid, match=r"^key: must be 2 to 64 characters"):
        save(session, key=key)
    assert session.get(Metric, key) is None


def test_unit_and_direction_may_change_while_nothing_uses_the_metric(session):
    save(session)
    changed, _ = save(session, unit="exports", direction="lower_is_better")
    assert (changed.unit, changed.direction) == ("exports", Direction.LOWER)


def test_unit_or_direction_of_a_metric_with_observations_is_refused(session):
    save(session)
    f.observe(session, f.customer(session), "reports_exported", [3, 4])
    with pytest.raises(Conflict, match=r"^direction: Reports exported already has usage obs"):
        save(session, direction="lower_is_better")
    with pytest.raises(Conflict, match=r"^unit: .*would change what those stored numbers mean"):
        save(session, unit="exports")
    assert session.get(Metric, "reports_exported").unit == "reports"
    renamed, _ = save(session, name="Exports", kind="outcome")  # the rest may still change
    assert renamed.name == "Exports" and renamed.used_by == ["usage observations"]


def test_goals_and_success_templates_fix_the_unit_too(session):
    save(session, key="nps_score", unit="points")
    f.goal(session, f.customer(session), metric_key="nps_score", baseline=10, target=30)
    save(session, key="weekly_exports", unit="exports")
    f.add(session, Product(code="exports-pack", name="Exports pack"))
    criteria = [{"name": "Exports", "metricKey": "weekly_exports"}]
    f.add(session, SuccessTemplate(product_code="exports-pack", metrics=criteria))
    with pytest.raises(Conflict, match=r"^unit: .* already has goals;"):
        save(session, key="nps_score", unit="score")
    with pytest.raises(Conflict, match=r"^unit: .* already has success templates;"):
        save(session, key="weekly_exports", unit="runs")
    uses = metric_uses(session=session)
    assert uses["nps_score"] == ["goals"] and uses["weekly_exports"] == ["success templates"]


def test_list_and_get(session):
    save(session, key="zeta_runs", name="Zeta runs")
    save(session, key="alpha_runs", name="Alpha runs")
    assert [m.key for m in list_metrics(session=session)] == ["alpha_runs", "zeta_runs"]
    assert get_metric(session=session, key="zeta_runs").name == "Zeta runs"
    with pytest.raises(NotFound):
        get_metric(session=session, key="missing_metric")


def test_the_input_model_names_bad_fields():
    with pytest.raises(ValueError, match="direction"):
        body(direction="sideways")
    with pytest.raises(ValueError, match="unit"):
        body(unit="a\nb")
