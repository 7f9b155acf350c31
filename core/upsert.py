"""Idempotent upserts of inbound records keyed by another system's id."""

import uuid

from sqlalchemy import func, literal_column, select
from sqlalchemy import tuple_ as row_of
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.errors import Conflict


def forget_loaded(session: Session, model, row_id: uuid.UUID) -> None:
    # The upserts bypass the ORM; make a loaded copy re-read its row (and its new version).
    loaded = session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        session.expire(loaded)


def upsert_by_key(
    session: Session, table, values: dict, update: list[str], key: str, extra: dict
) -> tuple[uuid.UUID, str]:
    """Insert `values` or update the `update` columns of the row with that `key`; say which."""
    # The row is touched (version bumped) only when one of those columns differs.
    stmt = insert(table).values(values)
    set_ = {name: stmt.excluded[name] for name in update}
    if update:
        differs = row_of(*(table.c[n] for n in update)).is_distinct_from(
            row_of(*(stmt.excluded[n] for n in update))
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[key],
            set_={**set_, "version": table.c.version + 1, "updated_at": func.now(), **extra},
            where=differs,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=[key])
    stmt = stmt.returning(table.c.id, literal_column("xmax = 0").label("created"))
    try:
        with session.begin_nested():
            row = session.execute(stmt).first()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise Conflict(f"Another record already holds one of these values ({constraint}).") from exc
    if row is None:
        return session.scalar(select(table.c.id).where(table.c[key] == values[key])), "unchanged"
    return row.id, "created" if row.created else "updated"
