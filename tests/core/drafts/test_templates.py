"""Sandboxed rendering, template checks and admin edits of message templates."""

import tracemalloc

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
    assert body.splitlines()[2].startswith(
        'Congratulations: your team has reached "Faster ticket resolution". You cut'
    )
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


# Budgets: a template is refused while it renders, before it builds what it asks for ----------

BIG = "{% set a = 'x' * 50000 %}"
TEN = "[" + ", ".join(["{v}"] * 10) + "]"
NESTED = BIG + f"{{% set b = {TEN.format(v='a')} %}}{{% set c = {TEN.format(v='b')} %}}"


def _refusal(body: str) -> tuple[str, int]:
    """Return the preview's refusal and the peak memory (bytes) the attempt allocated."""
    tracemalloc.start()
    try:
        with pytest.raises(Invalid) as err:
            templates.preview(subject="S", body=body, context=CONTEXT)
        return str(err.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MB = 1024 * 1024


def test_nested_loops_are_stopped_at_the_loop_budget():
    body = "{% for a in range(1000) %}\n{% for b in range(1000) %}x{% endfor %}{% endfor %}"
    message, peak = _refusal(body)
    assert message == (
        "Body, line 2: the template runs more than 10,000 loop iterations (nested loops "
        "multiply); keep its loops small"
    )
    assert peak < 10 * MB


def test_a_huge_output_is_stopped_at_the_limit_without_being_built():
    message, peak = _refusal("{% for i in range(1000) %}{{ 'y' * 40000 }}{% endfor %}")
    assert message == "Body: renders to more than 50,000 characters (the limit)"
    assert peak < 10 * MB  # the whole output would be 40 MB


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 'x' * 100000000 }}", "Body, line 1: the result of '*' would be longer than 50,000"),
        ("{{ 'x' | center(100000000) }}", "the result of the center filter would be longer"),
        ("{{ '%100000000s' % 'x' }}", "the result of '%' would be longer"),
        ("{{ '%100000000s' | format('x') }}", "the result of the format filter would be longer"),
        (BIG + "{{ a | replace('x', a) }}", "the result of the replace filter would be longer"),
        (BIG + "{{ a | wordwrap(1, wrapstring=a) }}", "the wordwrap filter would be longer"),
        (
            BIG + "{% set ns = namespace(s=a) %}{% for i in range(30) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "the result of '~' would be longer",
        ),
        (
            "{% macro m() %}{% for i in range(1000) %}{{ 'y' * 40000 }}{% endfor %}{% endmacro %}"
            "{% set r = m() %}ok",
            "a block of the template's text would be longer than 50,000",
        ),
        (NESTED + "{{ [c, c, c, c, c, c, c, c, c, c] }}", "a printed value would be longer"),
        (NESTED + "{{ c | string | length }}", "the result of the string filter would be longer"),
        ("{{ 10 ** 10 ** 10 }}", "a whole number in the template would reach 2**256"),
        ("{{ 'x'.ljust(100000000) }}", "access to attribute 'ljust' of 'str' object is unsafe"),
        ("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}", "recursive loops are not"),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
            "{{ f(40) }}",
            "the template makes more than 10,000 calls (macros, functions, methods)",
        ),
        (
            BIG + "{% for i in range(1000) %}{% set b = a | upper %}{% endfor %}ok",
            "the template builds or reads more than 5,000,000 characters in all",
        ),
    ],
)
def test_whatever_would_grow_past_the_budget_is_refused_before_it_is_built(body, message):
    refusal, peak = _refusal(body)
    assert message in refusal
    assert peak < 10 * MB


def test_the_budgets_leave_ordinary_templates_alone():
    body = (
        "{% macro item(g) %}- {{ g | title }}{% endmacro %}"
        "{% for g in goals %}{{ item(g) }}\n{% endfor %}"
        "{{ goals | join(', ') | replace('goal', 'aim') }}\n"
        "{{ '%s of %d' | format('all', goals | length) }} {{ 'x' * 3 ~ '!' }}\n"
        "{{ findings | indent(2) }}"
    )
    context = {"goals": [f"goal {n}" for n in range(500)], "findings": "a\nb"}
    _, rendered = templates.preview(subject="S", body=body, context=context)
    lines = rendered.split("\n")
    assert lines[:2] == ["- Goal 0", "- Goal 1"] and lines[499] == "- Goal 499"
    assert lines[500].startswith("aim 0, aim 1, ") and lines[500].endswith("aim 499")
    assert lines[501:] == ["all of 500 xxx!", "a", "  b"]


def test_a_template_over_a_budget_is_not_saved(session, people):
    with pytest.raises(Invalid, match="Body, line 1: the template runs more than 10,000 loop"):
        templates.save_template(
            session=session,
            key="review_summary",
            subject="S",
            body="{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}x",
            expected_version=0,
            actor=people["admin"],
        )
    assert session.scalar(select(MessageTemplate)) is None


def test_a_template_longer_than_a_message_may_be_is_refused_unread():
    with pytest.raises(Invalid, match="Body: the template is 50,001 characters; the limit is"):
        templates.preview(subject="S", body="x" * 50_001, context=CONTEXT)
