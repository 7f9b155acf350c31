"""Google Workspace wrappers (Gmail, Drive/Docs, Calendar) and their builders from settings."""

from core.integrations.base import NotConfigured
from core.integrations.gcalendar import GoogleCalendar, calendar_event_id
from core.integrations.gdocs import DriveDocuments, render_html
from core.integrations.gmail import GmailMailer
from core.integrations.google_auth import GoogleServices, services_from_settings

__all__ = [
    "DriveDocuments",
    "GmailMailer",
    "GoogleCalendar",
    "GoogleServices",
    "calendar_event_id",
    "calendar_from_settings",
    "docs_from_settings",
    "gmail_from_settings",
    "google_from_settings",
    "render_html",
]


def google_from_settings(settings, *, timeout: float = 10) -> GoogleServices:
    """Return the shared service factory; NotConfigured without a service-account file."""
    return services_from_settings(settings, timeout=timeout)


def gmail_from_settings(settings, *, timeout: float = 10) -> GmailMailer:
    """Return the Gmail mailer; NotConfigured without a service-account file."""
    return GmailMailer(google_from_settings(settings, timeout=timeout))


def docs_from_settings(settings, *, timeout: float = 10) -> DriveDocuments:
    """Return the Docs writer; NotConfigured without a service-account file or a folder id."""
    if not (settings.google_drive_folder_id or "").strip():
        raise NotConfigured("Google Docs is not configured (GOOGLE_DRIVE_FOLDER_ID is empty)")
    services = google_from_settings(settings, timeout=timeout)
    return DriveDocuments(services, folder_id=settings.google_drive_folder_id.strip())


def calendar_from_settings(settings, *, timeout: float = 10) -> GoogleCalendar:
    """Return the Calendar writer; NotConfigured without a service-account file."""
    return GoogleCalendar(google_from_settings(settings, timeout=timeout))
