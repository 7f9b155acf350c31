"""A detected win is documented, filed, scored, celebrated and drafted in one cycle."""

from datetime import date, timedelta

from sqlalchemy import select

from core.base import Consent, Direction
from core.customers.models import HealthFactor, TimelineEvent
from core.documentation.announce import notify_held
from core.documentation.service import document_pending
from core.drafts.models import Draft
from core.goals.detection import detect
from core.goals.models import Achievement
from core.outbox.models import Delivery
from core.records.models import SuccessRecord
from core.repository.models import RepositoryEntry
from tests import factories as f

RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]


def _win(session, name="Acme Health", values=RISING):
    owner = f.csm(session, email="casey@outcomes.example", slack_user_id="U0CASEY")
    cust = f.customer(
        session,
        owner=owner,
        name=name,
        industry="healthcare",
        consent=Consent.FULL_PUBLIC,
        health=72,
        use_case="Support automation",
        customer_since=date(2023, 2, 1),
    )
    f.contact(
        session, cust, "Dana Ortiz", email="dana@acme.example", title="VP Support", primary=True
    )
    f.feedback(
        session,
        cust,
        when=f.NOW - timedelta(days=20),
        score=10,
        comment="The automation rules gave my team back a full day every week.",
        respondent_name="Dana Ortiz",
        respondent_title="VP Support",
    )
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name="Grow weekly active users to 55",
        description="Roll out to every region.",
    )
    f.observe(session, cust, "weekly_active_users", values)
    return cust, goal


def test_a_win_gets_every_artefact_once(session):
    cust, goal = _win(session)
    created = detect(session=session, now=f.NOW)
    assert document_pending(session=session, now=f.NOW) == {"documented": 1}

    achievement = session.scalar(select(Achievement).where(Achievement.goal_id == goal.id))
    record = session.scalar(
        select(SuccessRecord).where(SuccessRecord.achievement_id == achievement.id)
    )
    assert record.title == "Acme Health: Grow weekly active users to 55"
    assert "raised weekly active users from 45 users to 58 users" in record.summary
    assert "5% beyond target" in record.summary
    assert "| Days to achieve |" in record.markdown
    assert "The automation rules gave my team back" in record.markdown
    assert record.sections["days_to_achieve"] > 0

    entry = session.scalar(
        select(RepositoryEntry).where(RepositoryEntry.achievement_id == achievement.id)
    )
    assert entry.industry == "healthcare" and entry.consent_level == "full_public"
    assert 0 < achievement.marketing_score <= 100 and achievement.marketing_reasons

    kinds = {d.channel.value: d for d in session.scalars(select(Delivery))}
    assert set(kinds) == {"slack_message", "google_doc"}
    blocks = str(kinds["slack_message"].payload["blocks"])
    assert "<@U0CASEY>" in blocks
    assert kinds["google_doc"].payload["recordId"] == str(record.id)

    draft = session.scalar(select(Draft).where(Draft.related_id == achievement.id))
    assert draft.status == "pending" and draft.to_addresses == ["dana@acme.example"]
    assert "Acme Health" in draft.subject or "Acme Health" in draft.body

    timeline = session.scalars(select(TimelineEvent).where(TimelineEvent.customer_id == cust.id))
    assert [t.kind for t in timeline] == ["goal_achieved"]
    factor = session.scalar(select(HealthFactor).where(HealthFactor.customer_id == cust.id))
    assert factor.factor == "goal_attainment" and factor.score == 100

    assert created and detect(session=session, now=f.NOW + timedelta(minutes=10)) == []
    assert document_pending(session=session, now=f.NOW) == {"documented": 0}


def test_people_text_is_escaped_in_slack(session):
    _win(session, name="Evil <!channel> & Co")
    detect(session=session, now=f.NOW)
    document_pending(session=session, now=f.NOW)
    slack = session.scalar(select(Delivery).where(Delivery.channel == "slack_message"))
    mrkdwn = [
        str(b) for b in slack.payload["blocks"] if b["type"] != "header"
    ]  # header blocks are plain text: Slack never interprets them
    assert not any("<!channel>" in text for text in mrkdwn)
    assert any("&lt;!channel&gt; &amp; Co" in text for text in mrkdwn)


def test_held_win_is_not_documented_but_the_csm_is_asked(session):
    _win(session, values=[*RISING[:-3], 50, 900, 50])
    created = detect(session=session, now=f.NOW)
    assert notify_held(session=session, achievement_ids=created) == 1
    assert document_pending(session=session, now=f.NOW) == {"documented": 0}
    dm = session.scalar(select(Delivery).where(Delivery.channel == "slack_dm"))
    assert dm.payload["email"] == "casey@outcomes.example"
