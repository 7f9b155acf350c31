"""The Set-up catalogue page: add a metric, refusals that name the field, admins only, conflicts."""

import pytest
from pydantic import ValidationError
from streamlit.testing.v1 import AppTest

from components import template_editor as editor
from core.accounts.schemas import UserSummary
from core.base import Role, Segment
from core.customers.catalog import get_metric, save_metric
from core.customers.catalog_schemas import MetricIn
from core.customers.models import Metric
from core.db import session_scope
from core.errors import Invalid
from core.upsell.catalog import save_product, save_template
from core.upsell.catalog_schemas import ProductIn, SuccessTemplateIn
from tests import factories as f
from tests.pages import apptest

PAGE = "../pages/catalog.py"


def _user(role: Role = Role.ADMIN) -> UserSummary:
    with session_scope() as session:
        return f.actor(f.user(session, role, "Ada Admin"))


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")


def _metric_names(at: AppTest) -> list[str]:
    frames = [d.value for d in at.dataframe if "Key (API and usage feeds)" in d.value.columns]
    return list(frames[0]["Name"]) if frames else []


def _fill(at: AppTest, key: str, name: str = "Reports exported", unit: str = "reports"):
    at.text_input(key="cat_metric_key").input(key)
    at.text_input(key="cat_metric_name").input(name)
    at.text_input(key="cat_metric_unit").input(unit)
    at.button(key="cat_metric_save").click().run()
    assert not at.exception, at.exception


def test_an_admin_adds_a_metric_through_the_form_and_sees_it_listed(scratch_db):
    at = apptest.open_page(_user().id, PAGE)
    assert at.title[0].value == "Set-up catalogue"
    assert "No metrics yet — add the first one" in apptest.texts(at)
    _fill(at, "reports_exported")
    assert any("Added the metric Reports exported" in s.value for s in at.success)
    assert _metric_names(at) == ["Reports exported"]
    with session_scope() as session:
        stored = session.get(Metric, "reports_exported")
        assert (stored.name, stored.unit, stored.direction) == (
            "Reports exported",
            "reports",
            "higher_is_better",
        )
    table = next(d.value for d in at.dataframe if "Better when" in d.value.columns)
    assert list(table["Better when"]) == ["Higher is better"]
    assert list(table["Used by"]) == ["Nothing yet"]


def test_a_bad_key_is_refused_naming_key_and_keeps_what_was_typed(scratch_db):
    at = apptest.open_page(_user().id, PAGE)
    _fill(at, "Reports Exported")
    assert "Key: must be 2 to 64 characters" in _errors(at)
    assert at.text_input(key="cat_metric_key").value == "Reports Exported"
    assert at.text_input(key="cat_metric_name").value == "Reports exported"
    with session_scope() as session:
        assert session.get(Metric, "Reports Exported") is None
    _fill(at, "reports_exported", name="")
    assert "Name:" in _errors(at) and _metric_names(at) == []


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN], ids=lambda r: r.value)
def test_only_admins_can_open_it(scratch_db, role):
    at = apptest.open_page(_user(role).id, PAGE)
    assert at.info[0].value.startswith("This page is for admins — ask an admin")
    assert not at.dataframe  # the page itself never ran


def test_a_template_saved_by_someone_else_meanwhile_is_said_loudly(scratch_db):
    admin = _user()
    with session_scope() as session:
        body = MetricIn(name="Reports", unit="reports", kind="usage", direction="higher_is_better")
        save_metric(session=session, key="reports", body=body, actor="setup")
        save_product(session=session, code="rp", body=ProductIn(name="Reports pack"), actor="x")
        criteria = [{"name": "Reports", "metricKey": "reports", "uplift": 0.15}]
        save_template(
            session=session,
            product_code="rp",
            body=SuccessTemplateIn(criteria=criteria, checkpoint_days=[30, 60, 90]),
            actor="setup",
        )
    at = apptest.open_page(admin.id, PAGE)
    shown = next(d.value for d in at.dataframe if "Without a baseline" in d.value.columns)
    assert list(shown["Target"]) == ["+15% over baseline"]
    assert not at.error
    with session_scope() as session:
        again = SuccessTemplateIn(criteria=criteria, checkpoint_days=[30, 90], version=1)
        save_template(session=session, product_code="rp", body=again, actor="someone")
    at.run()
    assert "Someone else saved this template (now version 2)" in _errors(at)
    at.button(key="cat_tpl_load_rp").click().run()
    assert not at.error


def test_the_editor_rows_round_trip_and_name_bad_cells(session):
    body = MetricIn(name="Reports", unit="reports", kind="usage", direction="higher_is_better")
    save_metric(session=session, key="reports", body=body, actor="setup")
    save_product(session=session, code="rp", body=ProductIn(name="Reports pack"), actor="setup")
    criteria = [
        {"name": "Reports", "metricKey": "reports", "upliftBySegment": {"smb": 0.3}},
        {"name": "Sign-off", "unit": "met"},
        {"name": "Dashboards", "unit": "dashboards", "direction": "lower_is_better", "target": 2},
    ]
    milestones = [
        {"metricKey": "reports", "share": 0.25, "dueDay": 30},
        {"criterion": "Dashboards", "threshold": 4, "dueDay": 60, "name": "Fewer dashboards"},
    ]
    stored, _ = save_template(
        session=session,
        product_code="rp",
        body=SuccessTemplateIn(criteria=criteria, checkpoint_days=[30, 60], milestones=milestones),
        actor="setup",
    )
    metrics = {"reports": get_metric(session=session, key="reports")}
    names = editor._metric_labels(list(metrics.values()))
    frame = editor._criteria_frame(stored, names, metrics)
    assert list(frame[editor.METRIC]) == ["Reports", editor.BY_HAND, editor.BY_HAND]
    assert list(frame[editor.PER_SEGMENT[Segment.SMB]]) == ["30", "", ""]
    rows = editor._criteria_body(frame, {v: k for k, v in names.items()})
    again = SuccessTemplateIn.model_validate(
        {
            "criteria": rows,
            "checkpointDays": [30, 60],
            "milestones": editor._milestones_body(editor._milestones_frame(stored), rows),
            "version": stored.version,
        }
    )
    same, _ = save_template(session=session, product_code="rp", body=again, actor="setup")
    assert same.version == stored.version  # nothing changed on the way through the editor

    frame.loc[0, editor.ALL] = "lots"
    with pytest.raises(Invalid, match=r"^Criteria, row 1, Uplift, every segment \(%\): 'lots'"):
        editor._criteria_body(frame, {v: k for k, v in names.items()})
    refused = SuccessTemplateIn.model_validate(
        {"criteria": [{"name": "X", "metricKey": "nope"}], "checkpointDays": [30], "version": 2}
    )
    with pytest.raises(Invalid) as problem:
        save_template(session=session, product_code="rp", body=refused, actor="setup")
    assert editor.in_editor_words(problem.value) == [
        "Criteria, row 1, Metric: unknown metric 'nope'; add it to the metrics catalogue first."
    ]
    with pytest.raises(ValidationError) as problem:
        SuccessTemplateIn.model_validate({"criteria": [{"name": "X"}], "checkpointDays": [400]})
    assert editor.in_editor_words(problem.value)[0].startswith("Checkpoint days: ")
