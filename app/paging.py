"""Keyset paging for list routes that answer a JSON array: the next page's cursor in a header.

Their answer stays the array earlier clients read; asked for a page (`limit`), a route that has
more rows says so in `X-Next-Cursor`, which the client passes back as `cursor`. Routes that
answer an object carry `nextCursor` in it instead (`core.paging`).
"""

from typing import Annotated

from fastapi import Query, Response

from core.paging import Cursor

NEXT_CURSOR = "X-Next-Cursor"
PAGED = {
    200: {
        "headers": {
            NEXT_CURSOR: {
                "description": "Present when `limit` was given and more rows follow: pass it "
                "as `cursor` for the next page",
                "schema": {"type": "string"},
            }
        }
    }
}
Limit = Annotated[
    int | None,
    Query(ge=1, le=500, description="Rows per page (1-500); without it, every row at once"),
]
CursorParam = Annotated[Cursor | None, Query()]


def next_page(response: Response, cursor: str | None) -> None:
    """Tell the client where the next page starts, when there is one."""
    if cursor:
        response.headers[NEXT_CURSOR] = cursor
