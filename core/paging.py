"""Keyset pagination: opaque cursors and the condition that continues after one.

A cursor holds the sort key of the last row a page showed and the name of the order it belongs
to. The next page starts right after that key, so it costs the same however deep it is, and rows
written meanwhile neither repeat nor skip rows. `offset` stays for older clients (it reads and
throws away every row before the page, so deep offsets are slow).
"""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import ColumnElement, Select, and_, literal, or_

from core.errors import Invalid
from core.schemas import SingleLine

CURSOR_LENGTH = 512
Cursor = Annotated[
    SingleLine,
    Field(
        max_length=CURSOR_LENGTH,
        description="`nextCursor` of the previous page: the next page starts after it (faster "
        "than `offset`, which stays for compatibility)",
    ),
]
STALE = "cursor: is not one this list gave out; start again without it"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode(order: str, key: Sequence[Any]) -> str:
    """Return the opaque cursor of the row whose sort key is `key` in the order named `order`."""
    raw = json.dumps([order, [_plain(v) for v in key]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, order: str, types: Sequence[Callable[[Any], Any]]) -> tuple:
    """Return the sort key a cursor holds, read with `types`; Invalid unless it is `order`'s."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, key = json.loads(raw)
        if name != order or len(key) != len(types):
            raise ValueError(name)
        if any(isinstance(v, str) and "\x00" in v for v in key):
            raise ValueError("NUL")  # in no key given out, and the database would refuse it
        return tuple(read(value) for read, value in zip(types, key, strict=True))
    except (
        binascii.Error,
        UnicodeDecodeError,
        ValueError,
        TypeError,
        AttributeError,
        OverflowError,
    ):
        raise Invalid(STALE) from None


def after(order: Sequence[tuple[ColumnElement, bool]], key: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after `key` in `order`: (column, descending) pairs; the columns are never NULL."""
    # Bound as the column's type (True and False too, which plain operators refuse).
    values = [
        v if isinstance(v, ColumnElement) else literal(v, c.type)
        for (c, _), v in zip(order, key, strict=True)
    ]
    branches = []
    for i, (column, descending) in enumerate(order):
        same = [c == v for (c, _), v in zip(order[:i], values[:i], strict=True)]
        beyond = column < values[i] if descending else column > values[i]
        branches.append(and_(*same, beyond))
    return or_(*branches)


def start(*, cursor: str | None, offset: int) -> None:
    """Refuse a request that gives both a cursor and an offset."""
    if cursor is not None and offset:
        raise Invalid("cursor: give either a cursor or an offset, not both")


@dataclass(frozen=True)
class Keyset:
    """A named sort order that lists page through: its columns and how to read a cursor back.

    `order` holds (column, descending) pairs whose last columns make the order unique; `types`
    read the cursor's key (one per column) back from JSON.
    """

    name: str
    order: tuple[tuple[ColumnElement, bool], ...]
    types: tuple[Callable[[Any], Any], ...]

    def select(self, stmt: Select, *, cursor: str | None, limit: int | None) -> Select:
        """Return `stmt` in this order, after `cursor`, with one row past `limit` to look ahead."""
        stmt = stmt.order_by(*(c.desc() if descending else c for c, descending in self.order))
        if cursor:
            stmt = stmt.where(after(self.order, decode(cursor, self.name, self.types)))
        return stmt.limit(None if limit is None else limit + 1)

    def cut(self, rows: list, limit: int | None, key: Callable[[Any], Sequence[Any]]):
        """Return the page's rows and the next page's cursor (None when no row follows)."""
        if limit is None or len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, encode(self.name, key(rows[-1]))
