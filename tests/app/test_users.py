"""`python -m app.users`: the first admin of an empty database, added without SQL."""

from sqlalchemy import select

from app.users import main as users_main
from core.accounts.models import User
from core.audit.models import AuditEntry
from core.base import Role
from core.db import session_scope


def test_add_the_first_admin_to_an_empty_database(scratch_db, capsys):
    assert users_main(["add", "Ada@Example.com", "--name", "Ada Admin"]) == 0
    assert "Added Ada Admin <ada@example.com> as admin." in capsys.readouterr().out
    with session_scope() as session:
        person = session.scalar(select(User))
        audit = session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "user"))
    assert (person.email, person.role, person.active) == ("ada@example.com", Role.ADMIN, True)
    assert audit.actor.startswith("cli:")


def test_add_again_updates_and_list_shows_everyone(scratch_db, capsys):
    users_main(["add", "sam@example.com", "--name", "Sam", "--role", "csm"])
    assert users_main(["add", "sam@example.com", "--name", "Sam Lee", "--role", "leader"]) == 0
    assert "Updated Sam Lee <sam@example.com> as leader." in capsys.readouterr().out
    assert users_main(["list"]) == 0
    assert "sam@example.com  Sam Lee  leader  active" in capsys.readouterr().out


def test_a_bad_email_is_refused_in_words(scratch_db, capsys):
    assert users_main(["add", "not-an-email", "--name", "X"]) == 2
    assert capsys.readouterr().err.startswith("email:")
