from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.customers.models import Contact, TimelineEvent
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.integrations.gcalendar import calendar_event_id
from core.outbox.models import Channel
from core.outbox.service import claim, mark_sent
from core.upsell.checkpoints import mark_overdue, meeting_start, trigger_due
from core.upsell.models import CheckpointStatus
from core.upsell.progress import record_manual_values, update_progress
from core.upsell.queries import overdue_checkpoints
from core.upsell.reviews import checkpoint_title
from jobs.outbox import SENT_HANDLERS
from tests import factories as f
from tests.core.upsell.scenarios import CONTACTS, checkpoints_of, deliveries, metrics_of

NOW = f.NOW
TODAY = NOW.date()


@pytest.fixture
def owner(session):
    return f.csm(session)


def _day30_plan(session, owner):
    cust = f.customer(session, owner=owner, name="Northwind <Logistics>", contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=30),
        metrics=[
            f.auto("Active users", "tr_cp_users", 100, 300),
            f.manual("Hours saved", 0, 100),
        ],
    )
    f.observe_days(
        session,
        cust,
        "tr_cp_users",
        TODAY - timedelta(days=40),
        TODAY,
        lambda i: 100 if i < 18 else 140,
    )
    update_progress(session=session, now=NOW)
    return cust, plan


def _counts(session):
    drafts = session.scalar(select(func.count()).select_from(Draft))
    return len(deliveries(session)), drafts


def test_titles():
    assert [checkpoint_title(d) for d in (30, 60, 90, 45, 180)] == [
        "30-day check",
        "60-day adoption review",
        "90-day value assessment",
        "45-day review",
        "180-day review",
    ]


@pytest.mark.parametrize(
    ("day", "meeting"),
    [
        (date(2026, 11, 20), 24),
        (date(2026, 11, 19), 23),
        (date(2026, 11, 16), 18),
        (date(2026, 11, 21), 24),
    ],
)
def test_meeting_is_two_business_days_later_at_15_utc(day, meeting):
    assert meeting_start(day) == datetime(2026, 11, meeting, 15, tzinfo=UTC)


def test_trigger_due_documents_schedules_and_drafts_once(session, owner):
    cust, plan = _day30_plan(session, owner)
    assert trigger_due(session=session, now=NOW) == {
        "checkpoints_triggered": 1,
        "checkpoints_caught_up": 0,
        "checkpoints_skipped": 0,
    }
    cps = checkpoints_of(session, plan)
    cp = cps[30]
    assert cp.status == CheckpointStatus.TRIGGERED and cp.triggered_at == NOW
    assert cp.review_due_on == TODAY + timedelta(days=7)
    assert cps[60].status == CheckpointStatus.SCHEDULED

    summary = cp.summary
    assert summary["title"] == "30-day check" and summary["status"] == "at_risk"
    assert summary["prepared_on"] == summary["as_of"] == TODAY.isoformat()
    assert "caught_up" not in summary  # prepared on its own day
    users = summary["metrics"][0]
    assert users["current"] == "140" and users["progress"] == 0.2
    assert users["expected"] == pytest.approx(0.3333)
    assert users["trend"] == {"from": "100", "to": "140", "change": "40", "direction": "improving"}
    assert "Active users is 20% of the way to target; 33% was expected by now." in summary["risks"]
    assert "Hours saved has no value yet." in summary["risks"]
    assert summary["actions"][:2] == [
        "Ask the customer for a current value of Hours saved.",
        "Run an enablement session with the teams not yet using Analytics Pro to lift "
        "Active users.",
    ]

    [doc] = deliveries(session, Channel.GOOGLE_DOC)
    assert doc.idempotency_key == f"checkpoint:{cp.id}:doc" and doc.related_id == cp.id
    assert doc.payload["recordId"] == str(cp.id)
    assert doc.payload["title"] == "30-day check — Northwind <Logistics>: Analytics expansion"
    [table] = [b for b in doc.payload["blocks"] if b["kind"] == "table"]
    assert table["rows"][1] == [
        "Active users (units)",
        "100",
        "300",
        "140",
        "20%",
        "33%",
        "improving",
    ]

    [event] = deliveries(session, Channel.CALENDAR)
    contacts = sorted(cust_contacts(session, cust), key=lambda c: not c.is_primary)
    assert event.payload == event.payload | {
        "organizer": owner.email,
        "eventId": calendar_event_id(cp.id),
        "start": "2026-11-24T15:00:00+00:00",
        "end": "2026-11-24T15:30:00+00:00",
        "attendees": [c.email for c in contacts],
    }

    draft = session.scalar(select(Draft).where(Draft.related_id == cp.id))
    assert draft.kind == DraftKind.REVIEW_SUMMARY and draft.status == DraftStatus.PENDING
    assert draft.owner_id == owner.id and draft.to_addresses == [c.email for c in contacts]
    assert draft.subject == "Northwind <Logistics>: day 30 review of Analytics Pro"
    assert "- Active users: 140 units against a target of 300 (20% of the way)" in draft.body

    before = _counts(session)
    assert trigger_due(session=session, now=NOW)["checkpoints_triggered"] == 0
    assert trigger_due(session=session, now=NOW + timedelta(days=1))["checkpoints_triggered"] == 0
    assert _counts(session) == before


def cust_contacts(session, cust):
    return list(session.scalars(select(Contact).where(Contact.customer_id == cust.id)))


def test_without_a_csm_there_is_no_meeting(session):
    cust = f.customer(session, owner=None, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=31),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    trigger_due(session=session, now=NOW)
    assert deliveries(session, Channel.CALENDAR) == []
    assert len(deliveries(session, Channel.GOOGLE_DOC)) == 1
    cp = checkpoints_of(session, plan)[30]
    assert any("no review meeting" in n for n in cp.summary["notes"])
    draft = session.scalar(select(Draft).where(Draft.related_id == cp.id))
    assert draft.owner_id is None and draft.to_addresses  # admins approve it


def test_a_review_is_overdue_seven_days_after_the_checkpoint_was_prepared(session, owner):
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    on_time = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=30),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    other = f.customer(session, owner=f.csm(session), contacts=CONTACTS)
    backlog = f.plan(
        session,
        other,
        started_on=TODAY - timedelta(days=67),
        metrics=[f.manual("Savings", 0, 10)],
    )
    assert trigger_due(session=session, now=NOW)["checkpoints_triggered"] == 3
    # Caught up 37 and 7 days late: the review is due a week from today, not already overdue.
    assert mark_overdue(session=session, now=NOW) == {"checkpoints_overdue": 0}
    cps = checkpoints_of(session, backlog)
    assert cps[30].status == CheckpointStatus.SKIPPED  # the day-60 review replaces it
    assert cps[60].review_due_on == TODAY + timedelta(days=7)
    assert mark_overdue(session=session, now=NOW + timedelta(days=7)) == {"checkpoints_overdue": 0}
    assert mark_overdue(session=session, now=NOW + timedelta(days=8)) == {"checkpoints_overdue": 2}
    assert checkpoints_of(session, backlog)[60].status == CheckpointStatus.OVERDUE
    assert checkpoints_of(session, on_time)[30].status == CheckpointStatus.OVERDUE
    mine = overdue_checkpoints(session=session, csm_id=owner.id, now=NOW + timedelta(days=10))
    assert [(o.measurement_id, o.day, o.overdue_since, o.days_overdue, o.title) for o in mine] == [
        (on_time.id, 30, TODAY + timedelta(days=7), 3, "30-day check")
    ]
    assert mine[0].customer_name == cust.name and mine[0].csm_name == owner.name
    assert len(overdue_checkpoints(session=session, now=NOW)) == 2
    assert mark_overdue(session=session, now=NOW + timedelta(days=9)) == {"checkpoints_overdue": 0}


def test_a_later_checkpoint_skips_an_earlier_one_still_waiting_for_its_review(session, owner):
    cust = f.customer(session, owner=owner, contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=TODAY - timedelta(days=30),
        metrics=[f.manual("Savings", 0, 10, 5)],
    )
    trigger_due(session=session, now=NOW)
    mark_overdue(session=session, now=NOW + timedelta(days=20))
    assert checkpoints_of(session, plan)[30].status == CheckpointStatus.OVERDUE
    counts = trigger_due(session=session, now=NOW + timedelta(days=30))
    assert counts == {
        "checkpoints_triggered": 1,
        "checkpoints_caught_up": 0,
        "checkpoints_skipped": 1,
    }
    cps = checkpoints_of(session, plan)
    assert (cps[30].status, cps[60].status) == (
        CheckpointStatus.SKIPPED,
        CheckpointStatus.TRIGGERED,
    )


def test_late_checkpoint_summarizing_its_own_day(session, owner):
    """A first run on day 125: days 30 and 60 are caught up, each from its own day's data."""
    start = TODAY - timedelta(days=125)
    cust = f.customer(session, owner=owner, name="Contoso", contacts=CONTACTS)
    plan = f.plan(
        session,
        cust,
        started_on=start,
        days=(30, 60, 180),
        metrics=[
            f.auto("Active users", "tr_cp_late", 0, 200),
            f.manual("Hours saved", 0, 100),
        ],
    )
    # One more active user every day since the close: 30 on day 30, 60 on day 60, 125 today.
    f.observe_days(
        session, cust, "tr_cp_late", start - timedelta(days=10), TODAY, lambda i: max(0, i - 10)
    )
    hours = metrics_of(session, plan)["Hours saved"]
    for day, value in ((20, 5), (40, 7), (100, 9)):
        at = datetime.combine(start + timedelta(days=day), datetime.min.time(), tzinfo=UTC)
        record_manual_values(
            session=session,
            measurement_id=plan.id,
            values={hours.name: value},
            actor=owner,
            observed_at=at + timedelta(hours=12),
        )
    update_progress(session=session, now=NOW)  # today's status, which the summaries must not use

    counts = trigger_due(session=session, now=NOW)
    assert counts == {
        "checkpoints_triggered": 2,
        "checkpoints_caught_up": 2,
        "checkpoints_skipped": 1,
    }
    cps = checkpoints_of(session, plan)
    day30, day60 = cps[30].summary, cps[60].summary
    assert day60["caught_up"] == "Day 60 check, prepared on day 125 from data up to day 60."
    assert day30["caught_up"] == "Day 30 check, prepared on day 125 from data up to day 30."
    assert (day30["as_of"], day60["as_of"]) == (
        (start + timedelta(days=30)).isoformat(),
        (start + timedelta(days=60)).isoformat(),
    )
    assert (day30["days_since_start"], day60["days_since_start"]) == (30, 60)
    assert day60["prepared_on"] == TODAY.isoformat() and day60["prepared_day"] == 125
    users30, hours30 = day30["metrics"]
    users60, hours60 = day60["metrics"]
    # The 7-day averages ending on each day, not today's 122.
    assert (users30["current"], users60["current"]) == ("27", "57")
    assert users60["trend"]["from"] == "27" and users60["trend"]["direction"] == "improving"
    assert (hours30["current"], hours60["current"]) == ("5", "7")  # not the day-100 value 9
    assert users60["expected"] == pytest.approx(60 / 180, abs=1e-4)
    assert users60["progress"] == pytest.approx(57 / 200, abs=1e-4)
    assert day60["status"] == "at_risk" and day60["average_progress"] == pytest.approx(
        (57 / 200 + 0.07) / 2, abs=1e-4
    )
    # Only the latest caught-up checkpoint books a meeting and drafts the customer summary.
    [meeting] = deliveries(session, Channel.CALENDAR)
    assert meeting.related_id == cps[60].id
    assert meeting.payload["description"].startswith(
        "Day 60 check, prepared on day 125 from data up to day 60. Analytics Pro: at risk, "
        "day 60 of a 180-day plan."
    )
    drafts = list(session.scalars(select(Draft).where(Draft.related_type == "checkpoint")))
    assert [d.related_id for d in drafts] == [cps[60].id]
    assert "prepared on day 125 from data up to day 60" in drafts[0].body
    assert any("together with the day-60 checkpoint" in n for n in day30["notes"])
    assert len(deliveries(session, Channel.GOOGLE_DOC)) == 2  # both kept for the record
    assert (cps[30].status, cps[60].status) == (
        CheckpointStatus.SKIPPED,
        CheckpointStatus.TRIGGERED,
    )
    assert cps[180].status == CheckpointStatus.SCHEDULED


def test_on_sent_stores_the_doc_url_and_event_id(session, owner):
    _, plan = _day30_plan(session, owner)
    trigger_due(session=session, now=NOW)
    [doc] = deliveries(session, Channel.GOOGLE_DOC)
    [event] = deliveries(session, Channel.CALENDAR)
    claim(session=session, worker="test", limit=10)  # only the row's claimant records it sent
    mark_sent(
        session=session,
        delivery=doc,
        external_ref="https://docs.google.com/d/abc",
        on_sent=SENT_HANDLERS,
    )
    mark_sent(
        session=session,
        delivery=event,
        external_ref=event.payload["eventId"],
        on_sent=SENT_HANDLERS,
    )
    cp = checkpoints_of(session, plan)[30]
    assert cp.doc_url == "https://docs.google.com/d/abc"
    assert cp.calendar_event_id == calendar_event_id(cp.id)


def test_trigger_adds_a_timeline_line(session, owner):
    cust, plan = _day30_plan(session, owner)
    trigger_due(session=session, now=NOW)
    line = session.scalar(select(TimelineEvent).where(TimelineEvent.customer_id == cust.id))
    assert line.kind == "checkpoint_triggered"
    assert line.title == "30-day check for Analytics expansion"
