"""Insert many rows with few statements: every row of a chunk travels in one array per column.

psycopg sends at most 65,535 parameters with one statement; with one array per column, a chunk
of any size is as many parameters as the table has columns. Rows still go `CHUNK_ROWS` at a time
(`core.audit.failures`), so one statement never carries more than a chunk. Values are cast to
their column's base type (text, numeric …) and assigned on insert, so a value the column cannot
hold is refused as an ORM insert would refuse it (never silently cut to the column's length).
"""

import json
from collections.abc import Callable, Sequence
from functools import lru_cache, partial

from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    Uuid,
)
from sqlalchemy.orm import Session

from core.audit.failures import CHUNK_ROWS, chunks

# The array type each kind of column travels in (JSON and arrays travel as JSON text).
BASE_TYPES = (
    (Enum, "text"),
    (String, "text"),
    (Uuid, "uuid"),
    (DateTime, "timestamptz"),
    (Date, "date"),
    (Boolean, "boolean"),
    (Integer, "bigint"),
    (Numeric, "numeric"),
    (Float, "float8"),
)


def _base(column) -> str:
    for kind, name in BASE_TYPES:
        if isinstance(column.type, kind):
            return name
    raise TypeError(f"{column.table.name}.{column.name}: no bulk insert for {column.type!r}")


def _value(column, expr: str) -> str:
    if isinstance(column.type, ARRAY):
        return (
            f"CASE WHEN {expr} IS NULL THEN NULL ELSE "
            f"ARRAY(SELECT jsonb_array_elements_text(CAST({expr} AS jsonb))) END"
        )
    if isinstance(column.type, JSON):
        return f"CAST({expr} AS jsonb)"
    return expr


@lru_cache(maxsize=64)
def _statement(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...]) -> str:
    cols = [table.c[name] for name in columns]
    # `%(name)b`: psycopg sends the arrays in binary, not as escaped text, which is far slower
    # for long text such as Markdown and JSON payloads.
    arrays = ", ".join(
        f"CAST(%(c{i})b AS {'text' if _travels_as_json(c) else _base(c)}[])"
        for i, c in enumerate(cols)
    )
    names = ", ".join(f"c{i}" for i in range(len(cols)))
    values = ", ".join(_value(c, f"x.c{i}") for i, c in enumerate(cols))
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {values} FROM unnest({arrays}) AS x({names})"
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return sql


def _travels_as_json(column) -> bool:
    return isinstance(column.type, ARRAY | JSON)


def _defaults(table: Table, given: Sequence[str]) -> dict[str, Callable[[], object]]:
    """Return a maker of the Python-side default of each column a row leaves out (as the ORM)."""
    found = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None:
            continue
        if default.is_scalar:
            found[column.name] = partial(lambda value: value, default.arg)
        elif default.is_callable:  # called per row: uuid4, list …
            found[column.name] = partial(default.arg, None)
        else:
            raise TypeError(f"{table.name}.{column.name}: give a value for a SQL default")
    return found


def insert_rows(
    session: Session, table: Table, rows: Sequence[dict], *, skip_conflicts_on: Sequence[str] = ()
) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, one statement per chunk.

    `skip_conflicts_on` names a unique key: a row that would repeat it is left out.
    """
    if not rows:
        return
    given = tuple(rows[0])
    defaults = _defaults(table, given)
    columns = given + tuple(defaults)
    stmt = _statement(table, columns, tuple(skip_conflicts_on))
    processors = [_processor(session, table.c[name]) for name in columns]
    session.flush()  # the statement goes to the driver as is, past the session's autoflush
    connection = session.connection()
    for part in chunks(rows, CHUNK_ROWS):
        params = {}
        for i, (name, process) in enumerate(zip(columns, processors, strict=True)):
            params[f"c{i}"] = [
                process(row[name] if name in row else defaults[name]()) for row in part
            ]
        connection.exec_driver_sql(stmt, params)


def _processor(session: Session, column):
    if isinstance(column.type, ARRAY):
        return lambda value: None if value is None else json.dumps(value)
    if isinstance(column.type, JSON):  # None is JSON null, as the ORM stores it
        return json.dumps
    convert = column.type.bind_processor(session.get_bind().dialect)
    return convert or (lambda value: value)
