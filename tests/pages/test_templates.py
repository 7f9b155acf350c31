"""The Message templates page: live preview, errors that name the line, saving, conflicts."""

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.accounts.schemas import UserSummary
from core.base import Role
from core.db import session_scope
from core.drafts import templates
from core.drafts.models import MessageTemplate
from tests import factories as f
from tests.pages import apptest

SUBJECT, BODY = "tpl_subject_congratulations_email", "tpl_body_congratulations_email"


def _admin() -> UserSummary:
    with session_scope() as session:
        return f.actor(f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example"))


def _open(user: UserSummary) -> AppTest:
    return apptest.open_page(user.id, "../pages/templates.py")


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")  # drop markdown escapes


def _stored() -> MessageTemplate | None:
    with session_scope() as session:
        key = MessageTemplate.key == "congratulations_email"
        return session.scalar(select(MessageTemplate).where(key))


def test_preview_shows_sample_text_and_the_variables(scratch_db):
    at = _open(_admin())
    assert (
        at.text_input(key=SUBJECT).value
        == templates.DEFAULT_TEMPLATES["congratulations_email"].subject
    )
    assert any("Northwind Logistics reached" in m.value for m in at.markdown)
    assert any("Hi Priya," in t.value for t in at.text)
    assert "next_goals" in list(at.dataframe[0].value["Variable"])


def test_admin_sees_preview_errors_then_saves_a_fixed_template(scratch_db):
    at = _open(_admin())
    at.text_area(key=BODY).input("Hi {{ contact_name }},\n\n{{ customer_nmae }} did it.").run()
    assert "Body, line 3: 'customer_nmae' is undefined" in _errors(at)
    at.button(key="tpl_save").click().run()
    assert "Not saved" in _errors(at)
    assert _stored() is None

    at.text_area(key=BODY).input("Hi {{ contact_name }},\n\n{{ customer_name }} did it.").run()
    assert not at.error
    assert any("Northwind Logistics did it." in t.value for t in at.text)
    at.button(key="tpl_save").click().run()
    assert any("New drafts use this text" in s.value for s in at.success)
    stored = _stored()
    assert stored.body == "Hi {{ contact_name }},\n\n{{ customer_name }} did it."
    assert stored.version == 1


def test_sandbox_escape_attempts_show_as_errors(scratch_db):
    at = _open(_admin())
    at.text_input(key=SUBJECT).input("{{ ''.__class__.__mro__ }}").run()
    assert "Subject, line 1: access to attribute '__class__'" in _errors(at)
    assert "unsafe" in _errors(at)


def test_a_stale_save_shows_the_conflict_and_reloads(scratch_db):
    admin = _admin()
    at = _open(admin)
    with session_scope() as session:
        templates.save_template(
            session=session,
            key="congratulations_email",
            subject="Theirs {{ customer_name }}",
            body="Their body",
            expected_version=0,
            actor=admin,
        )
    at.text_area(key=BODY).input("My body")
    at.button(key="tpl_save").click().run()
    assert "Someone else saved this template" in _errors(at)
    assert at.text_area(key=BODY).value == "Their body"
    assert _stored().body == "Their body"
