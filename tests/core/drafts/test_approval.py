"""Approving, rejecting and bulk-approving drafts; the outbox email and the sent callback."""

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.customers.models import TimelineEvent
from core.drafts import service
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.errors import Conflict, Forbidden, Invalid
from core.outbox import service as outbox
from core.outbox.models import Channel, Delivery, DeliveryStatus
from jobs.outbox import SENT_HANDLERS
from tests import factories as f


def deliveries(session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.created_at)))


def test_approve_queues_one_gmail_delivery_with_the_edited_text(session, draft, people):
    csm = people["csm"]
    approved = service.approve(
        session=session,
        draft_id=draft.id,
        expected_version=1,
        actor=csm,
        subject="Congratulations, Acme",
        body="Hi Pat,\n\nEdited by Casey.",
    )
    assert approved.status == DraftStatus.APPROVED and approved.decided_by_id == csm.id
    [delivery] = deliveries(session)
    assert delivery.channel == Channel.GMAIL and delivery.status == DeliveryStatus.PENDING
    assert delivery.idempotency_key == f"draft:{draft.id}:gmail"
    assert (delivery.related_type, delivery.related_id) == ("draft", draft.id)
    assert delivery.payload == {
        "sender": csm.email,
        "to": ["pat@acme.example"],
        "subject": "Congratulations, Acme",
        "text": "Hi Pat,\n\nEdited by Casey.",
    }
    event = session.scalar(select(TimelineEvent).where(TimelineEvent.related_id == draft.id))
    assert event.title == "Customer email approved by Casey" and event.actor_user_id == csm.id
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"draft.update", "draft.approve"} <= actions


def test_the_delivery_belongs_to_the_approval_transaction(session, draft, people):
    with pytest.raises(RuntimeError), session.begin_nested():
        service.approve(session=session, draft_id=draft.id, expected_version=1, actor=people["csm"])
        assert len(deliveries(session)) == 1
        raise RuntimeError("the page failed after approving")
    assert deliveries(session) == []
    session.expire_all()
    assert session.get(Draft, draft.id).status == DraftStatus.PENDING


def test_an_admin_approves_on_behalf_and_the_email_comes_from_the_owner(session, draft, people):
    service.approve(session=session, draft_id=draft.id, expected_version=1, actor=people["admin"])
    [delivery] = deliveries(session)
    assert delivery.payload["sender"] == people["csm"].email


@pytest.mark.parametrize("who", ["other", "leader", "marketing"])
def test_only_the_owner_or_an_admin_may_approve_or_reject(session, draft, people, who):
    with pytest.raises(Forbidden):
        service.approve(session=session, draft_id=draft.id, expected_version=1, actor=people[who])
    with pytest.raises(Forbidden):
        service.reject(
            session=session, draft_id=draft.id, reason="no", expected_version=1, actor=people[who]
        )
    assert deliveries(session) == []


def test_approving_twice_or_a_stale_version_is_a_conflict(session, draft, people):
    csm = people["csm"]
    with pytest.raises(Conflict, match="Someone else saved"):
        service.approve(session=session, draft_id=draft.id, expected_version=7, actor=csm)
    service.approve(session=session, draft_id=draft.id, expected_version=1, actor=csm)
    with pytest.raises(Conflict, match="already approved"):
        service.approve(session=session, draft_id=draft.id, expected_version=2, actor=csm)
    assert len(deliveries(session)) == 1


def test_reject_needs_a_reason_and_sends_nothing(session, draft, people):
    csm = people["csm"]
    for reason in ("", "   "):
        with pytest.raises(Invalid, match="reason"):
            service.reject(
                session=session, draft_id=draft.id, reason=reason, expected_version=1, actor=csm
            )
    rejected = service.reject(
        session=session,
        draft_id=draft.id,
        reason=" Goal not confirmed ",
        expected_version=1,
        actor=csm,
    )
    assert (rejected.status, rejected.rejected_reason) == (
        DraftStatus.REJECTED,
        "Goal not confirmed",
    )
    assert deliveries(session) == []
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "draft.reject"))
    assert entry.changes == {"status": ["pending", "rejected"], "reason": "Goal not confirmed"}
    with pytest.raises(Conflict, match="already rejected"):
        service.approve(session=session, draft_id=draft.id, expected_version=2, actor=csm)


def test_review_summaries_are_approved_without_an_email_unless_addressed(session, customer, people):
    csm = people["csm"]
    internal = f.draft(session, customer, csm, kind=DraftKind.REVIEW_SUMMARY, to=())
    service.approve(session=session, draft_id=internal.id, expected_version=1, actor=csm)
    assert internal.status == DraftStatus.APPROVED and deliveries(session) == []
    addressed = f.draft(session, customer, csm, kind=DraftKind.REVIEW_SUMMARY, to=(csm.email,))
    service.approve(session=session, draft_id=addressed.id, expected_version=1, actor=csm)
    [delivery] = deliveries(session)
    assert delivery.payload["to"] == [csm.email]


def test_an_email_without_recipients_cannot_be_approved(session, customer, people):
    draft = f.draft(session, customer, people["csm"], to=())
    with pytest.raises(Invalid, match="no recipients"):
        service.approve(session=session, draft_id=draft.id, expected_version=1, actor=people["csm"])


def test_bulk_approve_is_all_or_nothing(session, people):
    csm = people["csm"]
    drafts = [
        f.draft(session, f.customer(session, owner=csm, name=f"Bulk{i}"), csm) for i in range(3)
    ]
    seen = {d.id: d.version for d in drafts}
    service.update_draft(
        session=session,
        draft_id=drafts[1].id,
        subject="Changed",
        body="Changed by an admin",
        expected_version=1,
        actor=people["admin"],
    )
    with pytest.raises(Conflict) as err:
        service.bulk_approve(
            session=session, draft_ids=list(seen), actor=csm, expected_versions=seen
        )
    assert "Bulk1" in str(err.value) and "Changed" in str(err.value)
    assert "Nothing was approved" in str(err.value)
    assert deliveries(session) == []
    session.expire_all()
    assert {session.get(Draft, d.id).status for d in drafts} == {DraftStatus.PENDING}

    result = service.bulk_approve(session=session, draft_ids=list(seen), actor=csm)
    assert (result.approved, result.emails_queued) == (3, 3)
    assert len(deliveries(session)) == 3


def test_bulk_approve_refuses_drafts_the_actor_may_not_approve(session, people):
    mine = f.draft(session, f.customer(session, owner=people["csm"], name="Acme"), people["csm"])
    theirs = f.draft(
        session, f.customer(session, owner=people["other"], name="Globex"), people["other"]
    )
    with pytest.raises(Forbidden, match="Globex"):
        service.bulk_approve(session=session, draft_ids=[mine.id, theirs.id], actor=people["csm"])
    assert deliveries(session) == []
    with pytest.raises(Invalid, match="at least one"):
        service.bulk_approve(session=session, draft_ids=[], actor=people["csm"])


def _claim(session) -> Delivery:
    [claimed] = outbox.claim(session=session, worker="test", limit=1)
    return claimed


def test_sent_callback_marks_the_draft_sent_once(session, draft, people):
    service.approve(session=session, draft_id=draft.id, expected_version=1, actor=people["csm"])
    delivery = _claim(session)
    outbox.mark_sent(
        session=session, delivery=delivery, external_ref="sent-42", on_sent=SENT_HANDLERS
    )
    service.mark_sent(session, draft.id, "sent-42")  # a repeated callback changes nothing
    session.expire_all()
    assert session.get(Draft, draft.id).status == DraftStatus.SENT
    events = session.scalars(select(TimelineEvent.body).where(TimelineEvent.kind == "email_sent"))
    assert [e for e in events] == [
        "Congratulations on faster resolution\nGmail message id: sent-42"
    ]
    [row] = service.list_drafts(session=session, viewer_id=people["csm"].id, viewer_role="csm")
    assert row.status == DraftStatus.SENT and row.delivery_status == "sent"


def test_dead_deliveries_show_the_draft_as_failed_with_the_error(session, draft, people):
    csm = people["csm"]
    service.approve(session=session, draft_id=draft.id, expected_version=1, actor=csm)
    outbox.mark_permanent(session=session, delivery=_claim(session), error="invalidArgument: bad")
    session.expire_all()
    [row] = service.list_drafts(
        session=session, viewer_id=csm.id, viewer_role="csm", status="failed"
    )
    assert (row.status, row.delivery_error) == (DraftStatus.FAILED, "invalidArgument: bad")
    stats = service.approval_stats(session=session, viewer_id=csm.id, viewer_role="csm")
    assert stats["failed"] == 1 and stats["approved"] == 0
    count = select(func.count()).select_from(Draft).where(Draft.status == DraftStatus.FAILED)
    assert session.scalar(count) == 0  # the draft row itself stays approved; the join decides
