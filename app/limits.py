"""A cap on request bodies for every route, whether the client says the size or streams it."""

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024
DEFAULT_LIMIT = 1 * MB
# Routes that take batches may send more (POST /api/usage: up to 10,000 observations).
LIMITS = {"/api/usage": 8 * MB}


def limit_for(path: str) -> int:
    """Return the most bytes a request body to `path` may hold."""
    return LIMITS.get(path.rstrip("/") or "/", DEFAULT_LIMIT)


def too_large_message(limit: int) -> str:
    return f"The request body is larger than {limit // MB} MB; send at most {limit:,} bytes."


class BodyTooLarge(HTTPException):
    """The body went past the route's limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


class BodyLimit:
    """ASGI middleware answering 413 for a body over its route's limit (Content-Length or not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = ('{"detail":"' + too_large_message(limit) + '"}').encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
