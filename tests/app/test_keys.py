from sqlalchemy import select

from app.keys import main as keys_main
from core.accounts.models import ApiKey, User
from core.accounts.service import hash_key
from core.audit.models import AuditEntry
from core.base import Role
from core.db import session_scope


def test_create_prints_a_key_that_is_stored_hashed(scratch_db, capsys):
    assert keys_main(["create", "warehouse", "--role", "sales"]) == 0
    token = capsys.readouterr().out.strip()
    with session_scope() as session:
        key = session.scalar(select(ApiKey))
    assert key.name == "warehouse" and key.role == "sales"
    assert key.key_hash == hash_key(token)


def test_list_and_revoke(scratch_db, capsys):
    keys_main(["create", "bi-tool"])
    capsys.readouterr()
    assert keys_main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "bi-tool" in listing and "active" in listing
    prefix = listing.split("…")[0]
    assert keys_main(["revoke", prefix]) == 0
    keys_main(["list"])
    assert "revoked" in capsys.readouterr().out


def test_revoke_unknown_key_says_so(scratch_db, capsys):
    assert keys_main(["revoke", "oc_missing"]) == 2
    assert "No API key" in capsys.readouterr().err


def test_create_as_a_person_binds_the_key_to_them(scratch_db, capsys):
    with session_scope() as session:
        session.add(User(email="casey@outcomes.example", name="Casey", role=Role.CSM))
    assert keys_main(["create", "casey-bot", "--as", "casey@outcomes.example"]) == 0
    assert "acting only as casey@outcomes.example" in capsys.readouterr().err
    keys_main(["list"])
    assert "as casey@outcomes.example" in capsys.readouterr().out
    with session_scope() as session:
        key = session.scalar(select(ApiKey))
        user = session.scalar(select(User))
    assert (key.user_id, key.role) == (user.id, "csm")
    assert keys_main(["create", "x", "--role", "admin", "--as", "casey@outcomes.example"]) == 2
    assert "acts with that person's role (csm)" in capsys.readouterr().err


def test_creating_and_revoking_are_audited_as_the_command_line(scratch_db, capsys, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    keys_main(["create", "bi-tool"])
    capsys.readouterr()
    with session_scope() as session:
        key_id = session.scalar(select(ApiKey.id))
    keys_main(["revoke", str(key_id)])
    keys_main(["revoke", str(key_id)])  # already revoked: nothing more to record
    with session_scope() as session:
        entries = session.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    assert sorted(entries) == [("api_key.create", "cli:ops"), ("api_key.revoke", "cli:ops")]
