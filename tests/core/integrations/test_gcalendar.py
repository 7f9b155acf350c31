import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.integrations.google import GoogleCalendar, calendar_event_id, calendar_from_settings
from tests.fakes.google import google_error

START = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def calendar(google_services):
    return GoogleCalendar(google_services)


def insert(calendar, event_id, **overrides):
    event = {
        "organizer": "casey@example.com",
        "event_id": event_id,
        "summary": "60-day review: Acme expansion",
        "description": "Adoption is at 72% of target.",
        "start": START,
        "end": START + timedelta(minutes=30),
        "attendees": ["casey@example.com", "pat@customer.test"],
    }
    return calendar.insert_event(**{**event, **overrides})


def test_calendar_event_id_is_stable_and_valid():
    a = calendar_event_id("checkpoint", "0b9e…", 60)
    assert a == calendar_event_id("checkpoint", "0b9e…", 60)
    assert a != calendar_event_id("checkpoint", "0b9e…", 90)
    assert re.fullmatch(r"[a-v0-9]{5,1024}", a)
    with pytest.raises(ValueError):
        calendar_event_id()


def test_insert_event_as_the_organizer_with_attendees(calendar, fake_google):
    event_id = calendar_event_id("checkpoint", 1)
    assert insert(calendar, event_id) == event_id

    event = fake_google.events[event_id]
    assert event["organizer"] == {"email": "casey@example.com"}
    assert fake_google.token_claims[0]["sub"] == "casey@example.com"
    assert event["attendees"] == [{"email": "casey@example.com"}, {"email": "pat@customer.test"}]
    assert event["start"] == {"dateTime": "2025-03-04T15:00:00Z", "timeZone": "UTC"}
    assert event["end"] == {"dateTime": "2025-03-04T15:30:00Z", "timeZone": "UTC"}
    assert event["sendUpdates"] == "all"
    assert fake_google.calls("events.insert")[0].path == "/calendar/v3/calendars/primary/events"


def test_other_timezones_and_naive_times_become_utc(calendar, fake_google):
    event_id = calendar_event_id("tz")
    cet = timezone(timedelta(hours=1))
    insert(calendar, event_id, start=datetime(2025, 3, 4, 16, 0, tzinfo=cet), end=START)
    assert fake_google.events[event_id]["start"]["dateTime"] == "2025-03-04T15:00:00Z"


def test_duplicate_event_returns_the_same_id(calendar, fake_google):
    event_id = calendar_event_id("checkpoint", 2)
    assert insert(calendar, event_id) == event_id
    assert insert(calendar, event_id) == event_id
    assert len(fake_google.calls("events.insert")) == 2
    assert len(fake_google.events) == 1


def test_errors_are_mapped(calendar, fake_google):
    fake_google.fail_next("events.insert", status=502)
    with pytest.raises(TransientError):
        insert(calendar, calendar_event_id("e"))
    fake_google.script("events.insert", google_error(404, "notFound", "Not Found"))
    with pytest.raises(PermanentError) as err:
        insert(calendar, calendar_event_id("e"))
    assert err.value.code == "notFound"
    with pytest.raises(PermanentError) as err:
        insert(calendar, "Not_Valid!")
    assert err.value.code == "invalid"


def test_calendar_from_settings(settings_for, fake_google):
    with pytest.raises(NotConfigured):
        calendar_from_settings(settings_for())
    calendar = calendar_from_settings(
        settings_for(
            google_service_account_file=fake_google.service_account_file,
            google_api_base_url=fake_google.base_url,
        )
    )
    assert insert(calendar, calendar_event_id("s")) == calendar_event_id("s")
