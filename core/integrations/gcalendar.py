"""Calendar events inserted as the organizer, idempotent on a deterministic event id."""

import base64
import hashlib
from datetime import UTC, datetime

from googleapiclient.errors import HttpError

from core.integrations.base import PermanentError
from core.integrations.google_auth import GoogleServices, execute


def calendar_event_id(*parts: object) -> str:
    """Return a stable Calendar event id (base32hex `0-9a-v`, 52 chars) for these parts."""
    if not parts:
        raise ValueError("calendar_event_id needs at least one part")
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def _utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleCalendar:
    """Insert events on the organizer's primary calendar and invite attendees."""

    def __init__(self, services: GoogleServices):
        self.services = services

    def insert_event(
        self,
        *,
        organizer: str,
        event_id: str,
        summary: str,
        description: str,
        start: datetime,
        end: datetime,
        attendees: list[str],
    ) -> str:
        """Insert the event; an existing event with this id counts as done. Return the id."""
        body = {
            "id": event_id,
            "summary": summary,
            "description": description,
            "start": {"dateTime": _utc_iso(start), "timeZone": "UTC"},
            "end": {"dateTime": _utc_iso(end), "timeZone": "UTC"},
            "attendees": [{"email": a} for a in attendees if a],
        }
        events = self.services.service("calendar", organizer).events()
        try:
            created = execute(
                events.insert(calendarId="primary", body=body, sendUpdates="all"),
                "calendar events.insert",
            )
        except PermanentError as exc:
            cause = exc.__cause__
            if isinstance(cause, HttpError) and cause.status_code == 409:
                return event_id  # inserted by an earlier attempt
            raise
        return str(created.get("id") or event_id) if isinstance(created, dict) else event_id
