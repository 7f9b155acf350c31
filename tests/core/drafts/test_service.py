"""Creating, listing and editing drafts: idempotency, who sees what, optimistic locking."""

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.drafts import service
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.errors import Conflict, Forbidden, Invalid
from tests import factories as f


def test_create_is_idempotent_per_kind_and_related_row(session, customer, people):
    related = uuid.uuid4()
    kwargs = dict(
        session=session,
        kind=DraftKind.CUSTOMER_EMAIL,
        customer_id=customer.id,
        owner_id=people["csm"].id,
        related_type="goal_achievement",
        related_id=related,
        to=["pat@acme.example"],
        subject="  Well done  ",
        body="Hi",
    )
    first = service.create_draft(**kwargs)
    assert (first.status, first.version) == (DraftStatus.PENDING, 1)
    assert (first.subject, first.original_subject) == ("Well done", "Well done")
    assert first.original_body == "Hi"
    assert service.create_draft(**{**kwargs, "subject": "Another"}) is None
    summary = service.create_draft(**{**kwargs, "kind": DraftKind.REVIEW_SUMMARY})
    assert summary is not None and summary.id != first.id
    assert session.scalar(select(func.count()).select_from(Draft)) == 2


@pytest.mark.parametrize(
    ("subject", "body", "to", "message"),
    [
        ("Hi\r\nBcc: x@evil.example", "Body", ["a@b.example"], "single line"),
        ("", "Body", ["a@b.example"], "must not be empty"),
        ("x" * 301, "Body", ["a@b.example"], "limit is 300"),
        ("Subject", "  \n ", ["a@b.example"], "body must not be empty"),
        ("Subject", "Body", ["a@b.example\nBcc: x@evil.example"], "Not an email address"),
    ],
)
def test_create_rejects_bad_text(session, customer, people, subject, body, to, message):
    with pytest.raises(Invalid, match=message):
        f.draft(session, customer, people["csm"], subject=subject, body=body, to=tuple(to))


def test_csms_see_their_own_drafts_admins_and_leaders_see_all(session, people):
    mine = f.draft(session, f.customer(session, owner=people["csm"], name="Acme"), people["csm"])
    # Robin's draft on Casey's customer (e.g. written before the account moved to Casey).
    moved = f.draft(session, f.customer(session, owner=people["csm"], name="Acme"), people["other"])
    theirs = f.draft(
        session, f.customer(session, owner=people["other"], name="Acme"), people["other"]
    )

    def seen(who):
        user = people[who]
        rows = service.list_drafts(session=session, viewer_id=user.id, viewer_role=user.role)
        return {r.id: r for r in rows}

    assert set(seen("csm")) == {mine.id, moved.id}
    assert set(seen("other")) == {moved.id, theirs.id}
    assert set(seen("admin")) == set(seen("leader")) == {mine.id, moved.id, theirs.id}
    assert all(r.can_act for r in seen("admin").values())
    assert not any(r.can_act for r in seen("leader").values())
    row = seen("csm")[mine.id]
    assert row.customer_name.startswith("Acme") and row.to_addresses == ["pat@acme.example"]
    assert (row.owner_name, row.status, row.edited) == ("Casey", DraftStatus.PENDING, False)
    with pytest.raises(Forbidden):
        service.list_drafts(
            session=session, viewer_id=people["marketing"].id, viewer_role="marketing"
        )


def test_list_filters_by_status_and_kind(session, customer, people):
    email = f.draft(session, customer, people["csm"])
    summary = f.draft(session, customer, people["csm"], kind=DraftKind.REVIEW_SUMMARY, to=())
    admin = people["admin"]
    service.reject(
        session=session, draft_id=email.id, reason="Too early", expected_version=1, actor=admin
    )

    def ids(**filters):
        rows = service.list_drafts(
            session=session, viewer_id=admin.id, viewer_role="admin", **filters
        )
        return [r.id for r in rows]

    assert ids(status="pending") == [summary.id]
    assert ids(status="rejected") == [email.id]
    assert ids(kind="review_summary") == [summary.id]
    stats = service.approval_stats(session=session, viewer_id=admin.id, viewer_role="admin")
    assert stats == {"pending": 1, "approved": 0, "rejected": 1, "sent": 0, "failed": 0}


def test_edit_saves_bumps_the_version_and_audits_a_diff_summary(session, draft, people):
    edited = service.update_draft(
        session=session,
        draft_id=draft.id,
        subject="Congratulations, Acme!",
        body="Hi Pat,\n\nYou did it: 3.6 hours.\n\nCasey",
        expected_version=1,
        actor=people["csm"],
    )
    assert edited.version == 2 and edited.subject == "Congratulations, Acme!"
    assert edited.original_subject == "Congratulations on faster resolution"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "draft.update"))
    assert entry.actor == people["csm"].email
    assert entry.changes["subject"] == [
        "Congratulations on faster resolution",
        "Congratulations, Acme!",
    ]
    assert entry.changes["body"] == {"lines_added": 1, "lines_removed": 1}
    row = service.list_drafts(session=session, viewer_id=people["csm"].id, viewer_role="csm")[0]
    assert row.edited and row.version == 2


def test_saving_over_someone_elses_save_is_a_conflict(session, draft, people):
    service.update_draft(
        session=session,
        draft_id=draft.id,
        subject="First",
        body="One",
        expected_version=1,
        actor=people["admin"],
    )
    with pytest.raises(Conflict, match="Someone else saved this draft since you opened it"):
        service.update_draft(
            session=session,
            draft_id=draft.id,
            subject="Second",
            body="Two",
            expected_version=1,
            actor=people["csm"],
        )


def test_a_concurrent_save_in_another_session_is_a_conflict(session, connection, draft, people):
    session.commit()
    mine = session.get(Draft, draft.id)  # this session still holds version 1 in memory
    other = Session(bind=connection, join_transaction_mode="create_savepoint")
    service.update_draft(
        session=other,
        draft_id=draft.id,
        subject="Theirs",
        body="Their text",
        expected_version=1,
        actor=people["admin"],
    )
    other.commit()
    other.close()
    assert mine.version == 1
    with pytest.raises(Conflict, match="Someone else saved"):  # StaleDataError on flush
        service.update_draft(
            session=session,
            draft_id=draft.id,
            subject="Mine",
            body="My text",
            expected_version=1,
            actor=people["csm"],
        )
    session.rollback()
    assert session.get(Draft, draft.id).subject == "Theirs"


def test_only_pending_drafts_can_be_edited_and_text_is_checked(session, draft, people):
    csm = people["csm"]
    with pytest.raises(Invalid, match="single line"):
        service.update_draft(
            session=session,
            draft_id=draft.id,
            subject="Hi\nBcc: x@evil.example",
            body="B",
            expected_version=1,
            actor=csm,
        )
    service.approve(session=session, draft_id=draft.id, expected_version=1, actor=csm)
    with pytest.raises(Conflict, match="already approved"):
        service.update_draft(
            session=session,
            draft_id=draft.id,
            subject="S",
            body="B",
            expected_version=2,
            actor=csm,
        )


@pytest.mark.parametrize("who", ["other", "leader", "marketing"])
def test_only_the_owner_or_an_admin_may_edit(session, draft, people, who):
    with pytest.raises(Forbidden, match="Only the CSM who owns this draft"):
        service.update_draft(
            session=session,
            draft_id=draft.id,
            subject="S",
            body="B",
            expected_version=1,
            actor=people[who],
        )
