"""How the API answers what went wrong: plain-words 422s, domain errors and database outages.

Every answer is JSON-safe whatever the request held (NaN, Infinity, lone surrogates): a 422 names
each field and says what is wrong with it, and never echoes the input back.
"""

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (
    f"The database is unavailable right now; nothing was changed. Try again in "
    f"{RETRY_AFTER_SECONDS} seconds."
)
SOURCES = {"body", "query", "path", "header", "cookie"}
FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's 400, answered as 422
NOT_JSON = "is not valid JSON (send UTF-8 JSON text)"
MAX_TEXT = 300
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Plain words for pydantic's error types (others keep pydantic's sentence, reworded).
MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (check its spelling)",
    "finite_number": "must be a finite number",
    "timezone_aware": "needs a UTC offset, e.g. 2026-03-01T09:00:00Z",
    "uuid_parsing": "must be a UUID",
    "uuid_type": "must be a UUID",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "datetime_from_date_parsing": "must be a date and time with a UTC offset (ISO 8601)",
    "datetime_parsing": "must be a date and time with a UTC offset (ISO 8601)",
    "json_invalid": NOT_JSON,
    "string_type": "must be text",
    "dict_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "list_type": "must be a list",
}


def safe_text(value: object, limit: int | None = MAX_TEXT) -> str:
    """Return `value` as text that JSON can carry: no lone surrogates, at most `limit` chars."""
    text = _SURROGATE.sub("\ufffd", str(value))
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def field_name(loc: tuple | list) -> str:
    """Return an error location as people write it: `observations[12].metric`."""
    parts = list(loc[1:] if loc and loc[0] in SOURCES else loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part == "[key]":
            name += " (the key)"
        elif str(part).isidentifier():
            name += ("." if name else "") + str(part)
        else:  # a key of a free-form object: quoted, line breaks shown as \n
            name += f"[{safe_text(repr(str(part)), 80)}]"
    return name or (loc[0] if loc else "request")


def plain_message(error: dict) -> str:
    """Return pydantic's complaint in plain words, without 'Value error,' or 'Input should be'."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in MESSAGES:
        return MESSAGES[kind]
    text = kind.startswith("string_") or isinstance(error.get("input"), str)
    if kind.endswith("too_short") and text:
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least:,} characters"
    if kind.endswith("too_long"):
        return f"must be at most {ctx.get('max_length', 0):,} " + (
            "characters" if text else "items"
        )
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    for prefix in ("Input should be", "Value should be", "String should", "List should"):
        if message.startswith(prefix):
            verb = "must be" if prefix.endswith("be") else "must"
            message = verb + message[len(prefix) :]
    return safe_text(message[:1].lower() + message[1:])


def validation_problems(errors: list[dict]) -> list[dict]:
    """Return FastAPI's error list with plain messages naming the field, and no input echo."""
    problems = []
    for error in errors:
        loc = [p if isinstance(p, int) else safe_text(p, 80) for p in error.get("loc", ())]
        name = field_name(tuple(error.get("loc", ())))
        problems.append(
            {
                "loc": loc,
                "msg": f"{name}: {plain_message(error)}",
                "type": safe_text(error.get("type", "invalid"), 60),
            }
        )
    return problems


def install(app: FastAPI) -> None:
    """Register the API's error answers on `app`."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Answer a body that is not JSON text (bad UTF-8, too deep) as a 422, like bad JSON."""
        if exc.status_code == 400 and exc.detail == FASTAPI_UNPARSABLE_BODY:
            problem = {"loc": ["body"], "msg": "body: " + NOT_JSON, "type": "json_invalid"}
            return JSONResponse(status_code=422, content={"detail": [problem]})
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """Answer 422 with each field named and what is wrong with it, in plain words."""
        return JSONResponse(status_code=422, content={"detail": validation_problems(exc.errors())})

    @app.exception_handler(DomainError)
    def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        """Answer a domain error with its status and a sentence saying what is wrong."""
        return JSONResponse(status_code=exc.status_code, content={"detail": safe_text(exc, None)})

    def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """Answer 503 with Retry-After while the database cannot be reached."""
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            status_code=503,
            content={"detail": UNAVAILABLE},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for kind in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout):
        app.add_exception_handler(kind, database_unavailable)
