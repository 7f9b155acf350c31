"""Slack messages through `slack_sdk.WebClient`, with every failure mapped to our errors.

`text` passed to `post_message`/`post_direct_message` is plain text (the notification fallback)
and is escaped here; `blocks` must be built with `core.integrations.escape` helpers.
"""

import http.client
import logging
from functools import cached_property

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.integrations.escape import slack_text

log = logging.getLogger(__name__)

PERMANENT_CODES = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "users_not_found",
        "missing_scope",
    }
)
# Prefix slack_sdk puts in `error` when the body was not JSON (html error pages, proxies).
_NON_JSON_PREFIX = "Received a response in a non-JSON format"


def _retry_after(headers: dict) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError, IndexError):
                return None
    return None


def translate_slack_error(exc: SlackApiError, method: str) -> Exception:
    """Turn a SlackApiError into a TransientError or PermanentError."""
    response = exc.response
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or "")
    if error.startswith(_NON_JSON_PREFIX):
        return TransientError(
            f"Slack {method}: malformed answer (HTTP {status})", code="malformed_response"
        )
    if status == 429 or error == "ratelimited":
        retry_after = _retry_after(response.headers)
        return TransientError(
            f"Slack {method}: rate limited", code="ratelimited", retry_after=retry_after
        )
    if error in PERMANENT_CODES:
        return PermanentError(f"Slack {method}: {error}", code=error)
    if status >= 500 or status == 408:
        return TransientError(f"Slack {method}: HTTP {status} {error}".strip(), code=error or None)
    if status != 200:
        # A 4xx other than 429 means a wrong URL or request; retrying will not fix it.
        return PermanentError(
            f"Slack {method}: HTTP {status} {error}".strip(), code=f"http_{status}"
        )
    return TransientError(f"Slack {method}: {error or 'ok=false'}", code=error or None)


class SlackMessenger:
    """Post channel messages and DMs as the bot."""

    def __init__(self, token: str, base_url: str = "https://slack.com/api/", timeout: float = 10):
        self._token = token
        self._base_url = base_url
        self._timeout = timeout
        self._user_ids: dict[str, str] = {}

    @cached_property
    def client(self) -> WebClient:
        """Return the WebClient, built on first use; no retry handlers (the outbox retries)."""
        return WebClient(
            token=self._token,
            base_url=self._base_url,
            timeout=self._timeout,
            retry_handlers=[],
        )

    def _call(self, method: str, fn, **kwargs):
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            raise translate_slack_error(exc, method) from exc
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused, resets
            raise TransientError(f"Slack {method}: {type(exc).__name__}: {exc}") from exc
        except SlackClientError as exc:
            raise PermanentError(f"Slack {method}: {exc}", code="client_error") from exc

    def post_message(self, *, channel: str, text: str, blocks: list[dict]) -> str:
        """Post to a channel (name, id or user id); return the message ts."""
        response = self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel,
            text=slack_text(text),
            blocks=blocks or None,
        )
        ts = response.get("ts") if isinstance(response.data, dict) else None
        if not ts:
            raise TransientError(
                "Slack chat.postMessage: answer has no ts", code="malformed_response"
            )
        return str(ts)

    def user_id_for_email(self, email: str) -> str | None:
        """Return the Slack user id for an email, or None when Slack knows no such user."""
        key = email.strip().lower()
        if key in self._user_ids:
            return self._user_ids[key]
        try:
            response = self._call(
                "users.lookupByEmail", self.client.users_lookupByEmail, email=email.strip()
            )
        except PermanentError as exc:
            if exc.code == "users_not_found":
                return None  # not cached: the person may join Slack later
            raise
        try:
            user_id = str(response["user"]["id"])
        except (KeyError, TypeError) as exc:
            raise TransientError(
                "Slack users.lookupByEmail: answer has no user id", code="malformed_response"
            ) from exc
        self._user_ids[key] = user_id
        return user_id

    def post_direct_message(self, *, email: str, text: str, blocks: list[dict]) -> str:
        """DM the user with this email; PermanentError `users_not_found` when there is none."""
        user_id = self.user_id_for_email(email)
        if user_id is None:
            raise PermanentError(f"Slack has no user with email {email}", code="users_not_found")
        return self.post_message(channel=user_id, text=text, blocks=blocks)


def slack_from_settings(settings, *, timeout: float = 10) -> SlackMessenger:
    """Build the messenger from settings; NotConfigured without a bot token."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token.strip():
        raise NotConfigured("Slack is not configured (SLACK_BOT_TOKEN is empty)")
    return SlackMessenger(token.strip(), settings.slack_api_base_url, timeout=timeout)
