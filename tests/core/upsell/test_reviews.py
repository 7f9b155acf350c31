from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.customers.models import TimelineEvent
from core.errors import Invalid, NotFound
from core.upsell.checkpoints import mark_overdue, trigger_due
from core.upsell.models import CheckpointStatus, MeasurementStatus, ProgressStatus, Review
from core.upsell.reviews import record_review
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of

NOW = f.NOW
TODAY = NOW.date()


@pytest.fixture
def world(session):
    owner = f.csm(session)
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=40),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    trigger_due(session=session, now=NOW)
    return owner, cust, plan


def test_record_review_marks_the_checkpoint_reviewed(session, world):
    owner, cust, plan = world
    review = record_review(
        session=session,
        measurement_id=plan.id,
        checkpoint_day=30,
        assessment="on_track",
        findings="  Savings are half way; the <finance> team is on board.  ",
        next_steps="Train the two regional teams.",
        actor=owner,
    )
    assert session.get(Review, review.id).findings.startswith("Savings are half way")
    assert review.assessment == ProgressStatus.ON_TRACK and review.reviewer_id == owner.id
    cp = checkpoints_of(session, plan)[30]
    assert review.checkpoint_id == cp.id and cp.status == CheckpointStatus.REVIEWED
    line = session.scalar(select(TimelineEvent).where(TimelineEvent.related_id == review.id))
    assert line.customer_id == cust.id and line.kind == "upsell_review"
    assert line.title == "30-day check recorded: on track"
    assert line.body.endswith("Next steps: Train the two regional teams.")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "upsell.review"))
    assert entry.entity_id == str(plan.id) and entry.actor_user_id == owner.id
    assert entry.changes["checkpoint_status"] == ["triggered", "reviewed"]
    # A reviewed checkpoint never becomes overdue.
    mark_overdue(session=session, now=NOW + timedelta(days=30))
    assert checkpoints_of(session, plan)[30].status == CheckpointStatus.REVIEWED


def test_a_review_between_checkpoints(session, world):
    owner, _, plan = world
    review = record_review(
        session=session,
        measurement_id=plan.id,
        assessment="at_risk",
        findings="Champion left.",
        actor=owner,
    )
    assert review.checkpoint_id is None and review.next_steps is None
    assert checkpoints_of(session, plan)[30].status == CheckpointStatus.TRIGGERED


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"findings": "   "}, Invalid, "findings are required"),
        ({"assessment": "great"}, Invalid, "Unknown assessment"),
        ({"checkpoint_day": 45}, Invalid, "no day-45 checkpoint"),
    ],
)
def test_record_review_rejects_bad_input(session, world, kwargs, error, message):
    owner, _, plan = world
    args = {"assessment": "on_track", "findings": "Fine.", **kwargs}
    with pytest.raises(error, match=message):
        record_review(session=session, measurement_id=plan.id, actor=owner, **args)


def test_record_review_needs_a_live_plan(session, world):
    owner, cust, plan = world
    with pytest.raises(NotFound):
        record_review(
            session=session,
            measurement_id=cust.id,
            assessment="on_track",
            findings="x",
            actor=owner,
        )
    plan.status = MeasurementStatus.CANCELLED
    session.flush()
    with pytest.raises(Invalid, match="cancelled"):
        record_review(
            session=session,
            measurement_id=plan.id,
            assessment="on_track",
            findings="x",
            actor=owner,
        )


def test_a_review_needs_an_assessment(session, world):
    owner, _, plan = world
    with pytest.raises(Invalid, match="^assessment: choose how the plan is doing"):
        record_review(
            session=session,
            measurement_id=plan.id,
            assessment=None,
            findings="Fine.",
            actor=owner,
        )
