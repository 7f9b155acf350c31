"""Sandboxed rendering, template checks and admin edits of message templates."""

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.drafts import templates
from core.drafts.models import MessageTemplate
from core.errors import Conflict, Forbidden, Invalid

CONTEXT = templates.sample_context("congratulations_email")


def test_defaults_render_with_the_documented_variables(session):
    subject, body = templates.render(session=session, key="congratulations_email", context=CONTEXT)
    assert subject == "Northwind Logistics reached “Faster ticket resolution”"
    assert "Hi Priya," in body and "cut average resolution to 3.6 hours" in body
    assert "  - Launch the self-service portal\n  - Reach a CSAT of 90\n" in body
    assert body.rstrip().endswith("Casey Morgan\nCustomer Success Manager")
    context = templates.sample_context("review_summary")
    subject, _ = templates.render(session=session, key="review_summary", context=context)
    assert subject == "Northwind Logistics: day 60 review of Analytics Pro, Workflow Suite"


@pytest.mark.parametrize("key", ["congratulations_email", "review_summary", "feedback_request"])
def test_the_default_templates_only_use_documented_variables(key):
    default = templates.DEFAULT_TEMPLATES[key]
    templates.preview(
        subject=default.subject, body=default.body, context=templates.sample_context(key)
    )


def test_a_saved_row_wins_over_the_default(session):
    session.add(
        MessageTemplate(
            key="congratulations_email", name="C", subject="Hi {{ customer_name }}", body="B"
        )
    )
    session.flush()
    assert templates.render(session=session, key="congratulations_email", context=CONTEXT) == (
        "Hi Northwind Logistics",
        "B",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi\n{{ ''.__class__.__mro__ }}", "Body, line 2: access to attribute '__class__'"),
        ("{{ cycler.__init__.__globals__ }}", "unsafe"),
        ("{{ customer_name.format.__globals__ }}", "unsafe"),
        ("Hi {{ customer_nmae }}", "Body, line 1: 'customer_nmae' is undefined"),
        ("a\nb\n{% if %}", "Body, line 3: Expected an expression"),
        ("{{ contact_name.nope }}", "has no attribute 'nope'"),
        ("{% for i in range(100000) %}x{% endfor %}", "limited to 1000"),
    ],
)
def test_preview_names_the_problem_and_line(body, message):
    with pytest.raises(Invalid) as err:
        templates.preview(subject="S", body=body, context=CONTEXT)
    assert message in str(err.value)


def test_subject_must_stay_one_line_whatever_the_data_holds():
    with pytest.raises(Invalid, match="single line"):
        templates.preview(
            subject="{{ customer_name }}",
            body="B",
            context={"customer_name": "A\r\nBcc: x@evil.example"},
        )
    with pytest.raises(Invalid, match="Subject, line 1"):
        templates.preview(subject="{{ oops }}", body="B", context={})
    subject, _ = templates.preview(subject="Hi {{ x }}\n", body="B", context={"x": "there"})
    assert subject == "Hi there"


def test_values_are_data_not_template_code():
    context = {**CONTEXT, "customer_name": "{{ 7 * 7 }} <b>&</b>"}
    subject, _ = templates.preview(subject="{{ customer_name }}", body="B", context=context)
    assert subject == "{{ 7 * 7 }} <b>&</b>"  # plain text email: no evaluation, no HTML escaping


def test_admin_saves_a_template_with_version_check_and_audit(session, people):
    admin = people["admin"]
    view = templates.get_template(session=session, key="congratulations_email")
    assert view.is_default and view.version == 0
    assert "next_goals" in {v.name for v in view.variables}
    saved = templates.save_template(
        session=session,
        key="congratulations_email",
        subject="Well done, {{ customer_name }}",
        body="Hi {{ contact_name }}",
        expected_version=0,
        actor=admin,
    )
    assert (saved.version, saved.is_default) == (1, False)
    with pytest.raises(Conflict, match="Someone else saved this template"):
        templates.save_template(
            session=session,
            key="congratulations_email",
            subject="S",
            body="B",
            expected_version=0,
            actor=admin,
        )
    again = templates.save_template(
        session=session,
        key="congratulations_email",
        subject="S2",
        body="B2",
        expected_version=1,
        actor=admin,
    )
    assert again.version == 2
    entries = list(
        session.scalars(select(AuditEntry).where(AuditEntry.action == "template.update"))
    )
    assert len(entries) == 2 and entries[-1].actor == admin.email
    assert templates.render(session=session, key="congratulations_email", context=CONTEXT) == (
        "S2",
        "B2",
    )


def test_broken_templates_and_non_admins_cannot_save(session, people):
    with pytest.raises(Invalid, match="undefined"):
        templates.save_template(
            session=session,
            key="review_summary",
            subject="{{ nope }}",
            body="B",
            expected_version=0,
            actor=people["admin"],
        )
    with pytest.raises(Forbidden):
        templates.save_template(
            session=session,
            key="review_summary",
            subject="S",
            body="B",
            expected_version=0,
            actor=people["csm"],
        )
    assert session.scalar(select(MessageTemplate)) is None


def test_list_templates_shows_defaults_and_saved_rows(session):
    keys = [t.key for t in templates.list_templates(session=session)]
    assert keys == ["congratulations_email", "feedback_request", "review_summary"]
