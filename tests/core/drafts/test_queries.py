"""The approval inbox's reads: filters, search, sort, pages, the next draft, options, detail."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.drafts import queries, service
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.errors import Forbidden, Invalid, NotFound
from tests import factories as f

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _draft(session, owner, name, *, days_old, kind=DraftKind.CUSTOMER_EMAIL, subject=None):
    customer = f.customer(session, name=name, owner=owner)
    row = f.draft(
        session,
        customer,
        owner,
        kind=kind,
        subject=subject or f"Congratulations, {name}",
        to=() if kind == DraftKind.REVIEW_SUMMARY else ("pat@acme.example",),
    )
    session.execute(
        update(Draft)
        .where(Draft.id == row.id)
        .values(created_at=NOW - timedelta(days=days_old))
        .execution_options(synchronize_session=False)
    )
    return row.id


@pytest.fixture
def book(session, people):
    """Four drafts of different ages, kinds, customers and owners."""
    return {
        "acme": _draft(session, people["csm"], "Acme Corp", days_old=8),
        "globex": _draft(session, people["csm"], "globex", days_old=2),
        "initech": _draft(
            session, people["csm"], "Initech", days_old=0.5, kind=DraftKind.REVIEW_SUMMARY
        ),
        "umbrella": _draft(session, people["other"], "Umbrella 100%_", days_old=4),
    }


def _ids(session, viewer, **filters) -> list[uuid.UUID]:
    page = queries.draft_page(
        session=session, viewer_id=viewer.id, viewer_role=viewer.role, now=NOW, **filters
    )
    return [r.id for r in page.rows]


def test_the_list_sorts_oldest_first_by_default_then_newest_or_by_customer(session, people, book):
    admin = people["admin"]
    assert _ids(session, admin) == [book[k] for k in ("acme", "umbrella", "globex", "initech")]
    newest = _ids(session, admin, sort="newest")
    assert newest == [book[k] for k in ("initech", "globex", "umbrella", "acme")]
    # Customer names sort without regard to case ("globex" between Acme and Initech).
    by_name = _ids(session, admin, sort="customer")
    assert by_name == [book[k] for k in ("acme", "globex", "initech", "umbrella")]


def test_filters_narrow_the_list_and_combine(session, people, book):
    admin, csm = people["admin"], people["csm"]
    assert _ids(session, admin, kind="review_summary") == [book["initech"]]
    assert _ids(session, admin, kind="Review summary") == [book["initech"]]  # forgiving
    assert _ids(session, admin, owner_id=people["other"].id) == [book["umbrella"]]
    acme = session.get(Draft, book["acme"]).customer_id
    assert _ids(session, admin, customer_id=acme) == [book["acme"]]
    assert _ids(session, admin, older_than_days=3) == [book["acme"], book["umbrella"]]
    assert _ids(session, admin, older_than_days=3, owner_id=csm.id) == [book["acme"]]
    assert _ids(session, admin, status="pending", kind="customer_email", older_than_days=30) == []
    assert set(_ids(session, csm)) == {book["acme"], book["globex"], book["initech"]}


def test_search_matches_customer_names_and_subjects_literally(session, people, book):
    admin = people["admin"]
    service.update_draft(
        session=session,
        draft_id=book["acme"],
        subject="Quarterly results are in",
        body="Hi",
        expected_version=1,
        actor=admin,
    )
    assert _ids(session, admin, search="GLOB") == [book["globex"]]
    assert _ids(session, admin, search="quarterly RESULTS") == [book["acme"]]
    assert _ids(session, admin, search="acme") == [book["acme"]]  # the customer's name
    # % and _ are text here, not patterns.
    assert _ids(session, admin, search="100%_") == [book["umbrella"]]
    assert _ids(session, admin, search="%") == [book["umbrella"]]
    assert _ids(session, admin, search="   ") == _ids(session, admin)


def test_status_follows_the_email_and_rows_carry_what_the_list_shows(session, people, book):
    csm = people["csm"]
    service.approve(session=session, draft_id=book["globex"], expected_version=1, actor=csm)
    assert _ids(session, csm, status="approved") == [book["globex"]]
    assert book["globex"] not in _ids(session, csm, status="pending")
    page = queries.draft_page(
        session=session, viewer_id=csm.id, viewer_role=csm.role, now=NOW, status="pending"
    )
    acme = next(r for r in page.rows if r.id == book["acme"])
    assert (acme.customer_name, acme.owner_name, acme.kind) == (
        "Acme Corp",
        "Casey",
        DraftKind.CUSTOMER_EMAIL,
    )
    assert (acme.status, acme.can_act, acme.edited, acme.version) == (
        DraftStatus.PENDING,
        True,
        False,
        1,
    )
    assert acme.to_addresses == ["pat@acme.example"]
    leader = people["leader"]
    seen = queries.draft_page(session=session, viewer_id=leader.id, viewer_role=leader.role)
    assert seen.rows and not any(r.can_act for r in seen.rows)


def test_pages_count_every_match(session, people, book):
    admin = people["admin"]
    first = queries.draft_page(session=session, viewer_id=admin.id, viewer_role="admin", limit=3)
    second = queries.draft_page(
        session=session, viewer_id=admin.id, viewer_role="admin", limit=3, offset=3
    )
    assert (first.total, len(first.rows), second.total, len(second.rows)) == (4, 3, 4, 1)
    assert [r.id for r in first.rows + second.rows] == _ids(session, admin)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"search": "two\nlines"}, "search: must be a single line"),
        ({"search": "x" * 201}, "search: can be at most 200 characters"),
        ({"kind": "postcard"}, "kind: must be one of customer_email"),
        ({"sort": "sideways"}, "sort: must be one of oldest"),
        ({"older_than_days": -1}, "olderThanDays: must be at least 0"),
        ({"limit": 0}, "limit: must be at least 1"),
        ({"offset": 100_001}, "offset: must be at most 100,000"),
        ({"customer_id": "acme"}, "customerId: must be an id (a UUID)"),
        ({"older_than_days": "soon"}, "olderThanDays: must be a whole number"),
        ({"colour": "red"}, "colour: is not expected here"),
    ],
)
def test_refused_filters_name_the_field(session, people, filters, message):
    admin = people["admin"]
    with pytest.raises(Invalid) as refused:
        queries.draft_page(session=session, viewer_id=admin.id, viewer_role="admin", **filters)
    assert str(refused.value).startswith(message)
    assert "should" not in str(refused.value)  # plain words, not pydantic's


def test_only_csms_leaders_and_admins_read_the_queue(session, people):
    marketing = people["marketing"]
    with pytest.raises(Forbidden):
        queries.draft_page(session=session, viewer_id=marketing.id, viewer_role="marketing")


@pytest.mark.parametrize(
    ("sort", "decided", "expected"),
    [
        ("oldest", "umbrella", "globex"),
        ("oldest", "initech", "globex"),  # the last one: the one before it
        ("newest", "globex", "umbrella"),
        ("customer", "globex", "initech"),
        ("customer", "umbrella", "initech"),
    ],
)
def test_the_next_draft_follows_the_list_order(session, people, book, sort, decided, expected):
    admin = people["admin"]
    service.approve(session=session, draft_id=book[decided], expected_version=1, actor=admin)
    found = queries.next_draft(
        session=session,
        viewer_id=admin.id,
        viewer_role=admin.role,
        after=book[decided],
        status="pending",
        sort=sort,
        now=NOW,
    )
    assert found == book[expected]


def test_the_next_draft_keeps_to_the_filters_and_may_be_none(session, people, book):
    csm = people["csm"]
    kwargs = dict(session=session, viewer_id=csm.id, viewer_role=csm.role, status="pending")
    assert queries.next_draft(**kwargs, after=book["acme"], kind="customer_email") == book["globex"]
    assert queries.next_draft(**kwargs, after=book["initech"], kind="review_summary") is None
    assert queries.next_draft(**kwargs, after=uuid.uuid4()) is None


def test_options_list_the_customers_and_owners_of_the_visible_drafts(session, people, book):
    admin, csm = people["admin"], people["csm"]
    options = queries.draft_options(session=session, viewer_id=admin.id, viewer_role="admin")
    assert [c.name for c in options.customers] == [
        "Acme Corp",
        "globex",
        "Initech",
        "Umbrella 100%_",
    ]
    assert [o.name for o in options.owners] == ["Casey", "Robin"]
    service.approve(session=session, draft_id=book["acme"], expected_version=1, actor=csm)
    mine = queries.draft_options(
        session=session, viewer_id=csm.id, viewer_role="csm", status="pending"
    )
    assert [c.name for c in mine.customers] == ["globex", "Initech"]
    assert [o.name for o in mine.owners] == ["Casey"]


def test_the_detail_keeps_the_generated_text_and_is_only_for_those_who_see_it(
    session, people, book
):
    csm = people["csm"]
    service.update_draft(
        session=session,
        draft_id=book["acme"],
        subject="Edited subject",
        body="Edited body",
        expected_version=1,
        actor=csm,
    )
    found = queries.draft_detail(
        session=session, viewer_id=csm.id, viewer_role="csm", draft_id=book["acme"]
    )
    assert (found.subject, found.original_subject) == (
        "Edited subject",
        "Congratulations, Acme Corp",
    )
    assert found.original_body == "Hi Pat,\n\nYou did it.\n\nCasey" and found.edited
    assert found.related_type == "goal_achievement" and found.can_act
    with pytest.raises(NotFound):
        queries.draft_detail(
            session=session, viewer_id=csm.id, viewer_role="csm", draft_id=book["umbrella"]
        )
    with pytest.raises(NotFound):
        queries.draft_detail(
            session=session, viewer_id=csm.id, viewer_role="csm", draft_id=uuid.uuid4()
        )
