"""`python -m jobs run-once outbox` with every integration pointed at the local fakes."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from core import db
from core.db import session_scope
from core.integrations import dispatch
from core.outbox import service
from core.outbox.models import Delivery, DeliveryStatus
from core.outbox.worker import deliver_due
from jobs.__main__ import main as jobs_main
from jobs.outbox import SENT_HANDLERS

START = "2026-12-01T15:00:00+00:00"
END = "2026-12-01T15:30:00+00:00"


@pytest.fixture
def wired(scratch_db, fake_slack, fake_google, fake_salesforce, monkeypatch):
    """Settings that point the real clients at the fakes."""
    env = {
        "SLACK_BOT_TOKEN": fake_slack.token,
        "SLACK_API_BASE_URL": fake_slack.api_url,
        "SLACK_WINS_CHANNEL": "#wins",
        "GOOGLE_SERVICE_ACCOUNT_FILE": str(fake_google.service_account_file),
        "GOOGLE_API_BASE_URL": fake_google.base_url,
        "GOOGLE_DRIVE_FOLDER_ID": "folder-1",
        "SALESFORCE_INSTANCE_URL": fake_salesforce.base_url,
        "SALESFORCE_ACCESS_TOKEN": fake_salesforce.access_token,
        "REQUESTS_CA_BUNDLE": str(fake_salesforce.ca_bundle),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    db.reset()
    dispatch.clear_cache()
    yield {"slack": fake_slack, "google": fake_google, "salesforce": fake_salesforce}
    dispatch.clear_cache()


PAYLOADS = {
    "slack_message": {"text": "Acme hit 99.9% uptime <!channel>", "blocks": []},
    "slack_dm": {"email": "casey@example.com", "text": "Plan at risk", "blocks": []},
    "gmail": {
        "sender": "casey@outcomes.example",
        "to": ["ops@acme.example"],
        "subject": "Congratulations on 99.9% uptime",
        "text": "Well done & thank you.",
    },
    "google_doc": {
        "recordId": "rec-1",
        "title": "Acme success record",
        "blocks": [
            {"kind": "heading", "text": "Result"},
            {"kind": "paragraph", "text": "<b>x</b>"},
        ],
    },
    "calendar": {
        "organizer": "casey@outcomes.example",
        "eventId": "abc12345",
        "summary": "30-day review",
        "start": START,
        "end": END,
        "attendees": ["ops@acme.example"],
    },
    "salesforce": {"accountId": "001000000000001AAA", "value": 82.5},
}


def _enqueue_all(prefix="e"):
    with session_scope() as session:
        for channel, payload in PAYLOADS.items():
            service.enqueue(
                session=session, channel=channel, payload=payload, idempotency_key=prefix + channel
            )


def _by_channel():
    with session_scope() as session:
        return {d.channel.value: d for d in session.scalars(select(Delivery))}


def _make_due():
    with session_scope() as session:
        session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))


def test_run_once_delivers_every_channel_exactly_once(wired, capsys):
    _enqueue_all()
    assert jobs_main(["run-once", "outbox"]) == 0
    rows = _by_channel()
    assert {c: d.status for c, d in rows.items()} == {c: DeliveryStatus.SENT for c in PAYLOADS}
    slack, google, sf = wired["slack"], wired["google"], wired["salesforce"]
    posted = {m["channel"]: m for m in slack.messages}
    assert set(posted) == {"#wins", "U0CASEY"}
    assert "&lt;!channel&gt;" in posted["#wins"]["text"]
    assert rows["slack_message"].external_ref == posted["#wins"]["ts"]
    [mail] = google.sent
    assert mail["subject"] == "Congratulations on 99.9% uptime"
    assert mail["to"] == "ops@acme.example"
    assert "Well done & thank you." in mail["text"]
    assert rows["gmail"].external_ref.startswith("sent-")
    [doc] = google.files.values()
    assert rows["google_doc"].external_ref == doc["webViewLink"]
    assert "&lt;b&gt;x&lt;/b&gt;" in doc["html"]
    assert rows["calendar"].external_ref == "abc12345" and "abc12345" in google.events
    assert sf.account_updates == [("001000000000001AAA", {"Outcomes_Health__c": 82.5})]

    assert jobs_main(["run-once", "outbox"]) == 0  # nothing left: no second send
    assert len(slack.messages) == 2 and len(google.sent) == 1 and len(sf.account_updates) == 1


def test_transient_faults_are_retried_until_delivered(wired):
    slack = wired["slack"]
    slack.fail_next("chat.postMessage", status=500, times=1)
    slack.rate_limit_next("chat.postMessage", retry_after=1)
    slack.garbage_next("chat.postMessage")
    with session_scope() as session:
        service.enqueue(
            session=session,
            channel="slack_message",
            payload=PAYLOADS["slack_message"],
            idempotency_key="flaky",
        )
    outcomes = []
    for _ in range(4):
        outcomes.append(deliver_due(on_sent=SENT_HANDLERS))
        _make_due()
    assert outcomes[:3] == [{"failed": 1}] * 3
    assert outcomes[3] == {"sent": 1}
    row = _by_channel()["slack_message"]
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 4)
    assert len(slack.messages) == 1


def test_permanent_error_keeps_the_api_error(wired):
    wired["slack"].error_next("chat.postMessage", "channel_not_found")
    with session_scope() as session:
        service.enqueue(
            session=session,
            channel="slack_message",
            payload=PAYLOADS["slack_message"],
            idempotency_key="lost-channel",
        )
    assert deliver_due(on_sent=SENT_HANDLERS) == {"dead": 1}
    assert _by_channel()["slack_message"].last_error.startswith("channel_not_found")


def test_unconfigured_integrations_park_deliveries(scratch_db, capsys):
    dispatch.clear_cache()
    _enqueue_all("u")
    assert jobs_main(["run-once", "outbox"]) == 0
    rows = _by_channel()
    assert {d.status for d in rows.values()} == {DeliveryStatus.NOT_CONFIGURED}
    assert all(d.attempts == 0 and d.last_error for d in rows.values())


def test_two_workers_against_fake_slack_send_each_once(wired):
    with session_scope() as session:
        for i in range(60):
            service.enqueue(
                session=session,
                channel="slack_message",
                payload={"text": f"win {i}", "blocks": []},
                idempotency_key=f"w{i}",
            )
    threads = [
        threading.Thread(target=deliver_due, kwargs={"batch": 5, "on_sent": SENT_HANDLERS})
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = sorted(m["text"] for m in wired["slack"].messages)
    assert texts == sorted(f"win {i}" for i in range(60))
