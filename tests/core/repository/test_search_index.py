"""Repository search near the index: stored name-free vectors kept by triggers, bounded
ranking and counting for words that match most entries, and keyset pages."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from core.base import Consent
from core.errors import Invalid
from core.records.models import SuccessRecord
from core.repository import queries as repo
from core.repository.consent import PLACEHOLDER
from core.repository.models import RepositoryEntry
from tests import factories as f
from tests.core.repository.test_consent_layer import world


def lexemes(session, entry_id, column) -> set[str]:
    vector = getattr(RepositoryEntry, column)
    found = session.scalar(
        select(func.tsvector_to_array(vector)).where(RepositoryEntry.id == entry_id)
    )
    return set(found)


def test_stored_vectors_hold_no_name_and_follow_renames(session):
    w = world(session)
    entries = {e.customer_id: e for e in session.scalars(select(RepositoryEntry))}
    for cust in (w["lakewater"], w["brightline"], w["acme"]):
        text = lexemes(session, entries[cust.id].id, "search_text")
        assert not text & {"lakewat", "brightlin", "acm", "technolog", "group", "bank"}, text
        assert "user" in text and "custom" in text  # the words, and where the name stood
    assert lexemes(session, entries[w["acme"].id].id, "search_name") == {"acm", "care"}
    w["acme"].name = "Zephyr Clinics"
    session.flush()
    assert lexemes(session, entries[w["acme"].id].id, "search_name") == {"zephyr", "clinic"}
    assert [i.customer_name for i in repo.search_entries(session=session, q="zephyr").items] == [
        "Zephyr Clinics"
    ]
    assert repo.search_entries(session=session, q="acme").total == 0


def test_older_texts_are_redacted_whoever_writes_them(session):
    cust = f.customer(session, name="Brightline Bank", consent=Consent.ANONYMIZED)
    entry = f.repository_entry(
        session, "Brightline Bank doubled adoption", "Brightline Bank: adoption up", cust=cust
    )
    assert "brightlin" not in lexemes(session, entry.id, "search_text")
    # A record written after its entry names a former name: the entry is redacted of it too.
    entry.title = "Harbor Trust doubled adoption"
    session.flush()
    assert "harbor" in lexemes(session, entry.id, "search_text")
    session.add(
        SuccessRecord(
            achievement_id=entry.achievement_id,
            title="A win",
            summary="A win.",
            sections={"customer_name": "Harbor Trust"},
            markdown="",
        )
    )
    session.flush()
    text = lexemes(session, entry.id, "search_text")
    assert "harbor" not in text and "trust" not in text and "adopt" in text
    assert repo.search_entries(session=session, q="harbor").total == 0
    assert repo.search_entries(session=session, q="adoption").total == 1


def test_a_negated_word_excludes_only_names_the_repository_may_show(session):
    w = world(session)
    page = repo.search_entries(session=session, q="users -acme")
    assert {i.customer_id for i in page.items} == {w["lakewater"].id, w["brightline"].id}
    # Excluding a hidden name changes nothing: the result never tells who a described one is.
    page = repo.search_entries(session=session, q="users -lakewater")
    assert page.total == 3


def many(session, count: int, *, first: date, title="Weekly users grew", step=1):
    """`count` entries of one public customer, a day apart going back from `first`."""
    cust = f.customer(session, name="Orchard Labs", consent=Consent.FULL_PUBLIC)
    return [
        f.repository_entry(
            session, f"{title} {i}", cust=cust, achieved_on=first - timedelta(days=step * i)
        )
        for i in range(count)
    ]


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(repo, "CAP", 3)
    monkeypatch.setattr(repo, "WALK", 4)


def test_a_search_matching_more_than_the_cap_ranks_the_newest_and_caps_the_total(
    session, small_cap
):
    entries = many(session, 7, first=date(2026, 5, 1))
    page = repo.search_entries(session=session, q="users", limit=10)
    assert (page.total, page.total_capped, page.total_text) == (3, True, "3+")
    assert {i.id for i in page.items} == {e.id for e in entries[:3]}
    listed = repo.search_entries(session=session, limit=10)
    assert (listed.total, listed.total_capped) == (3, True)
    assert [i.id for i in listed.items] == [e.id for e in entries]  # a listing is not bounded
    assert repo.search_entries(session=session, q="users 6").total_capped is False


def test_sparse_matches_beyond_the_walk_are_found_in_the_index(session, small_cap):
    matches = many(session, 5, first=date(2026, 1, 1))
    many(session, 6, first=date(2026, 6, 1), title="Tickets fell")  # the newest, not matching
    page = repo.search_entries(session=session, q="users", limit=10)
    assert page.total_capped and {i.id for i in page.items} == {e.id for e in matches[:3]}


@pytest.mark.parametrize("q", [None, "users"])
def test_cursor_pages_walk_the_same_order_as_one_page(session, q):
    many(session, 7, first=date(2026, 5, 1), step=0)  # one day: the id breaks the ties
    whole = [i.id for i in repo.search_entries(session=session, q=q, limit=50).items]
    seen, cursor = [], None
    while True:
        page = repo.search_entries(session=session, q=q, limit=3, cursor=cursor)
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == whole and len(whole) == 7
    by_offset = repo.search_entries(session=session, q=q, limit=3, offset=3).items
    assert [i.id for i in by_offset] == whole[3:6]


def test_a_cursor_must_be_one_this_search_gave_out(session):
    many(session, 3, first=date(2026, 5, 1))
    listed = repo.search_entries(session=session, limit=1)
    with pytest.raises(Invalid, match="^cursor: "):
        repo.search_entries(session=session, q="users", cursor=listed.next_cursor)
    with pytest.raises(Invalid, match="^cursor: "):
        repo.search_entries(session=session, cursor="not-a-cursor")
    with pytest.raises(Invalid, match="^cursor: give either"):
        repo.search_entries(session=session, cursor=listed.next_cursor, offset=1)


def test_placeholder_words_still_match_as_before(session):
    cust = f.customer(session, name="Quill Freight", consent=Consent.INTERNAL_ONLY)
    f.repository_entry(session, f"{PLACEHOLDER}: fewer tickets", cust=cust)
    assert repo.search_entries(session=session, q="customer").total == 1
    assert repo.search_entries(session=session, q="quill").total == 0


def test_the_text_indexes_take_writes_directly(session):
    options = dict(
        session.execute(
            sa.text(
                "SELECT c.relname, c.reloptions FROM pg_class c WHERE c.relname IN "
                "('ix_value_repository_entries_search_text', "
                "'ix_value_repository_entries_search_name')"
            )
        ).all()
    )
    assert options == dict.fromkeys(options, ["fastupdate=off"]) and len(options) == 2
    for index in RepositoryEntry.__table__.indexes:
        if index.name in options:
            assert index.dialect_options["postgresql"]["with"] == {"fastupdate": "off"}
