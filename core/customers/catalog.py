"""The metrics catalogue: add and edit the metrics observations, goals and plans refer to.

A metric is upserted by its key (`KEY_PATTERN`). Its name, kind, money flag and description
may change at any time. Its unit and direction may change only while nothing holds numbers in
its terms: once usage observations, goals, upsell plans, industry benchmarks or success
templates refer to it, a new unit or direction would silently change what those stored numbers
mean (a goal of "8 hours" read as minutes, a cut counted as a win), so the change is refused
(409, naming the field) and the way out is a new metric with its own key. Every change is
audited with each field's before and after.
"""

import re

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import paging
from core.audit.service import record_audit
from core.customers.catalog_schemas import KEY_PATTERN, KEY_RULE, MetricIn, MetricOut
from core.customers.models import Metric
from core.errors import Conflict, Invalid, NotFound

FIELDS = ("name", "unit", "kind", "direction", "is_money", "description")
FIXED_WHEN_USED = {"unit": "unit", "direction": "direction"}  # model field -> API field
# Every table that refers to a metric by foreign key holds numbers in its terms; the database
# lists them, so a package added later is covered without this one knowing it.
REFERRING = text(
    """
    SELECT c.conrelid::regclass::text AS tbl, quote_ident(a.attname) AS col
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.contype = 'f' AND c.confrelid = 'metrics'::regclass AND c.conparentid = 0
     ORDER BY 1
    """
)
# Success templates copy a metric's unit and direction into their criteria (JSON, no foreign key).
IN_TEMPLATES = """
    SELECT 'success_templates', m.key FROM metrics m WHERE {only} EXISTS (
        SELECT 1 FROM success_templates t
         WHERE t.metrics @> jsonb_build_array(jsonb_build_object('metricKey', m.key))
            OR t.milestones @> jsonb_build_array(jsonb_build_object('metricKey', m.key)))
"""
USE_WORDS = {
    "metric_observations": "usage observations",
    "goals": "goals",
    "measurement_metrics": "upsell plans",
    "industry_benchmarks": "industry benchmarks",
    "success_templates": "success templates",
}


def check_key(key: str) -> str:
    """Return `key` when it is a well-formed metric key; Invalid naming `key` otherwise."""
    if not isinstance(key, str) or re.fullmatch(KEY_PATTERN, key) is None:
        raise Invalid(f"key: must be {KEY_RULE}.")
    return key


def metric_uses(*, session: Session, keys: list[str] | None = None) -> dict[str, list[str]]:
    """Return {metric key: what refers to it, in words}; metrics nothing uses are left out."""
    only = "m.key = ANY(:keys) AND" if keys is not None else ""
    parts = [
        f"SELECT '{r.tbl}', m.key FROM metrics m WHERE {only} EXISTS "
        f"(SELECT 1 FROM {r.tbl} x WHERE x.{r.col} = m.key)"
        for r in session.execute(REFERRING)
    ]
    parts.append(IN_TEMPLATES.format(only=only))
    found: dict[str, list[str]] = {}
    params = {"keys": list(keys)} if keys is not None else {}
    for table, key in session.execute(text(" UNION ALL ".join(parts)), params):
        words = USE_WORDS.get(table.rsplit(".", 1)[-1], table.replace("_", " "))
        found.setdefault(key, []).append(words)
    order = list(USE_WORDS.values())
    return {
        k: sorted(set(v), key=lambda w: (order.index(w) if w in order else len(order), w))
        for k, v in found.items()
    }


def _out(row: Metric, used_by: list[str]) -> MetricOut:
    return MetricOut(
        key=row.key,
        name=row.name,
        unit=row.unit,
        kind=row.kind,
        direction=row.direction,
        is_money=row.is_money,
        description=row.description,
        used_by=used_by,
    )


def list_metrics(*, session: Session) -> list[MetricOut]:
    """Return every metric of the catalogue, by name, with what uses it."""
    uses = metric_uses(session=session)
    rows = session.scalars(select(Metric).order_by(Metric.name, Metric.key))
    return [_out(row, uses.get(row.key, [])) for row in rows]


METRICS = paging.Keyset("metrics.name", ((Metric.name, False), (Metric.key, False)), (str, str))


def metric_page(
    *, session: Session, limit: int | None = None, cursor: str | None = None
) -> tuple[list[MetricOut], str | None]:
    """Return a page of the catalogue by name (all without `limit`) and the next page's cursor."""
    query = METRICS.select(select(Metric), cursor=cursor, limit=limit)
    rows, following = METRICS.cut(list(session.scalars(query)), limit, lambda r: (r.name, r.key))
    uses = metric_uses(session=session, keys=[row.key for row in rows])
    return [_out(row, uses.get(row.key, [])) for row in rows], following


def get_metric(*, session: Session, key: str) -> MetricOut:
    """Return one metric with what uses it; NotFound when the catalogue has no such key."""
    row = session.get(Metric, key)
    if row is None:
        raise NotFound(f"No metric with key '{key}'.")
    return _out(row, metric_uses(session=session, keys=[key]).get(key, []))


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def save_metric(
    *, session: Session, key: str, body: MetricIn, actor: str, actor_user_id=None
) -> tuple[MetricOut, bool]:
    """Create or update the metric `key`; True when created. Audited when anything changed."""
    check_key(key)
    given = body.model_dump(exclude_unset=True)
    if "description" in given:
        given["description"] = given["description"] or None  # blank clears it
    current = session.get(Metric, key, with_for_update=True, populate_existing=True)
    if current is None:
        values = {name: getattr(body, name) for name in FIELDS} | given
        row = Metric(key=key, **values)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError as exc:
            raise Conflict(f"key: metric '{key}' was just added by someone else.") from exc
        _audit(
            session,
            actor,
            actor_user_id,
            "metric.created",
            key,
            {n: [None, v] for n, v in values.items()},
        )
        return _out(row, []), True
    changes = {n: [getattr(current, n), v] for n, v in given.items() if getattr(current, n) != v}
    fixed = [api for name, api in FIXED_WHEN_USED.items() if name in changes]
    uses = metric_uses(session=session, keys=[key]).get(key, [])
    if fixed and uses:
        raise Conflict(
            f"{fixed[0]}: {current.name} already has {_joined(uses)}; a new "
            f"{' and '.join(fixed)} would change what those stored numbers mean. Keep it, or add "
            "a new metric with its own key."
        )
    if changes:
        for name, (_, new) in changes.items():
            setattr(current, name, new)
        session.flush()
        _audit(session, actor, actor_user_id, "metric.updated", key, changes)
    return _out(current, uses), False


def _audit(session: Session, actor: str, actor_user_id, action: str, key: str, changes: dict):
    record_audit(
        session=session,
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        entity_type="metric",
        entity_id=key,
        changes=changes,
    )
