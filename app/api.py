"""The HTTP API for other systems (`uvicorn app.api:app`); OpenAPI at /docs."""

from fastapi import FastAPI

from app import errors
from app.limits import DEFAULT_LIMIT, LIMITS, MB, BodyLimit
from app.routes import (
    admin,
    catalog,
    customers,
    goals,
    ingest,
    system,
    upsell,
    value_pack,
    value_repository,
)

# Answers every route may give besides its own (documented so clients and the fuzzer know them).
COMMON_RESPONSES = {
    413: {
        "model": goals.ErrorOut,
        "description": f"The body is over {DEFAULT_LIMIT // MB} MB ("
        + ", ".join(f"{path}: {size // MB} MB" for path, size in LIMITS.items())
        + "), whether sent with a Content-Length or chunked",
    },
    503: {
        "model": goals.ErrorOut,
        "description": "The database is unavailable; retry after the Retry-After seconds",
        "headers": {"Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}},
    },
}

app = FastAPI(
    title="Outcomes API",
    version="0.1.0",
    description="Goals, achievements, usage and upsell measurement for other systems. "
    "Every /api route needs `Authorization: Bearer <key>`.",
)
app.add_middleware(BodyLimit)
errors.install(app)
for router in (
    system.health_router,
    system.router,
    admin.router,
    value_repository.router,
    goals.router,
    ingest.router,
    customers.router,
    value_pack.router,
    upsell.router,
    catalog.router,
):
    app.include_router(router, responses=COMMON_RESPONSES)
