"""Health of the API and its dependencies, and who am I (key management is in admin.py)."""

from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field

from app.deps import ANY_ROLE, Caller, caller, require_roles
from app.errors import RETRY_AFTER_SECONDS
from app.routes.goals import errors
from core.accounts.models import ApiKey
from core.accounts.schemas import KeyOut
from core.db import ping
from core.schemas import CamelModel

router = APIRouter(prefix="/api", tags=["system"])
health_router = APIRouter(tags=["system"])


class DependencyOut(CamelModel):
    name: str = Field(description="What the API depends on: database")
    status: Literal["reachable", "unreachable"]
    detail: str = Field(description="What that means for callers, in plain words")


class HealthOut(CamelModel):
    status: Literal["ok", "degraded"]
    database: Literal["reachable", "unreachable"]
    dependencies: list[DependencyOut] = Field(description="Each dependency and whether it answers")


def database_check() -> DependencyOut:
    """Return whether the database answers a trivial query."""
    if ping():
        return DependencyOut(name="database", status="reachable", detail="Answers queries.")
    return DependencyOut(
        name="database",
        status="unreachable",
        detail="Does not answer; every /api route answers 503 until it is back.",
    )


@health_router.get(
    "/health",
    response_model=HealthOut,
    summary="Whether the API and each of its dependencies are up",
    description="No API key needed. 200 when every dependency answers; 503 (with Retry-After) "
    "naming the one that does not.",
    responses={503: {"model": HealthOut, "description": "A dependency is down (named)"}},
)
def health() -> JSONResponse:
    """Report whether the API is up and which of its dependencies answer."""
    checks = [database_check()]
    down = any(c.status != "reachable" for c in checks)
    body = HealthOut(
        status="degraded" if down else "ok", database=checks[0].status, dependencies=checks
    )
    return JSONResponse(
        body.model_dump(mode="json", by_alias=True),
        status_code=503 if down else 200,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if down else None,
    )


@router.get(
    "/me",
    response_model=KeyOut,
    response_model_by_alias=True,
    responses=errors({}),
)
async def me(
    key: ApiKey = Depends(require_roles(*ANY_ROLE)), found: Caller = Depends(caller)
) -> KeyOut:
    """Describe the key making the call and the person it acts as, if it is bound to one."""
    # Answered from the authentication's own read of the key and its person: no further query.
    return KeyOut(
        id=key.id,
        name=key.name,
        role=key.role,
        prefix=key.prefix,
        revoked=key.revoked,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        acts_as=found.acts_as,
    )
