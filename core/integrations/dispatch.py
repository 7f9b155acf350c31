"""The one entry point the outbox worker calls: deliver a payload on a channel.

Payload shapes (JSON, camelCase as stored in `outbox_deliveries.payload`):

- `slack_message`: {"channel"?: str (default SLACK_WINS_CHANNEL), "text": str, "blocks": [...]}
- `slack_dm`: {"email": str, "text": str, "blocks": [...]}
  (`text` is the plain notification fallback and is escaped; build `blocks` with `escape`.)
- `gmail`: {"sender": str, "to": [str] | str, "cc"?: [str] | str, "subject": str,
  "text": str, "html"?: str}
- `google_doc`: {"recordId": str, "title": str,
  "blocks": [{"kind", "text"?, "level"?, "items"?, "rows"?, "url"?}]}
- `calendar`: {"organizer": str, "eventId": str, "summary": str, "description"?: str,
  "start": ISO datetime, "end": ISO datetime, "attendees": [str]}
- `salesforce`: {"accountId": str, "value": number or numeric string}

`deliver` returns the external reference (Slack ts, Gmail message id, Doc URL, event id, account
id) and raises only NotConfigured, TransientError, PermanentError (`invalid_payload` for a
payload that does not fit its shape, `unknown_channel` for a channel it does not know) or
Superseded (the attempt's delivery was taken over by another worker).

The outbox passes each call's `Attempt` (idempotency key, earlier tries, stored Gmail draft), so
Slack and Gmail never send a delivery twice; Docs (found by record id), Calendar (event ids) and
Salesforce (writing a value) are idempotent by themselves.
"""

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from core.integrations.base import (
    Attempt,
    DocBlock,
    IntegrationError,
    NotConfigured,
    PermanentError,
    TransientError,
)
from core.integrations.google import calendar_from_settings, docs_from_settings, gmail_from_settings
from core.integrations.salesforce import salesforce_from_settings
from core.integrations.slack import slack_from_settings
from core.settings import get_settings

log = logging.getLogger(__name__)

# channel -> kind of client it needs; `clients` passed to deliver() are keyed by kind.
CLIENT_KIND = {
    "slack_message": "slack",
    "slack_dm": "slack",
    "gmail": "gmail",
    "google_doc": "docs",
    "calendar": "calendar",
    "salesforce": "salesforce",
}
_SETTINGS_FIELDS = {
    "slack": ("slack_bot_token", "slack_api_base_url"),
    "gmail": ("google_service_account_file", "google_api_base_url"),
    "calendar": ("google_service_account_file", "google_api_base_url"),
    "docs": ("google_service_account_file", "google_api_base_url", "google_drive_folder_id"),
    "salesforce": (
        "salesforce_instance_url",
        "salesforce_access_token",
        "salesforce_username",
        "salesforce_password",
        "salesforce_security_token",
        "salesforce_domain",
        "salesforce_upsell_types",
        "salesforce_health_field",
    ),
}
_CACHE_LIMIT = 32
_cache: dict[tuple, Any] = {}
_cache_lock = threading.Lock()


def _builders() -> dict[str, Callable]:
    return {
        "slack": slack_from_settings,
        "gmail": gmail_from_settings,
        "docs": docs_from_settings,
        "calendar": calendar_from_settings,
        "salesforce": salesforce_from_settings,
    }


def _value(settings, name: str) -> str:
    value = getattr(settings, name, None)
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return "" if value is None else str(value)


def client_for(kind: str, settings) -> Any:
    """Return the wrapper of this kind for these settings, built once per process."""
    key = (kind, *(_value(settings, f) for f in _SETTINGS_FIELDS[kind]))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    client = _builders()[kind](settings)  # NotConfigured propagates and is not cached
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        return _cache.setdefault(key, client)


def clear_cache() -> None:
    """Forget every cached wrapper (tests, settings reload)."""
    with _cache_lock:
        _cache.clear()


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _doc_block(raw: Mapping) -> DocBlock:
    return DocBlock(
        kind=str(raw["kind"]),
        text=str(raw.get("text") or ""),
        level=int(raw.get("level") or 2),
        items=[str(i) for i in raw.get("items") or []],
        rows=[[str(c) for c in row] for row in raw.get("rows") or []],
        url=str(raw.get("url") or ""),
    )


def _call(
    channel: str, client: Any, p: Mapping, settings, attempt: Attempt | None
) -> Callable[[], str]:
    """Validate the payload and return the call that delivers it."""
    once = {"attempt": attempt} if attempt is not None else {}
    if channel == "slack_message":
        target = p.get("channel") or settings.slack_wins_channel
        kw = {"channel": target, "text": str(p["text"]), "blocks": list(p.get("blocks") or [])}
        return lambda: client.post_message(**kw, **once)
    if channel == "slack_dm":
        kw = {
            "email": str(p["email"]),
            "text": str(p["text"]),
            "blocks": list(p.get("blocks") or []),
        }
        return lambda: client.post_direct_message(**kw, **once)
    if channel == "gmail":
        kw = {
            "sender": str(p["sender"]),
            "to": _list(p["to"]),
            "cc": _list(p.get("cc")) or None,
            "subject": str(p["subject"]),
            "text": str(p["text"]),
            "html": p.get("html") or None,
        }
        return lambda: client.send_email(**kw, **once)
    if channel == "google_doc":
        blocks = [_doc_block(b) for b in p.get("blocks") or []]
        kw = {"record_id": str(p["recordId"]), "title": str(p["title"]), "blocks": blocks}
        return lambda: client.upsert_document(**kw)
    if channel == "calendar":
        kw = {
            "organizer": str(p["organizer"]),
            "event_id": str(p["eventId"]),
            "summary": str(p["summary"]),
            "description": str(p.get("description") or ""),
            "start": _when(p["start"]),
            "end": _when(p["end"]),
            "attendees": _list(p.get("attendees")),
        }
        return lambda: client.insert_event(**kw)
    kw = {"account_id": str(p["accountId"]), "value": float(p["value"])}
    return lambda: client.write_account_value(**kw)


def deliver(
    channel: str,
    payload: Mapping,
    settings=None,
    clients: Mapping[str, Any] | None = None,
    *,
    attempt: Attempt | None = None,
) -> str:
    """Deliver `payload` on `channel`; return the external reference."""
    kind = CLIENT_KIND.get(str(channel))
    if kind is None:
        raise PermanentError(f"unknown delivery channel {channel!r}", code="unknown_channel")
    if settings is None:
        settings = get_settings()
    client = (clients or {}).get(kind) or client_for(kind, settings)
    try:
        send = _call(str(channel), client, payload, settings, attempt)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PermanentError(
            f"{channel} payload is invalid: {type(exc).__name__}: {exc}", code="invalid_payload"
        ) from exc
    try:
        return str(send())
    except IntegrationError:
        raise
    except Exception as exc:  # a wrapper bug or an unmapped failure: retry, then dead-letter
        log.exception("unexpected failure delivering %s", channel)
        raise TransientError(
            f"{channel}: unexpected {type(exc).__name__}: {exc}", code="unexpected_error"
        ) from exc


def configured(settings=None) -> dict[str, bool]:
    """Return, per channel, whether its integration has the settings it needs."""
    if settings is None:
        settings = get_settings()
    ready: dict[str, bool] = {}
    for kind in set(CLIENT_KIND.values()):
        try:
            client_for(kind, settings)
            ready[kind] = True
        except NotConfigured:
            ready[kind] = False
        except IntegrationError:
            ready[kind] = True  # configured, but wrongly: deliveries will say why
    return {channel: ready[kind] for channel, kind in CLIENT_KIND.items()}
