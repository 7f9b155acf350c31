"""Slack messages through `slack_sdk.WebClient`, with every failure mapped to our errors.

`text` passed to `post_message`/`post_direct_message` is plain text (the notification fallback)
and is escaped here; `blocks` must be built with `core.integrations.escape` helpers.

Exactly once in effect: a post made for an outbox delivery carries the delivery's idempotency key
as message metadata (`event_type` "outcomes_delivery"). When an earlier attempt may have posted
(its answer was lost to a timeout, or its worker died before recording it), the retry first reads
the conversation's history since that attempt (`conversations.history` with all metadata) and
adopts the message it finds instead of posting again. Scopes this needs besides `chat:write` and
`users:read.email`: `channels:history`, `groups:history`, `im:history` (read the history),
`channels:read`, `groups:read` (a channel name to its id) and `im:write` (a user's DM channel);
the bot must be a member of the channel. When the search fails (a missing scope, not in the
channel) the retry fails with Slack's error rather than risk posting twice.
"""

import http.client
import logging
import re
from datetime import datetime
from functools import cached_property

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from core.integrations.base import Attempt, NotConfigured, PermanentError, TransientError
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
METADATA_EVENT = "outcomes_delivery"
# The search starts this long before the earlier attempt (Slack's clock against ours), and reads
# at most this many pages of 200 messages; past them it posts (a channel that busy is rare).
LOOKUP_SKEW_SECONDS = 120
LOOKUP_PAGES = 20
LIST_PAGES = 50
_CONVERSATION_ID = re.compile(r"[CDG][A-Z0-9]{6,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{6,}")


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
        self._conversations: dict[str, str] = {}

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

    def post_message(
        self, *, channel: str, text: str, blocks: list[dict], attempt: Attempt | None = None
    ) -> str:
        """Post to a channel (name, id or user id); return the message ts.

        With an `attempt`, the message carries its key; when an earlier attempt may have posted
        it, the message found in the channel is adopted instead of posting again.
        """
        if attempt is not None and attempt.tried_since is not None:
            found = self.find_posted(channel=channel, key=attempt.key, since=attempt.tried_since)
            if found is not None:
                return found
        extra = {}
        if attempt is not None:
            extra["metadata"] = {
                "event_type": METADATA_EVENT,
                "event_payload": {"idempotency_key": attempt.key},
            }
        response = self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel,
            text=slack_text(text),
            blocks=blocks or None,
            **extra,
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

    def post_direct_message(
        self, *, email: str, text: str, blocks: list[dict], attempt: Attempt | None = None
    ) -> str:
        """DM the user with this email; PermanentError `users_not_found` when there is none."""
        user_id = self.user_id_for_email(email)
        if user_id is None:
            raise PermanentError(f"Slack has no user with email {email}", code="users_not_found")
        return self.post_message(channel=user_id, text=text, blocks=blocks, attempt=attempt)

    def find_posted(self, *, channel: str, key: str, since: datetime) -> str | None:
        """Return the ts of the message posted with `key` in `channel` since `since`, or None."""
        conversation = self.conversation_id(channel)
        if conversation is None:
            return None  # no such channel: the post will say so
        oldest = f"{since.timestamp() - LOOKUP_SKEW_SECONDS:.6f}"
        cursor = None
        for _ in range(LOOKUP_PAGES):
            data = self._data(
                "conversations.history",
                self.client.conversations_history,
                channel=conversation,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in data.get("messages") or []:
                if _carries(message, key):
                    return str(message["ts"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not data.get("has_more") or not cursor:
                return None
        log.warning("Slack history of %s too long to search for %s; posting", channel, key)
        return None

    def conversation_id(self, channel: str) -> str | None:
        """Return the conversation id of a channel id, a user id (their DM) or a channel name."""
        name = channel.strip()
        if _CONVERSATION_ID.fullmatch(name):
            return name
        if name in self._conversations:
            return self._conversations[name]
        if _USER_ID.fullmatch(name):
            data = self._data("conversations.open", self.client.conversations_open, users=name)
            found = (data.get("channel") or {}).get("id")
        else:
            found = self._channel_named(name.removeprefix("#"))
        if found:
            self._conversations[name] = str(found)
        return self._conversations.get(name)

    def _channel_named(self, name: str) -> str | None:
        cursor = None
        for _ in range(LIST_PAGES):
            data = self._data(
                "conversations.list",
                self.client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            for conversation in data.get("channels") or []:
                if conversation.get("name") == name and conversation.get("id"):
                    return str(conversation["id"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _data(self, method: str, fn, **kwargs) -> dict:
        response = self._call(method, fn, **kwargs)
        if not isinstance(response.data, dict):
            raise TransientError(
                f"Slack {method}: answer is not an object", code="malformed_response"
            )
        return response.data


def _carries(message: dict, key: str) -> bool:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("idempotency_key") == key and "ts" in message


def slack_from_settings(settings, *, timeout: float = 10) -> SlackMessenger:
    """Build the messenger from settings; NotConfigured without a bot token."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token.strip():
        raise NotConfigured("Slack is not configured (SLACK_BOT_TOKEN is empty)")
    return SlackMessenger(token.strip(), settings.slack_api_base_url, timeout=timeout)
