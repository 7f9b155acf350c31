"""A threaded local HTTP(S) server that records every request and replays scripted faults.

Subclasses implement `route(method, path) -> endpoint name | None` and
`handle(endpoint, request) -> Reply`. Faults are queued per endpoint and consumed one per call:

    fake.fail_next("chat.postMessage", status=500, times=2)
    fake.rate_limit_next("chat.postMessage", retry_after=3)
    fake.slow_next("chat.postMessage", seconds=2)      # longer than the client timeout
    fake.garbage_next("chat.postMessage")              # 200 with a non-JSON body
    fake.late_next("chat.postMessage", seconds=2)      # does the work, answers after a timeout
    fake.drop_next("chat.postMessage")                 # does the work, never answers
    fake.script("chat.postMessage", Reply(json={...}))  # anything else
    fake.random_faults(["chat.postMessage"], rng=random.Random(7), rate=0.3)  # chaos runs

`late_next` and `drop_next` are the faults that make clients send twice: the work is done (the
message posted, the email sent) but the client never learns it.
"""

import json
import random
import ssl
import sys
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict


@dataclass
class Reply:
    """A response to send; `passthrough` answers normally after `delay` seconds.

    With `passthrough`, `after` answers that many seconds after doing the work, and `drop` does
    the work and closes the connection without answering.
    """

    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    passthrough: bool = False
    after: float = 0.0
    drop: bool = False

    @classmethod
    def error(cls, status: int = 500, json: Any = None) -> "Reply":
        if json is not None:
            return cls(status=status, json=json)
        return cls(status=status, body=f"error {status}", headers={"Content-Type": "text/plain"})

    @classmethod
    def rate_limited(cls, retry_after: float = 3, json: Any = None) -> "Reply":
        payload = json if json is not None else {"ok": False, "error": "ratelimited"}
        return cls(status=429, json=payload, headers={"Retry-After": f"{retry_after:g}"})

    @classmethod
    def garbage(cls, status: int = 200) -> "Reply":
        return cls(
            status=status,
            body=b"<html><body>Bad gateway-ish garbage</body></html>",
            headers={"Content-Type": "application/json"},
        )

    @classmethod
    def slow(cls, seconds: float) -> "Reply":
        return cls(delay=seconds, passthrough=True)

    @classmethod
    def late(cls, seconds: float) -> "Reply":
        return cls(after=seconds, passthrough=True)

    @classmethod
    def dropped(cls) -> "Reply":
        return cls(drop=True, passthrough=True)


@dataclass
class Recorded:
    """One request as the fake saw it."""

    endpoint: str | None
    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict  # clients differ in header-name case (httplib2 lowercases)
    body: bytes
    json: Any = None
    form: dict[str, str] | None = None
    user: str | None = None  # who the request acted as, when the fake can tell


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass

    def _serve(self):
        self.server.fake._serve(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed mid-request
            super().handle_error(request, client_address)


class FakeServer:
    """Base of the fakes: start/stop, recording, fault queues, reply writing."""

    ssl_context: ssl.SSLContext | None = None

    def __init__(self):
        self.requests: list[Recorded] = []
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._chaos: tuple[frozenset[str], random.Random, float, tuple[str, ...]] | None = None
        self.faults: Counter[str] = Counter()  # random faults injected, by kind
        self._slow_seconds = 0.3

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeServer":
        server = _Server(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        server.fake = self
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # fault injection ---------------------------------------------------------------------
    def script(self, endpoint: str, *replies: Reply) -> None:
        """Queue replies for the next calls to `endpoint`, one per call."""
        with self._lock:
            self._scripts[endpoint].extend(replies)

    def fail_next(self, endpoint: str, status: int = 500, times: int = 1, json: Any = None):
        self.script(endpoint, *[Reply.error(status, json) for _ in range(times)])

    def rate_limit_next(self, endpoint: str, retry_after: float = 3, json: Any = None):
        self.script(endpoint, Reply.rate_limited(retry_after, json))

    def slow_next(self, endpoint: str, seconds: float = 2.0):
        self.script(endpoint, Reply.slow(seconds))

    def garbage_next(self, endpoint: str, status: int = 200):
        self.script(endpoint, Reply.garbage(status))

    def late_next(self, endpoint: str, seconds: float = 2.0, times: int = 1):
        self.script(endpoint, *[Reply.late(seconds) for _ in range(times)])

    def drop_next(self, endpoint: str, times: int = 1):
        self.script(endpoint, *[Reply.dropped() for _ in range(times)])

    def random_faults(
        self,
        endpoints: list[str],
        *,
        rng: random.Random,
        rate: float,
        kinds: tuple[str, ...] = ("error", "ratelimit", "slow", "drop"),
        slow_seconds: float = 0.3,
    ) -> None:
        """Answer a share `rate` of the calls to `endpoints` with a random fault of `kinds`.

        "error" is a 500, "ratelimit" a 429 with Retry-After 1, "slow" answers normally after
        `slow_seconds`, "drop" does the work and never answers. Scripted replies come first.
        """
        self._chaos = (frozenset(endpoints), rng, rate, kinds)
        self._slow_seconds = slow_seconds

    def _random_fault(self, endpoint: str | None) -> Reply | None:
        if self._chaos is None or endpoint not in self._chaos[0]:
            return None
        _, rng, rate, kinds = self._chaos
        if rng.random() >= rate:
            return None
        kind = rng.choice(kinds)
        self.faults[kind] += 1
        return {
            "error": lambda: Reply.error(500),
            "ratelimit": lambda: Reply.rate_limited(1),
            "slow": lambda: Reply.slow(self._slow_seconds),
            "drop": Reply.dropped,
        }[kind]()

    def calls(self, endpoint: str) -> list[Recorded]:
        """Return the recorded requests to `endpoint`, oldest first."""
        return [r for r in list(self.requests) if r.endpoint == endpoint]

    # to implement ------------------------------------------------------------------------
    def route(self, method: str, path: str) -> str | None:
        raise NotImplementedError

    def handle(self, endpoint: str, request: Recorded) -> Reply:
        raise NotImplementedError

    def identify(self, request: Recorded) -> str | None:
        """Return who the request acts as (from its credentials), if the fake can tell."""
        return None

    # plumbing ----------------------------------------------------------------------------
    def _read(self, h: BaseHTTPRequestHandler) -> Recorded:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        ctype = (h.headers.get("Content-Type") or "").lower()
        parsed_json = form = None
        if "json" in ctype and body:
            try:
                parsed_json = json.loads(body)
            except ValueError:
                parsed_json = None
        elif "x-www-form-urlencoded" in ctype:
            pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            form = {k: v[-1] for k, v in pairs.items()}
        rec = Recorded(
            endpoint=self.route(h.command, parts.path),
            method=h.command,
            path=parts.path,
            query=query,
            headers=CaseInsensitiveDict(h.headers.items()),
            body=body,
            json=parsed_json,
            form=form,
        )
        rec.user = self.identify(rec)
        return rec

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        rec = self._read(h)
        with self._lock:
            self.requests.append(rec)
            queue = self._scripts.get(rec.endpoint or "")
            scripted = queue.popleft() if queue else self._random_fault(rec.endpoint)
        if scripted is not None and scripted.delay:
            self._stopping.wait(scripted.delay)
        if rec.endpoint is None:
            reply = Reply(status=404, body=f"no route for {rec.method} {rec.path}")
        elif scripted is not None and not scripted.passthrough:
            reply = scripted
        else:
            with self._lock:  # the fakes' state is simple dicts; one request at a time
                reply = self.handle(rec.endpoint, rec)
            if scripted is not None and scripted.drop:
                h.close_connection = True  # the work is done; the client never hears of it
                return
            if scripted is not None and scripted.after:
                self._stopping.wait(scripted.after)
        self._write(h, reply)

    def _write(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        headers = dict(reply.headers)
        if reply.json is not None:
            body = json.dumps(reply.json).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(reply.body, str):
            body = reply.body.encode("utf-8")
        else:
            body = reply.body or b""
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        try:
            h.send_response(reply.status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if h.command != "HEAD" and reply.status not in (204, 304):
                h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up (timeout tests)
