from sqlalchemy import select

from app.keys import main as keys_main
from core.accounts.models import ApiKey
from core.accounts.service import hash_key
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
