"""A fake Google: OAuth token endpoint, Gmail drafts, Drive files, Calendar events.

Use `fake.write_service_account(dir)` for a key file whose `token_uri` is this server, and
`fake.base_url` as GOOGLE_API_BASE_URL. The token endpoint verifies the JWT assertion with the
generated key and remembers its `sub`; API calls are attributed to that user (`Recorded.user`).
Results: `fake.sent` (parsed emails), `fake.files` (Drive files incl. uploaded HTML),
`fake.events` (calendar events by id), `fake.token_claims` (decoded assertions).
Endpoints for fault injection: token, drafts.create, drafts.send, files.list, files.create,
events.insert. Like Gmail, sending a draft deletes it: sending it again answers 404 notFound.
`late_next`/`drop_next("drafts.send")` send the email and answer too late or never (a timeout
after sending); `random_faults([...])` mixes 500s, 429s, slow and lost answers for chaos runs.
"""

import base64
import email
import email.policy
import itertools
import json
import re
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.server import FakeServer, Recorded, Reply

# google-auth always signs for Google's token endpoint, whatever `token_uri` says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
CLIENT_EMAIL = "outcomes@outcomes-test.iam.gserviceaccount.com"
_ROUTES = [
    ("POST", re.compile(r"^/token$"), "token"),
    ("POST", re.compile(r"^/gmail/v1/users/[^/]+/drafts$"), "drafts.create"),
    ("POST", re.compile(r"^/gmail/v1/users/[^/]+/drafts/send$"), "drafts.send"),
    ("GET", re.compile(r"^/drive/v3/files$"), "files.list"),
    ("POST", re.compile(r"^/upload/drive/v3/files$"), "files.create"),
    ("POST", re.compile(r"^/calendar/v3/calendars/[^/]+/events$"), "events.insert"),
]
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")


@lru_cache(maxsize=1)
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def google_error(status: int, reason: str, message: str = "") -> Reply:
    """Return a Google-style JSON error reply."""
    text = message or reason
    error = {"code": status, "message": text, "errors": [{"reason": reason, "message": text}]}
    return Reply(status=status, json={"error": error})


class FakeGoogle(FakeServer):
    """Google APIs as far as Outcomes uses them."""

    def __init__(self):
        super().__init__()
        self.tokens: dict[str, str] = {}  # access token -> subject (or client email)
        self.token_claims: list[dict] = []
        self.drafts: dict[str, dict] = {}
        self.sent: list[dict] = []
        self.files: dict[str, dict] = {}
        self.events: dict[str, dict] = {}
        self._ids = itertools.count(1)

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def write_service_account(self, directory: Path) -> Path:
        """Write a service-account key file pointing at this token endpoint; return its path."""
        pem = _private_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        info = {
            "type": "service_account",
            "project_id": "outcomes-test",
            "private_key_id": "fake-key-1",
            "private_key": pem.decode("ascii"),
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "auth_uri": f"{self.base_url}/auth",
            "token_uri": self.token_uri,
        }
        path = Path(directory) / "service-account.json"
        path.write_text(json.dumps(info))
        return path

    def token_error_next(self, error: str = "invalid_grant", status: int = 400) -> None:
        """Make the next token request fail with an OAuth error."""
        self.script(
            "token", Reply(status=status, json={"error": error, "error_description": error})
        )

    def route(self, method: str, path: str) -> str | None:
        return next((name for m, rx, name in _ROUTES if m == method and rx.match(path)), None)

    def identify(self, request: Recorded) -> str | None:
        auth = request.headers.get("Authorization", "")
        return self.tokens.get(auth.removeprefix("Bearer ").strip())

    def handle(self, endpoint: str, request: Recorded) -> Reply:
        if endpoint == "token":
            return self._token(request)
        if request.user is None:
            return google_error(401, "authError", "Invalid Credentials")
        return getattr(self, "_" + endpoint.replace(".", "_"))(request)

    def _token(self, request: Recorded) -> Reply:
        form = request.form or {}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply(status=400, json={"error": "unsupported_grant_type"})
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                _private_key().public_key(),
                algorithms=["RS256"],
                audience=[GOOGLE_TOKEN_AUDIENCE, self.token_uri],
            )
        except jwt.PyJWTError as exc:
            return Reply(status=400, json={"error": "invalid_grant", "error_description": str(exc)})
        self.token_claims.append(claims)
        token = f"ya29.fake-{next(self._ids)}"
        self.tokens[token] = claims.get("sub") or claims["iss"]
        return Reply(json={"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _drafts_create(self, request: Recorded) -> Reply:
        raw = ((request.json or {}).get("message") or {}).get("raw")
        if not raw:
            return google_error(400, "invalidArgument", "Missing draft message")
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        draft_id = f"r-{next(self._ids)}"
        self.drafts[draft_id] = {"user": request.user, "raw": data}
        return Reply(json={"id": draft_id, "message": {"id": f"m-{draft_id}", "threadId": "t-1"}})

    def _drafts_send(self, request: Recorded) -> Reply:
        draft = self.drafts.pop((request.json or {}).get("id", ""), None)
        if draft is None or draft["user"] != request.user:
            return google_error(404, "notFound", "Requested entity was not found.")
        msg = email.message_from_bytes(draft["raw"], policy=email.policy.default)
        plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
        message_id = f"sent-{next(self._ids)}"
        self.sent.append(
            {
                "id": message_id,
                "user": request.user,
                "from": str(msg["From"]),
                "to": str(msg["To"]),
                "cc": str(msg["Cc"]) if msg["Cc"] else None,
                "subject": str(msg["Subject"]),
                "text": plain.get_content() if plain else None,
                "html": html.get_content() if html else None,
                "raw": draft["raw"],
            }
        )
        return Reply(json={"id": message_id, "threadId": "t-1", "labelIds": ["SENT"]})

    def _files_list(self, request: Recorded) -> Reply:
        q = request.query.get("q", "")
        match = re.search(r"key='outcomesRecordId' and value='((?:[^'\\]|\\.)*)'", q)
        wanted = re.sub(r"\\(.)", r"\1", match.group(1)) if match else None
        found = [
            {"id": f["id"], "webViewLink": f["webViewLink"]}
            for f in self.files.values()
            if f["appProperties"].get("outcomesRecordId") == wanted and not f.get("trashed")
        ]
        return Reply(json={"files": found})

    def _files_create(self, request: Recorded) -> Reply:
        ctype = request.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/related"):
            return google_error(400, "badContent", "expected a multipart upload")
        envelope = f"Content-Type: {ctype}\r\n\r\n".encode() + request.body
        parts = email.message_from_bytes(envelope, policy=email.policy.HTTP).get_payload()
        metadata = json.loads(parts[0].get_payload(decode=True))
        file_id = f"doc{next(self._ids)}"
        self.files[file_id] = {
            "id": file_id,
            "name": metadata.get("name"),
            "mimeType": metadata.get("mimeType"),
            "parents": metadata.get("parents", []),
            "appProperties": metadata.get("appProperties", {}),
            "media_type": parts[1].get_content_type(),
            "html": parts[1].get_payload(decode=True).decode("utf-8"),
            "user": request.user,
            "webViewLink": f"https://docs.google.com/document/d/{file_id}/edit",
        }
        return Reply(json={"id": file_id, "webViewLink": self.files[file_id]["webViewLink"]})

    def _events_insert(self, request: Recorded) -> Reply:
        body = request.json or {}
        event_id = str(body.get("id", ""))
        if not _EVENT_ID.match(event_id):
            return google_error(400, "invalid", "Invalid resource id value.")
        if event_id in self.events:
            return google_error(409, "duplicate", "The requested identifier already exists.")
        event = {
            **body,
            "organizer": {"email": request.user},
            "sendUpdates": request.query.get("sendUpdates"),
            "htmlLink": f"https://calendar.google.com/event?eid={event_id}",
            "status": "confirmed",
        }
        self.events[event_id] = event
        return Reply(json={k: v for k, v in event.items() if k != "sendUpdates"})
