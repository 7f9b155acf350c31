"""The API keys page: a new key is shown once; revoking asks first; only admins open it."""

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.accounts.models import ApiKey, User
from core.accounts.service import authenticate, create_api_key
from core.audit.models import AuditEntry
from core.base import Role
from core.db import session_scope
from tests import factories as f
from tests.pages import apptest

PAGE = "../pages/api_keys.py"


@pytest.fixture
def admin(scratch_db) -> User:
    with session_scope() as session:
        return f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")


def _said(elements, text: str) -> bool:
    return any(text in str(e.value).replace("\\", "") for e in elements)


def _rows(at: AppTest) -> dict[str, dict]:
    return {r["Name"]: r for r in at.dataframe[0].value.to_dict("records")}


def _create(at: AppTest, name: str) -> AppTest:
    at.text_input(key="apikey_name").input(name)
    return at.button(key="apikey_submit").click().run()


def test_a_new_key_is_shown_once_and_works(admin):
    at = apptest.open_page(admin.id, PAGE)
    at.selectbox(key="apikey_role").set_value(Role.SALES)
    _create(at, "Proof-point widget")
    assert not at.exception and not at.error
    [code] = at.code
    token = code.value
    assert token.startswith("oc_")
    assert _said(at.warning, "it is shown only this once")
    row = _rows(at)["Proof-point widget"]
    assert (row["Role"], row["Acts as"], row["Status"], row["Last used"]) == (
        "Sales",
        "Anyone its role allows",
        "Active",
        "Never",
    )
    assert token not in str(row)  # the table never holds the key
    with session_scope() as session:
        assert authenticate(session=session, token=token).name == "Proof-point widget"
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "api_key.create"))
        assert entry.actor == admin.email

    at.run()
    assert not at.code  # gone on the next run: it is never shown again


def test_a_key_bound_to_a_person_takes_their_role(admin):
    with session_scope() as session:
        f.csm(session, "Robin Lee", email="robin@outcomes.example")
    at = apptest.open_page(admin.id, PAGE)
    at.segmented_control(key="apikey_binding").set_value("bound").run()
    at.selectbox(key="apikey_person").set_value("robin@outcomes.example")
    _create(at, "Robin's scripts")
    row = _rows(at)["Robin's scripts"]
    assert (row["Role"], row["Acts as"]) == ("Customer success manager", "robin@outcomes.example")


def test_missing_choices_are_named(admin):
    at = apptest.open_page(admin.id, PAGE)
    _create(at, "")
    assert _said(at.error, "Name: is required")
    _create(at, "ETL")
    assert _said(at.error, "Role: choose the role")
    assert at.text_input(key="apikey_name").value == "ETL"
    assert not at.code


def test_revoking_asks_first_then_the_key_stops_working(admin):
    with session_scope() as session:
        key, token = create_api_key(session=session, name="old-sync", role="admin")
    at = apptest.open_page(admin.id, PAGE)
    at.selectbox(key="apikey_revoke").set_value(str(key.id)).run()
    at.button(key=f"apikey_revoke_{key.id}_ask").click().run()
    assert _said(at.warning, "Revoke old-sync?")
    with session_scope() as session:
        assert authenticate(session=session, token=token) is not None
    at.button(key=f"apikey_revoke_{key.id}_yes").click().run()
    assert _said(at.success, "Revoked old-sync")
    assert _rows(at)["old-sync"]["Status"] == "Revoked"
    with session_scope() as session:
        assert session.get(ApiKey, key.id).revoked
        assert authenticate(session=session, token=token) is None


def test_a_key_of_a_deactivated_person_says_it_does_not_work(admin):
    with session_scope() as session:
        gone = f.csm(session, "Sam Gone", email="sam@outcomes.example")
        create_api_key(session=session, name="sam-bot", user_email=gone.email)
        gone.active = False
    at = apptest.open_page(admin.id, PAGE)
    assert _rows(at)["sam-bot"]["Status"] == "Not working: its person is deactivated"


def test_a_csm_cannot_open_the_page(scratch_db):
    with session_scope() as session:
        casey = f.csm(session, email="casey@outcomes.example")
    at = apptest.open_page(casey.id, PAGE)
    assert at.info[0].value.startswith("This page is for admins — ask an admin")
    assert not at.dataframe  # the page itself never ran
