"""The HTTP API for other systems (`uvicorn app.api:app`); OpenAPI at /docs."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.routes import customers, goals, ingest, system, upsell, value_repository
from core.db import ping
from core.errors import DomainError

app = FastAPI(
    title="Outcomes API",
    version="0.1.0",
    description="Goals, achievements, usage and upsell measurement for other systems. "
    "Every /api route needs `Authorization: Bearer <key>`.",
)
app.include_router(system.router)
app.include_router(value_repository.router)
app.include_router(goals.router)
app.include_router(ingest.router)
app.include_router(customers.router)
app.include_router(upsell.router)


@app.exception_handler(DomainError)
def domain_error(_: Request, exc: DomainError) -> JSONResponse:
    """Answer a domain error with its status and a sentence saying what is wrong."""
    return JSONResponse(status_code=exc.status_code, content={"detail": str(exc)})


@app.get("/health", tags=["system"])
def health() -> JSONResponse:
    """Report whether the API is up and the database answers."""
    if ping():
        return JSONResponse({"status": "ok", "database": "reachable"})
    return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
