"""A fake Slack Web API: chat.postMessage, users.lookupByEmail, auth.test.

Point `slack_sdk.WebClient` at `fake.api_url` (`http://127.0.0.1:<port>/api/`). Every call must
carry `Authorization: Bearer <fake.token>`, else it answers `invalid_auth` like Slack does.
`fake.messages` holds what was posted: {"channel", "text", "blocks", "ts"}.
"""

import json

from tests.fakes.server import FakeServer, Recorded, Reply


class FakeSlack(FakeServer):
    """Slack's Web API as far as Outcomes uses it."""

    def __init__(self, *, token: str = "xoxb-test-token", users: dict[str, str] | None = None):
        super().__init__()
        self.token = token
        self.users = {k.lower(): v for k, v in (users or {}).items()}
        self.channels: set[str] | None = None  # None: every channel exists
        self.messages: list[dict] = []
        self._ts = 1_700_000_000

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def error_next(self, endpoint: str, error: str, times: int = 1) -> None:
        """Answer the next calls with HTTP 200 `{"ok": false, "error": error}`."""
        self.script(endpoint, *[Reply(json={"ok": False, "error": error}) for _ in range(times)])

    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path.startswith("/api/"):
            return path[len("/api/") :]
        return None

    @staticmethod
    def params(request: Recorded) -> dict:
        """Return the call's arguments whether sent as JSON or as a form."""
        args = dict(request.json or request.form or {})
        if isinstance(args.get("blocks"), str):
            args["blocks"] = json.loads(args["blocks"])
        return args

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
        return Reply(status=404, json={"ok": False, "error": "unknown_method"})

    def _post(self, args: dict) -> Reply:
        channel = args.get("channel")
        if not channel or (self.channels is not None and channel not in self.channels):
            return Reply(json={"ok": False, "error": "channel_not_found"})
        if not args.get("text") and not args.get("blocks"):
            return Reply(json={"ok": False, "error": "no_text"})
        self._ts += 1
        ts = f"{self._ts}.{len(self.messages) + 1:06d}"
        message = {"channel": channel, "text": args.get("text"), "blocks": args.get("blocks")}
        self.messages.append({**message, "ts": ts})
        channel_id = channel if channel[:1] in "CDGU" else "C" + channel.strip("#").upper()[:10]
        return Reply(json={"ok": True, "channel": channel_id, "ts": ts, "message": message})
