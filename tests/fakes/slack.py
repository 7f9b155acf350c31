"""A fake Slack Web API: chat.postMessage, users.lookupByEmail, auth.test and the conversations
calls a retry uses to find its own message (conversations.history/list/open).

Point `slack_sdk.WebClient` at `fake.api_url` (`http://127.0.0.1:<port>/api/`). Every call must
carry `Authorization: Bearer <fake.token>`, else it answers `invalid_auth` like Slack does.
`fake.messages` holds what was posted: {"channel", "channel_id", "text", "blocks", "metadata",
"ts"}; `ts` follows the clock like Slack's. Channel names get stable ids ("#wins" → "C…"), a user
id's DM is "D" + the rest of the user id. `conversations.history` returns a conversation's
messages newest first, their `metadata` only with `include_all_metadata`, `page_size` per page.
Fault injection (from FakeServer): `late_next`/`drop_next("chat.postMessage")` post the message
and answer too late or never, the way a client timeout after posting looks.
"""

import hashlib
import json
import time

from tests.fakes.server import FakeServer, Recorded, Reply

_ID_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def channel_id(channel: str) -> str:
    """The conversation id the fake gives a channel name, id or user id."""
    if channel[:1] in "CDG" and channel[1:].isalnum() and channel.isupper():
        return channel
    if channel[:1] in "UW" and channel[1:].isalnum() and channel.isupper():
        return "D" + channel[1:]
    digest = hashlib.sha1(channel.strip().removeprefix("#").encode()).digest()
    return "C" + "".join(_ID_CHARS[b % len(_ID_CHARS)] for b in digest[:10])


class FakeSlack(FakeServer):
    """Slack's Web API as far as Outcomes uses it."""

    def __init__(self, *, token: str = "xoxb-test-token", users: dict[str, str] | None = None):
        super().__init__()
        self.token = token
        self.users = {k.lower(): v for k, v in (users or {}).items()}
        self.channels: set[str] | None = None  # None: every channel exists
        self.messages: list[dict] = []
        self.page_size = 200
        self._names: set[str] = {"wins", "customer-wins"}
        self._last_ts = 0.0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def error_next(self, endpoint: str, error: str, times: int = 1) -> None:
        """Answer the next calls with HTTP 200 `{"ok": false, "error": error}`."""
        self.script(endpoint, *[Reply(json={"ok": False, "error": error}) for _ in range(times)])

    def route(self, method: str, path: str) -> str | None:
        if method in ("GET", "POST") and path.startswith("/api/"):
            return path[len("/api/") :]
        return None

    @staticmethod
    def params(request: Recorded) -> dict:
        """Return the call's arguments whether sent in the query, as JSON or as a form."""
        args = {**request.query, **(request.json or request.form or {})}
        for name in ("blocks", "metadata"):
            if isinstance(args.get(name), str):
                args[name] = json.loads(args[name])
        return args

    def posted(self, key: str) -> list[dict]:
        """Return the messages posted with this idempotency key in their metadata."""
        return [
            m
            for m in self.messages
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("idempotency_key") == key
        ]

    def handle(self, endpoint: str, request: Recorded) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Reply(json={"ok": False, "error": "invalid_auth"})
        args = self.params(request)
        if endpoint == "auth.test":
            return Reply(json={"ok": True, "user_id": "UBOT", "team": "Outcomes test"})
        if endpoint == "users.lookupByEmail":
            user_id = self.users.get(str(args.get("email", "")).lower())
            if user_id is None:
                return Reply(json={"ok": False, "error": "users_not_found"})
            return Reply(json={"ok": True, "user": {"id": user_id, "profile": {}}})
        if endpoint == "chat.postMessage":
            return self._post(args)
        if endpoint == "conversations.history":
            return self._history(args)
        if endpoint == "conversations.list":
            return self._list(args)
        if endpoint == "conversations.open":
            users = str(args.get("users") or "")
            if not users:
                return Reply(json={"ok": False, "error": "users_not_found"})
            return Reply(json={"ok": True, "channel": {"id": channel_id(users)}})
        return Reply(status=404, json={"ok": False, "error": "unknown_method"})

    def _next_ts(self) -> str:
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def _post(self, args: dict) -> Reply:
        channel = args.get("channel")
        if not channel or (self.channels is not None and channel not in self.channels):
            return Reply(json={"ok": False, "error": "channel_not_found"})
        if not args.get("text") and not args.get("blocks"):
            return Reply(json={"ok": False, "error": "no_text"})
        if channel[:1] not in "CDGUW" or not channel.isupper():
            self._names.add(channel.strip().removeprefix("#"))
        ts = self._next_ts()
        message = {"channel": channel, "text": args.get("text"), "blocks": args.get("blocks")}
        stored = {**message, "channel_id": channel_id(channel), "ts": ts}
        stored["metadata"] = args.get("metadata")
        self.messages.append(stored)
        return Reply(
            json={"ok": True, "channel": stored["channel_id"], "ts": ts, "message": message}
        )

    def _history(self, args: dict) -> Reply:
        wanted = str(args.get("channel") or "")
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            m
            for m in reversed(self.messages)
            if m["channel_id"] == wanted and float(m["ts"]) > oldest
        ]
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), self.page_size)
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = []
        for m in page:
            shown = {"type": "message", "user": "UBOT", "text": m["text"], "ts": m["ts"]}
            if with_metadata and m.get("metadata"):
                shown["metadata"] = m["metadata"]
            messages.append(shown)
        return Reply(
            json={
                "ok": True,
                "messages": messages,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        )

    def _list(self, args: dict) -> Reply:
        names = sorted(self.channels if self.channels is not None else self._names)
        names = [n.removeprefix("#") for n in names if not n[:1].isupper()]
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), self.page_size)
        page = names[start : start + limit]
        more = start + limit < len(names)
        return Reply(
            json={
                "ok": True,
                "channels": [{"id": channel_id(n), "name": n} for n in page],
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        )
