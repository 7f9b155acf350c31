"""The People page: admins invite, change, deactivate and reactivate people; others cannot."""

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.accounts.models import User
from core.accounts.people import update_user
from core.accounts.schemas import Actor, UserIn
from core.accounts.service import authenticate, create_api_key
from core.audit.models import AuditEntry
from core.base import Role
from core.db import session_scope
from tests import factories as f
from tests.pages import apptest

PAGE = "../pages/users.py"


@pytest.fixture
def admin(scratch_db) -> User:
    with session_scope() as session:
        return f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")


def _said(elements, text: str) -> bool:
    return any(text in str(e.value).replace("\\", "") for e in elements)


def _table(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def _stored(email: str) -> User | None:
    with session_scope() as session:
        return session.scalar(select(User).where(User.email == email))


def _invite(at: AppTest, email: str, name: str, **fields) -> AppTest:
    at.text_input(key="people_invite_email").input(email)
    at.text_input(key="people_invite_name").input(name)
    at.selectbox(key="people_invite_role").set_value(fields.get("role", Role.CSM))
    at.text_input(key="people_invite_slack").input(fields.get("slack", ""))
    return at.button(key="people_invite_submit").click().run()


def test_an_admin_invites_a_person_who_then_appears(admin):
    at = apptest.open_page(admin.id, PAGE)
    _invite(at, "Robin@Outcomes.Example", "Robin Lee", role=Role.LEADER, slack="u0123abcd")
    assert not at.exception and not at.error
    assert _said(at.success, "Invited Robin Lee as CS leader")
    row = next(r for r in _table(at) if r["Name"] == "Robin Lee")
    assert row == {
        "Name": "Robin Lee",
        "Email": "robin@outcomes.example",
        "Role": "CS leader",
        "Title": "—",
        "Slack member ID": "U0123ABCD",
        "Status": "Active",
        "API keys": 0,
    }
    assert at.text_input(key="people_invite_email").value == ""  # ready for the next one
    assert _stored("robin@outcomes.example").role == Role.LEADER


def test_a_bad_email_and_slack_id_are_named_and_what_was_typed_stays(admin):
    at = apptest.open_page(admin.id, PAGE)
    _invite(at, "robin at outcomes", "Robin Lee", slack="robin")
    errors = _errors(at)
    assert "Email: must be an email address such as name@company.com" in errors
    assert "Slack member ID: must be a Slack member ID such as U0123ABCD" in errors
    assert at.text_input(key="people_invite_email").value == "robin at outcomes"
    assert at.text_input(key="people_invite_name").value == "Robin Lee"
    assert _stored("robin at outcomes") is None


def test_an_email_already_taken_is_refused_naming_email(admin):
    at = apptest.open_page(admin.id, PAGE)
    _invite(at, "ada@outcomes.example", "Ada Again")
    assert "Email: ada@outcomes.example already belongs to Ada Admin" in _errors(at)


def test_an_admin_changes_a_person_and_a_stale_form_conflicts(admin):
    with session_scope() as session:
        f.csm(session, "Robin Lee", email="robin@outcomes.example")
    at = apptest.open_page(admin.id, PAGE)
    at.selectbox(key="people_edit_email").set_value("robin@outcomes.example").run()
    assert at.text_input(key="people_edit_name").value == "Robin Lee"
    at.selectbox(key="people_edit_role").set_value(Role.LEADER)
    at.button(key="people_edit_submit").click().run()
    assert _said(at.success, "Saved Robin Lee.")
    assert _stored("robin@outcomes.example").role == Role.LEADER

    with session_scope() as session:  # another admin saves meanwhile
        update_user(
            session=session,
            email="robin@outcomes.example",
            body=UserIn(name="Robin Park", role=Role.LEADER),
            actor=Actor(label=admin.email, user_id=admin.id),
        )
    at.text_input(key="people_edit_title").input("Team lead")
    at.button(key="people_edit_submit").click().run()
    assert "Someone else changed Robin Park" in _errors(at)
    assert at.text_input(key="people_edit_title").value == "Team lead"  # kept
    assert _stored("robin@outcomes.example").title is None
    at.button(key="people_edit_reload").click().run()
    assert at.text_input(key="people_edit_name").value == "Robin Park"


def test_deactivating_asks_first_and_stops_the_persons_keys(admin):
    with session_scope() as session:
        robin = f.csm(session, "Robin Lee", email="robin@outcomes.example")
        _, token = create_api_key(session=session, name="robin-bot", user_email=robin.email)
    at = apptest.open_page(admin.id, PAGE)
    at.selectbox(key="people_edit_email").set_value("robin@outcomes.example").run()
    at.button(key=f"people_deactivate_{robin.id}_ask").click().run()
    warning = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "Deactivate Robin Lee?" in warning and "their 1 API key stop working" in warning
    assert _stored("robin@outcomes.example").active  # nothing yet
    at.button(key=f"people_deactivate_{robin.id}_yes").click().run()
    assert _said(at.success, "Robin Lee is deactivated now.")
    with session_scope() as session:
        assert authenticate(session=session, token=token) is None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivate"))
        assert entry.actor == admin.email

    at.button(key=f"people_reactivate_{robin.id}_ask").click().run()
    at.button(key=f"people_reactivate_{robin.id}_yes").click().run()
    assert _stored("robin@outcomes.example").active


def test_the_last_admin_is_told_why_they_cannot_deactivate_themselves(admin):
    at = apptest.open_page(admin.id, PAGE)
    at.selectbox(key="people_edit_email").set_value(admin.email).run()
    at.button(key=f"people_deactivate_{admin.id}_ask").click().run()
    assert _said(at.warning, "That is you")
    at.button(key=f"people_deactivate_{admin.id}_yes").click().run()
    assert "Ada Admin is the last active admin" in _errors(at)
    assert _stored(admin.email).active


def test_no_raw_values_on_the_page(admin):
    with session_scope() as session:
        f.user(session, Role.MARKETING, "Mia", email="mia@outcomes.example", active=False)
    at = apptest.open_page(admin.id, PAGE)
    at.segmented_control(key="people_show").set_value("all").run()
    shown = {r["Name"]: r for r in _table(at)}
    assert (shown["Mia"]["Role"], shown["Mia"]["Status"]) == ("Marketing", "Deactivated")
    cells = {str(v) for r in shown.values() for v in r.values()}
    assert not cells & {"None", "marketing", "admin", "False", "True"}


def test_a_csm_cannot_open_the_page(scratch_db):
    with session_scope() as session:
        casey = f.csm(session, email="casey@outcomes.example")
    at = apptest.open_page(casey.id, PAGE)
    assert at.info[0].value.startswith("This page is for admins — ask an admin")
    assert not at.dataframe  # the page itself never ran
