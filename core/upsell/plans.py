"""Measurement plans for closed upsells: create, re-plan and customize them.

`create_plans` gives every upsell without a plan one (criteria and targets worked out by
`core.upsell.targets.draft_plans`), checkpoints at its products' template days (30/60/90 by
default, due close + day) and `horizon_days` = the last one; `upsell_measurements.upsell_id` is
unique, so however often it runs an opportunity has one plan.

Re-planning (the opportunity's amount, close date or products changed) only adds: the criteria
and checkpoints of products new to the plan, skipping criteria the CSM removed. It never edits or
deletes an existing criterion; a moved close date moves the still-scheduled checkpoints.

Customizing: a CSM may set any target strictly beyond the criterion's baseline at close in the
metric's direction (`target_rules.check_target`: one already met at close is Invalid, naming the
`target` field); a criterion added with a metric key and no baseline gets its baseline at close
from usage, as drafting does. A target or baseline a person sets is recorded as set by the CSM.
"""

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from numbers import Number

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.audit.service import record_audit
from core.customers.models import Metric
from core.errors import Conflict, Invalid, NotFound
from core.formatting import number
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementMetric,
    MeasurementMode,
    TargetSource,
)
from core.upsell.queries import plan_view
from core.upsell.schemas import Plan, PlanChanges, validated
from core.upsell.target_rules import check_target
from core.upsell.targets import baselines_at_close, draft_plans, note

CANDIDATES = """
    SELECT u.id AS upsell_id, u.customer_id, u.close_date, u.stated_criteria, c.industry,
           c.segment, c.health_score, m.id AS measurement_id, m.planned_products, m.removed_metrics,
           (SELECT coalesce(max(x.position) + 1, 0) FROM measurement_metrics x
             WHERE x.measurement_id = m.id) AS offset,
           coalesce(array_agg(p.product_code ORDER BY p.product_code)
                    FILTER (WHERE p.product_code IS NOT NULL), '{{}}') AS products
    FROM upsells u JOIN customers c ON c.id = u.customer_id
    LEFT JOIN upsell_products p ON p.upsell_id = u.id
    LEFT JOIN upsell_measurements m ON m.upsell_id = u.id
    WHERE {where}
    GROUP BY u.id, c.id, m.id
"""
REPLANNED = text(
    """
    UPDATE upsell_measurements m
       SET planned_products = v.products, started_on = v.started, replan_requested_at = NULL,
           plan_notes = m.plan_notes || v.notes, version = m.version + 1, updated_at = :now,
           horizon_days = coalesce((SELECT max(day) FROM checkpoints c
                                    WHERE c.measurement_id = m.id), m.horizon_days)
      FROM jsonb_to_recordset(CAST(:rows AS jsonb))
           AS v(id uuid, products text[], started date, notes jsonb)
     WHERE m.id = v.id
    """
)
MOVE_CHECKPOINTS = text(
    """
    UPDATE checkpoints c SET due_on = m.started_on + c.day, updated_at = :now
      FROM upsell_measurements m
     WHERE m.id = c.measurement_id AND m.id = ANY(CAST(:ids AS uuid[]))
       AND c.status = 'scheduled' AND c.due_on <> m.started_on + c.day
    """
)


def _insert_children(session: Session, plans: dict, now: datetime) -> None:
    """Insert the criteria and checkpoints of {measurement id: (draft, close date, offset)}."""
    metrics = [
        {
            "id": uuid.uuid4(),
            "measurement_id": mid,
            "position": offset + i,
            "created_at": now,
            "updated_at": now,
            **spec,
        }
        for mid, (draft, _, offset) in plans.items()
        for i, spec in enumerate(draft.metrics.values())
    ]
    checkpoints = [
        {
            "id": uuid.uuid4(),
            "measurement_id": mid,
            "day": day,
            "kind": f"day_{day}",
            "due_on": close + timedelta(days=day),
            "status": "scheduled",
            "created_at": now,
            "updated_at": now,
        }
        for mid, (draft, close, _) in plans.items()
        for day in sorted(draft.days)
    ]
    tables = ((MeasurementMetric.__table__, metrics), (Checkpoint.__table__, checkpoints))
    for table, rows in tables:
        if rows:
            session.execute(insert(table).on_conflict_do_nothing(), rows)


def create_plans(*, session: Session, now: datetime | None = None) -> list[uuid.UUID]:
    """Create one plan for every upsell without one; return the new plans' ids."""
    now = now or datetime.now(UTC)
    targets = session.execute(text(CANDIDATES.format(where="m.id IS NULL"))).all()
    if not targets:
        return []
    drafts = draft_plans(session=session, targets=targets)
    rows = [
        {
            "id": uuid.uuid4(),
            "upsell_id": t.upsell_id,
            "customer_id": t.customer_id,
            "status": "active",
            "started_on": t.close_date,
            "health_before": t.health_score,
            "horizon_days": max(drafts[t.upsell_id].days),
            "planned_products": list(t.products),
            "plan_notes": drafts[t.upsell_id].notes,
            "created_at": now,
            "updated_at": now,
        }
        for t in targets
    ]
    stmt = insert(Measurement.__table__).on_conflict_do_nothing()
    created = dict(
        session.execute(stmt.returning(Measurement.upsell_id, Measurement.id), rows).all()
    )
    plans = {
        created[t.upsell_id]: (drafts[t.upsell_id], t.close_date, 0)
        for t in targets
        if t.upsell_id in created
    }
    _insert_children(session, plans, now)
    return list(plans)


def replan(*, session: Session, now: datetime | None = None) -> list[uuid.UUID]:
    """Bring plans marked for re-planning up to date by adding; return their ids."""
    now = now or datetime.now(UTC)
    where = "m.replan_requested_at IS NOT NULL AND m.status = 'active'"
    targets = session.execute(text(CANDIDATES.format(where=where))).all()
    if not targets:
        return []
    drafts = draft_plans(session=session, targets=targets)
    _insert_children(
        session,
        {t.measurement_id: (drafts[t.upsell_id], t.close_date, t.offset) for t in targets},
        now,
    )
    rows = []
    for t in targets:
        gone = sorted(set(t.planned_products) - set(t.products))
        added = ", ".join(c for c in t.products if c not in t.planned_products) or "none"
        summary = f"Re-planned after the opportunity changed; new products: {added}"
        if gone:
            summary += f"; no longer sold: {', '.join(gone)} (their criteria stay)"
        notes = [note("replan", summary, at=now.isoformat()), *drafts[t.upsell_id].notes]
        rows.append(
            {
                "id": t.measurement_id,
                "products": list(t.products),
                "started": t.close_date,
                "notes": notes,
            }
        )
    ids = [t.measurement_id for t in targets]
    session.execute(REPLANNED, {"rows": json.dumps(rows, default=str), "now": now})
    session.execute(MOVE_CHECKPOINTS, {"ids": ids, "now": now})
    return ids


EDITABLE = ("metric_key", "type", "unit", "direction", "measurement", "baseline", "target")
STALE = "Someone else changed this plan since you loaded it; reload and try again."


def _value(value):
    # 60.0000 read back and 60 just typed are the same target in the audit log.
    return format(value.normalize(), "f") if isinstance(value, Decimal) else value


def _snapshot(metrics, days) -> dict:
    return {
        "metrics": {m.name: {f: _value(getattr(m, f)) for f in EDITABLE} for m in metrics},
        "checkpointDays": sorted(days),
    }


def _who(actor) -> str:
    found = getattr(actor, "name", None) or getattr(actor, "email", None)
    if found:
        return found
    said = str(actor)
    return f"the API key '{said.removeprefix('api:')}'" if said.startswith("api:") else said


def _mark_set_by_csm(row: MeasurementMetric, before: tuple, who: str, today: date) -> None:
    """Record that a person set the target (or the baseline it is measured from)."""
    old_target, old_baseline = before
    target_changed = old_target is None or _differs(row.target, old_target)
    if not (target_changed or _differs(row.baseline, old_baseline)):
        return
    row.target_source = TargetSource.CSM
    if old_target is None:
        row.target_explanation = f"Set by {who} on {today.isoformat()}."
    elif target_changed:
        was = number(old_target, row.unit)
        row.target_explanation = f"Set by {who} on {today.isoformat()}; it was {was}."
    else:
        row.target_explanation = (
            f"Baseline set to {number(row.baseline, row.unit)} by {who} on {today.isoformat()}; "
            f"the target stays {number(row.target, row.unit)}."
        )


def _apply_metric(
    session: Session, plan: Measurement, rows: dict, change, *, baselines: dict, who: str
) -> None:
    row = rows.get(change.name)
    if change.action == "add":
        if row is not None:
            raise Invalid(f"{change.name}: the plan already has a criterion with this name")
        position = max((r.position for r in rows.values()), default=-1) + 1
        row = rows[change.name] = MeasurementMetric(
            measurement_id=plan.id, name=change.name, origin="csm", position=position
        )
        session.add(row)
        plan.removed_metrics = [n for n in plan.removed_metrics if n != change.name]
    elif row is None:
        raise Invalid(f"{change.name}: this plan has no criterion with this name")
    elif change.action == "remove":
        session.delete(row)
        session.flush()  # a criterion removed and added back in one change must not collide
        del rows[change.name]
        plan.removed_metrics = [*plan.removed_metrics, change.name]
        return
    before = (None, None) if change.action == "add" else (row.target, row.baseline)
    fields = EDITABLE if change.action == "add" else change.model_fields_set & set(EDITABLE)
    for name in fields:
        setattr(row, name, getattr(change, name))
    if change.action == "add" and row.baseline is None and row.metric_key:
        row.baseline = baselines.get(row.metric_key)  # the baseline at close, as drafting does
    if any(getattr(row, f) is None for f in ("type", "unit", "direction", "measurement", "target")):
        raise Invalid(f"{change.name}: type, unit, direction, measurement and target are required")
    if row.measurement == MeasurementMode.AUTOMATIC and not row.metric_key:
        raise Invalid(f"{change.name}: an automatic criterion needs a metric key")
    if row.unit == "%" and any(v is not None and v > 100 for v in (row.target, row.baseline)):
        raise Invalid(f"{change.name}: a percentage cannot exceed 100")
    if change.action == "add" or fields & {"target", "baseline", "direction"}:
        check_target(
            name=row.name, target=row.target, baseline=row.baseline, direction=row.direction
        )
    _mark_set_by_csm(row, before, who, datetime.now(UTC).date())


def _apply_days(session: Session, plan: Measurement, checkpoints: dict, days: list[int]) -> None:
    for day, checkpoint in list(checkpoints.items()):
        if day not in days:
            if checkpoint.status != CheckpointStatus.SCHEDULED:
                raise Invalid(f"The day-{day} checkpoint is already {checkpoint.status.value}.")
            session.delete(checkpoint)
            del checkpoints[day]
    for day in sorted(set(days) - set(checkpoints)):
        checkpoints[day] = Checkpoint(
            measurement_id=plan.id,
            day=day,
            kind=f"day_{day}",
            due_on=plan.started_on + timedelta(days=day),
        )
        session.add(checkpoints[day])
    plan.horizon_days = max(days)


def customize_plan(
    *,
    session: Session,
    measurement_id: uuid.UUID,
    metrics: list,
    expected_version: int,
    actor,
    checkpoint_days: list[int] | None = None,
) -> Plan:
    """Apply a CSM's changes to a plan's criteria and checkpoints, audited; Conflict if stale."""
    changes = validated(PlanChanges, {"metrics": metrics, "checkpoint_days": checkpoint_days})
    plan = session.get(Measurement, measurement_id)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    if plan.version != expected_version:
        raise Conflict(STALE)
    rows = {
        m.name: m
        for m in session.scalars(
            select(MeasurementMetric).where(MeasurementMetric.measurement_id == plan.id)
        )
    }
    checkpoints = {
        c.day: c
        for c in session.scalars(select(Checkpoint).where(Checkpoint.measurement_id == plan.id))
    }
    before = _snapshot(rows.values(), checkpoints)
    keys = {c.metric_key for c in changes.metrics if c.metric_key}
    known = set(session.scalars(select(Metric.key).where(Metric.key.in_(keys))))
    if unknown := sorted(keys - known):
        raise Invalid(f"Unknown metric key(s): {', '.join(unknown)}.")
    added = {
        c.metric_key
        for c in changes.metrics
        if c.action == "add" and c.metric_key and c.baseline is None
    }
    found = baselines_at_close(
        session=session, wanted=[(plan.customer_id, k, plan.started_on) for k in sorted(added)]
    )
    baselines = {key: value for (_, key, _), value in found.items()}
    try:
        with session.begin_nested():  # an invalid change leaves nothing half-applied
            for change in changes.metrics:
                _apply_metric(session, plan, rows, change, baselines=baselines, who=_who(actor))
            if changes.checkpoint_days is not None:
                _apply_days(session, plan, checkpoints, changes.checkpoint_days)
            plan.updated_at = datetime.now(UTC)  # bumps the version even if only children changed
    except StaleDataError as exc:
        raise Conflict(STALE) from exc
    after = _snapshot(rows.values(), checkpoints)
    record_audit(
        session=session,
        actor=getattr(actor, "email", str(actor)),
        action="upsell_plan.customize",
        actor_user_id=getattr(actor, "id", None),
        entity_type="upsell_measurement",
        entity_id=plan.id,
        changes={"before": before, "after": after},
    )
    return plan_view(session=session, measurement_id=plan.id)


def _differs(new, old) -> bool:
    if new is None or old is None:
        return new is not old
    if isinstance(new, Number) and isinstance(old, Number):
        return Decimal(str(new)) != Decimal(str(old))  # 60.0 typed is the stored 60.0000
    return new != old


def criteria_changes(
    current: Iterable, wanted: list[dict], *, updatable: Iterable[str] | None = None
) -> list[dict]:
    """Return the `customize_plan` changes that turn criteria `current` into `wanted`.

    `current` holds the plan's criteria (anything with their fields as attributes); each `wanted`
    dict names a criterion and the fields it sets, a field left out keeping what the plan has. A
    criterion missing from `wanted` is removed. A new one is added: an outcome unless it says
    otherwise, measured automatically when it has a metric key unless told otherwise. An existing
    one is updated with its fields in `updatable` (default: every field it gives) when any of
    them differs, numbers compared by value. Nothing differs, nothing changes: an empty list.
    """
    have = {m.name: m for m in current}
    allowed = None if updatable is None else set(updatable)
    names = {w["name"] for w in wanted}
    changes: list[dict] = [{"action": "remove", "name": n} for n in have if n not in names]
    for w in wanted:
        spec = {"measurement": "automatic" if w.get("metric_key") else "manual", **w}
        old = have.get(spec["name"])
        if old is None:
            changes.append({"action": "add", "type": "outcome", **spec})
            continue
        fields = {
            k: v for k, v in spec.items() if k != "name" and (allowed is None or k in allowed)
        }
        if any(_differs(v, getattr(old, k)) for k, v in fields.items()):
            changes.append({"action": "update", "name": spec["name"], **fields})
    return changes
