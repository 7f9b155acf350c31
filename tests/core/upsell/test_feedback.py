"""The 60-day feedback ask: one per plan, through the approval queue, answers linked back."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.customers.models import Contact, FeedbackKind
from core.drafts import service as drafts
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.outbox.models import Channel
from core.upsell import feedback
from core.upsell.queries import plan_detail
from jobs.upsell_tracking import upsell_tracking
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, deliveries

NOW = f.NOW
TODAY = NOW.date()


@pytest.fixture
def owner(session):
    return f.csm(session, name="Casey Rivera")


def plan_at(session, cust, day: int, **kwargs):
    return f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=day),
        metrics=[f.manual("Hours saved", 0, 100, 20)],
        **kwargs,
    )


def asks(session) -> list[Draft]:
    stmt = select(Draft).where(Draft.kind == DraftKind.FEEDBACK_REQUEST).order_by(Draft.created_at)
    return list(session.scalars(stmt))


def answer(session, cust, at, score=4, kind=FeedbackKind.CSAT, comment="Much faster now"):
    return f.feedback(
        session,
        cust,
        when=at,
        score=score,
        kind=kind,
        comment=comment,
        respondent_name="Lee Chen",
        respondent_title="VP Operations",
    )


def test_one_ask_per_plan_on_day_60_to_the_primary_contact(session, owner):
    cust = f.customer(session, owner=owner, name="Northwind Freight", contacts=CONTACTS)
    primary = session.scalar(
        select(Contact).where(Contact.customer_id == cust.id, Contact.is_primary)
    )
    day_60 = plan_at(session, cust, 60)
    plan_at(session, cust, 59, name="Too early")
    plan_at(session, cust, 91, name="Past its horizon")
    plan_at(session, f.customer(session, owner=owner, contacts=()), 70, name="Nobody to ask")

    assert feedback.ask_due(session=session, now=NOW) == {"feedback_asks": 1}
    [draft] = asks(session)
    assert (draft.related_type, draft.related_id) == ("measurement", day_60.id)
    assert draft.status == DraftStatus.PENDING and draft.owner_id == owner.id
    assert draft.to_addresses == [primary.email]
    assert draft.subject == "Northwind Freight: how is Analytics Pro working for you?"
    assert draft.body.startswith("Hi Lee,\n\nIt has been 60 days since your team started with")
    assert "On a scale of 1 to 5" in draft.body and draft.body.rstrip().endswith("Casey Rivera")

    # However often the pass runs, and days later: still one ask.
    assert feedback.ask_due(session=session, now=NOW) == {"feedback_asks": 0}
    assert feedback.ask_due(session=session, now=NOW + timedelta(days=5)) == {"feedback_asks": 1}
    assert [d.related_id for d in asks(session)].count(day_60.id) == 1


def test_answers_count_from_the_approved_ask_and_the_assessment_can_cite_them(session, owner):
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = plan_at(session, cust, 62)
    answer(session, cust, NOW - timedelta(days=1), score=2, comment="Before the ask")
    feedback.ask_due(session=session, now=NOW)
    [draft] = asks(session)
    pending = plan_detail(session=session, measurement_id=plan.id, now=NOW).feedback
    assert pending.status_label == "Drafted, waiting for the CSM's approval"
    assert pending.answers == [] and pending.lines == []

    drafts.approve(
        session=session, draft_id=draft.id, expected_version=draft.version, actor=f.actor(owner)
    )
    [email] = deliveries(session, Channel.GMAIL)
    assert email.related_id == draft.id and email.payload["to"] == draft.to_addresses
    sent_at = session.get(Draft, draft.id).decided_at
    answer(session, cust, sent_at + timedelta(hours=3))
    answer(session, cust, sent_at + timedelta(days=61), comment="Too late to be an answer")
    answer(
        session, f.customer(session, owner=owner, contacts=CONTACTS), sent_at + timedelta(hours=1)
    )

    view = plan_detail(session=session, measurement_id=plan.id, now=NOW).feedback
    assert view.status_label == "Approved, being sent" and view.sent_at == sent_at
    assert [(a.score, a.comment) for a in view.answers] == [(4, "Much faster now")]
    day = (sent_at + timedelta(hours=3)).date().isoformat()
    assert view.lines == [
        f"Customer feedback: CSAT 4 of 5 from Lee Chen (VP Operations) on {day}: “Much faster now”"
    ]
    ask = feedback.asks(session=session, measurement_ids=[plan.id])[plan.id]
    assert feedback.feedback_lines(ask) == view.lines


def test_a_rejected_ask_has_no_answers(session, owner):
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = plan_at(session, cust, 60)
    feedback.ask_due(session=session, now=NOW)
    [draft] = asks(session)
    drafts.reject(
        session=session,
        draft_id=draft.id,
        reason="We just spoke at length",
        expected_version=draft.version,
        actor=f.actor(owner),
    )
    answer(session, cust, NOW + timedelta(days=1), kind=FeedbackKind.NPS, score=9)
    view = plan_detail(session=session, measurement_id=plan.id, now=NOW).feedback
    assert view.answers == [] and view.status_label == "Not sent: the draft was rejected"
    assert view.lines == ["The 60-day feedback request was not sent."]
    assert feedback.ask_due(session=session, now=NOW) == {"feedback_asks": 0}  # not asked again


def test_the_tracking_job_drafts_the_ask(session, owner):
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = plan_at(session, cust, 60)
    never = plan_at(session, cust, 30, name="Day 30")
    assert upsell_tracking(session=session, now=NOW)["feedback_asks"] == 1
    assert upsell_tracking(session=session, now=NOW)["feedback_asks"] == 0
    assert [d.related_id for d in asks(session)] == [plan.id]
    assert plan_detail(session=session, measurement_id=never.id, now=NOW).feedback is None
