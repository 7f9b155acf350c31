"""Feedback: survey responses once per source id, quotes CSMs log, and quotes reaching records."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.audit.models import AuditEntry
from core.base import Consent, Direction
from core.customers.feedback import list_feedback, log_quote, quotable, record_feedback
from core.customers.models import Feedback, FeedbackKind
from core.customers.schemas import FeedbackIn, QuoteIn
from core.documentation.service import document_pending
from core.errors import Conflict, Invalid, NotFound
from core.goals.detection import detect
from core.goals.models import Achievement
from core.records.facts import stored_facts
from core.records.models import SuccessRecord
from tests import factories as f

ACTOR = "api:survey"
NOW = datetime.now(UTC)
WORDS = "The new routing rules cut our first response time in half within a month."


def survey(**changes) -> FeedbackIn:
    values = {
        "sourceId": "resp-1",
        "kind": "nps",
        "score": 9,
        "comment": WORDS,
        "respondent": {"name": "Dana Ortiz", "title": "VP Support", "email": "dana@acme.example"},
        "respondedAt": (NOW - timedelta(days=2)).isoformat(),
    }
    return FeedbackIn.model_validate(values | changes)


def quote(**changes) -> QuoteIn:
    values = {
        "quote": WORDS,
        "respondentName": "Lee Park",
        "respondentTitle": "Head of Operations",
        "saidOn": (NOW - timedelta(days=1)).date().isoformat(),
    }
    return QuoteIn.model_validate(values | changes)


@pytest.fixture
def acme(session):
    return f.customer(session, name="Acme", external_id="acme")


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Feedback))


def test_a_response_is_recorded_once_and_a_correction_updates_it(session, acme):
    first, created = record_feedback(
        session=session, customer_ref="acme", body=survey(), actor=ACTOR
    )
    assert created and (first.kind, first.score, first.source) == ("nps", 9, "api")
    assert first.quotable
    same, created = record_feedback(
        session=session, customer_ref="acme", body=survey(), actor=ACTOR
    )
    assert not created and same.id == first.id and count(session) == 1
    fixed, created = record_feedback(
        session=session, customer_ref="acme", body=survey(score=6), actor=ACTOR
    )
    assert not created and fixed.id == first.id and fixed.score == 6
    assert not fixed.quotable  # a detractor's words are not quoted
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(first.id))
    ).all()
    assert sorted(actions) == ["customer.feedback.created", "customer.feedback.updated"]


def test_a_source_id_of_another_customer_is_a_conflict(session, acme):
    f.customer(session, name="Globex", external_id="globex")
    record_feedback(session=session, customer_ref="acme", body=survey(), actor=ACTOR)
    with pytest.raises(Conflict, match="^sourceId: 'resp-1' is already recorded for Acme"):
        record_feedback(session=session, customer_ref="globex", body=survey(), actor=ACTOR)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "ces"}, "kind: must be one of nps"),
        ({"kind": "csat", "score": 9}, "score: CSAT is scored from 1 to 5, not 9"),
        ({"kind": "csat", "score": 0}, "score: CSAT is scored from 1 to 5, not 0"),
    ],
)
def test_the_score_must_fit_its_kind(session, acme, changes, message):
    with pytest.raises(Invalid, match=f"^{re.escape(message)}"):
        record_feedback(session=session, customer_ref="acme", body=survey(**changes), actor=ACTOR)


def test_the_database_holds_each_kind_to_its_scale(session, acme):
    with pytest.raises(IntegrityError), session.begin_nested():
        f.feedback(session, acme, kind=FeedbackKind.CSAT, score=9)
    with pytest.raises(IntegrityError), session.begin_nested():
        f.feedback(session, acme, kind=FeedbackKind.NPS, score=None)


def test_a_response_in_the_future_is_refused():
    with pytest.raises(ValueError, match="must not be in the future"):
        survey(respondedAt=(NOW + timedelta(hours=1)).isoformat())


def test_the_respondent_is_linked_to_the_contact_with_that_email(session, acme):
    dana = f.contact(session, acme, "Dana Ortiz", email="dana@acme.example", title="VP Support")
    said, _ = record_feedback(
        session=session,
        customer_ref="acme",
        body=survey(respondent={"email": "DANA@acme.example"}),
        actor=ACTOR,
    )
    assert said.respondent.contact_id == dana.id
    assert (said.respondent.name, said.respondent.title) == ("Dana Ortiz", "VP Support")
    unknown, _ = record_feedback(
        session=session,
        customer_ref="acme",
        body=survey(sourceId="resp-2", respondent={"email": "new@acme.example"}),
        actor=ACTOR,
    )
    assert unknown.respondent.contact_id is None
    assert unknown.respondent.email == "new@acme.example"


def test_a_csm_logs_a_quote_without_a_score(session, acme):
    casey = f.csm(session)
    lee = f.contact(session, acme, "Lee Park", email="lee@acme.example")
    logged = log_quote(session=session, customer_id=acme.id, body=quote(), actor_id=casey.id)
    assert (logged.kind, logged.score, logged.source) == ("quote", None, "call")
    assert logged.respondent.contact_id == lee.id  # the only contact of that name
    assert logged.quotable
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(logged.id)))
    assert entry.action == "customer.feedback.logged" and entry.actor_user_id == casey.id
    page = list_feedback(session=session, customer_id=acme.id)
    assert page.total == 1 and page.items[0].comment == WORDS


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quote": "Great product!"}, "quote: must be at least 30 characters"),
        ({"kind": "nps"}, "score: give the NPS score (0-10)"),
        ({"score": 9}, "kind: say whether the score is NPS (0-10) or CSAT (1-5)"),
        ({"kind": "csat", "score": 7}, "score: CSAT is scored from 1 to 5, not 7"),
        ({"saidOn": (NOW + timedelta(days=2)).date().isoformat()}, "saidOn: must not be in"),
    ],
)
def test_a_quote_breaking_a_rule_names_the_field(session, acme, changes, message):
    casey = f.csm(session)
    with pytest.raises(Invalid, match=f"^{re.escape(message)}"):
        log_quote(session=session, customer_id=acme.id, body=quote(**changes), actor_id=casey.id)
    assert count(session) == 0


def test_a_quote_with_a_score_keeps_its_kind(session, acme):
    casey = f.csm(session)
    logged = log_quote(
        session=session,
        customer_id=acme.id,
        body=quote(kind="csat", score=5),
        actor_id=casey.id,
    )
    assert (logged.kind, logged.score, logged.source) == ("csat", 5, "call")


def test_unknown_customer_is_not_found(session):
    with pytest.raises(NotFound):
        record_feedback(session=session, customer_ref="nobody", body=survey(), actor=ACTOR)


@pytest.mark.parametrize(
    ("kind", "score", "words", "expected"),
    [
        ("nps", 9, WORDS, True),
        ("nps", 8, WORDS, False),
        ("csat", 4, WORDS, True),
        ("csat", 3, WORDS, False),
        ("quote", None, WORDS, True),
        ("quote", None, "Too short to quote.", False),
    ],
)
def test_what_may_be_quoted(kind, score, words, expected):
    assert quotable(kind, score, words) is expected


RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]


def test_a_logged_quote_reaches_the_success_record_first(session):
    """Record feedback, log a quote, document a win: the record quotes both, the logged first."""
    owner = f.csm(session, email="casey@outcomes.example")
    cust = f.customer(
        session,
        owner=owner,
        name="Acme Health",
        external_id="acme-health",
        consent=Consent.FULL_PUBLIC,
        customer_since=date(2023, 2, 1),
    )
    for n in range(3):  # three strong survey comments: before, a new quote could be crowded out
        f.feedback(
            session,
            cust,
            when=f.NOW - timedelta(days=30 + n),
            score=10,
            comment="Outstanding service, every single week, across all of our regions. " * 3,
        )
    record_feedback(
        session=session,
        customer_ref="acme-health",
        body=survey(respondedAt=(f.NOW - timedelta(days=10)).isoformat()),
        actor=ACTOR,
    )
    said = "Our agents finally trust the queue; nobody cherry-picks tickets any more."
    log_quote(
        session=session,
        customer_id=cust.id,
        body=quote(quote=said, saidOn=(f.NOW - timedelta(days=5)).date().isoformat()),
        actor_id=owner.id,
        now=f.NOW,
    )
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name="Grow weekly active users to 55",
    )
    f.observe(session, cust, "weekly_active_users", RISING)
    detect(session=session, now=f.NOW)
    assert document_pending(session=session, now=f.NOW) == {"documented": 1}

    achievement = session.scalar(select(Achievement).where(Achievement.goal_id == goal.id))
    record = session.scalar(
        select(SuccessRecord).where(SuccessRecord.achievement_id == achievement.id)
    )
    quotes = stored_facts(record.sections).quotes
    assert [(q.text, q.name, q.title, q.score) for q in quotes[:1]] == [
        (said, "Lee Park", "Head of Operations", None)
    ]
    assert len(quotes) == 3
    assert "“Our agents finally trust the queue" in record.markdown  # Markdown-escaped text
    assert "— Lee Park, Head of Operations" in record.markdown
