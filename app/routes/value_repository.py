"""Search documented wins and count their reuse (QBRs, renewals, sales, case studies)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy.orm import Session

from app.deps import ANY_ROLE, get_read_session, get_session, require_roles
from app.routes.goals import errors
from core.accounts.models import ApiKey
from core.paging import Cursor
from core.repository import queries as repository
from core.repository.schemas import RepositoryFilters, RepositoryPage, UseIn, UseOut
from core.repository.service import record_use
from core.schemas import Offset

router = APIRouter(prefix="/api/value-repository", tags=["value repository"])


class SearchParams(RepositoryFilters):
    """Query parameters: the filters plus a page window."""

    limit: int = Field(20, ge=1, le=100)
    offset: Offset = Field(
        0, description="Rows to skip (slower than `cursor`; kept for older clients)"
    )
    cursor: Cursor | None = None


@router.get(
    "",
    response_model=RepositoryPage,
    response_model_by_alias=True,
    responses=errors(
        {422: "A filter or the paging is invalid (field named), or a cursor with an offset"}
    ),
)
def search(
    params: Annotated[SearchParams, Query()],
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> RepositoryPage:
    """Search wins: free text (web search syntax) ranked by relevance, else newest first.

    Filters combine; `consent` may repeat or be comma-separated. `customerName` is null unless
    the stricter of the entry's and the customer's consent is `logo` or `full_public`. More than
    1,000 matches: `total` is 1000 with `totalCapped` true, and a search ranks the 1,000 newest
    matches. Page with `cursor` (the previous page's `nextCursor`).
    """
    return repository.search_entries(session=session, **params.model_dump())


@router.post(
    "/{entry_id}/use",
    response_model=UseOut,
    response_model_by_alias=True,
    responses=errors({404: "Unknown entry", 422: "Invalid body (unknown purpose, …)"}),
)
def use(
    entry_id: uuid.UUID,
    body: UseIn,
    key: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_session),
) -> UseOut:
    """Count one use of a win (copied, exported, added to a QBR) and return the new count."""
    count = record_use(
        session=session, entry_id=entry_id, purpose=body.purpose, actor=f"api:{key.name}"
    )
    return UseOut(id=entry_id, usage_count=count)
