"""Refresh metric values, score every active plan in one pass, and alert CSMs when a plan slips.

Values: an automatic metric's current value averages its observations in the window of its
measurement frequency ending now (`core/upsell/frequency.py`); a metric without data in that
window has no recent data and, like a manual value older than its window, no progress.

Alerts: a DM goes to the customer's CSM when a plan falls into at risk or behind, or from at risk
to behind (one per fall: `alerted_status` remembers the level already reported). Recovering from
behind to at risk lowers `alerted_status` without a message, so a new fall to behind alerts
again; recovering to on track or exceeding clears it. The idempotency key
`plan:<id>:alert:<status>:<date>` also caps it at one DM per plan, level and day.

Per plan: a plan the pass cannot score keeps its last score, and an alert that cannot be queued
leaves `alerted_status` as it was (so the next pass tries again); either is recorded with its
reason (`core.audit.failures`, System page) and the other plans go on. Reading and writing stay
set-based (arrays, one statement each; the DMs a chunk at a time, `core/upsell/bulk.py`).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.audit.failures import batch
from core.audit.service import record_audit
from core.errors import Invalid, NotFound
from core.integrations import escape
from core.outbox.bulk import delivery
from core.outbox.models import Channel
from core.upsell import bulk, curve, frequency
from core.upsell.models import (
    Measurement,
    MeasurementMetric,
    MeasurementMode,
    MeasurementStatus,
    MetricReading,
    ProgressStatus,
)

Actor = User | UserSummary
SEVERITY = {ProgressStatus.AT_RISK.value: 1, ProgressStatus.BEHIND.value: 2}
_IDS = "(CAST(:ids AS uuid[]) IS NULL OR m.id = ANY(CAST(:ids AS uuid[])))"
PLAN_ITEM = "plan"  # a plan to score (job_item_failures.item_type)
ALERT_ITEM = "plan_alert"  # a slipping plan's DM to its CSM

PLAN_METRICS = text(
    f"""
    SELECT m.id AS plan_id, m.started_on, m.progress_status, {curve.HORIZON} AS horizon,
           mm.id, mm.direction, mm.baseline, mm.target, mm.current AS stored,
           mm.current_at AS stored_at, mm.progress, mm.expected,
           {frequency.frequency_sql("mm")} AS frequency, w.value AS usage,
           -- The latest observation by now is the window's latest when the window has any;
           -- only a metric without recent data looks further back.
           CASE WHEN mm.measurement = 'automatic' AND mm.metric_key IS NOT NULL
                THEN coalesce(w.at, (SELECT max(o.observed_at) FROM metric_observations o
                                      WHERE o.customer_id = m.customer_id
                                        AND o.metric_key = mm.metric_key
                                        AND o.observed_at <= :now)) END AS usage_at
      FROM upsell_measurements m
      JOIN measurement_metrics mm ON mm.measurement_id = m.id
      LEFT JOIN LATERAL (
        SELECT round(avg(o.value), 4) AS value, max(o.observed_at) AS at
          FROM metric_observations o
         WHERE mm.measurement = 'automatic' AND o.customer_id = m.customer_id
           AND o.metric_key = mm.metric_key
           AND o.observed_at > CAST(:now AS timestamptz) - {frequency.window_sql("mm")}
           AND o.observed_at <= :now
      ) w ON true
     WHERE m.status = 'active' AND {_IDS}
     ORDER BY m.id, mm.position, mm.name
    """
)
# One rewrite per changed criterion: its usage value with its score (and, while unset, its
# default frequency, which `frequency.assign_defaults` would otherwise store in a second one).
WRITE_METRICS = text(
    f"""
    UPDATE measurement_metrics mm
       SET current = v.current, current_at = v.current_at, progress = v.progress,
           expected = v.expected, frequency = {frequency.frequency_sql("mm")}, updated_at = now()
      FROM unnest(CAST(:ids AS uuid[]), CAST(:current AS numeric[]),
                  CAST(:current_at AS timestamptz[]), CAST(:progress AS numeric[]),
                  CAST(:expected AS numeric[])) AS v(id, current, current_at, progress, expected)
     WHERE mm.id = v.id
    """
)
WRITE_PLANS = text(
    """
    UPDATE upsell_measurements m SET {column} = v.status, updated_at = now()
      FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[])) AS v(id, status)
     WHERE m.id = v.id
    """
)
ALERT_CANDIDATES = text(
    f"""
    SELECT m.id, m.progress_status, m.alerted_status, m.started_on, {curve.HORIZON} AS horizon,
           c.name AS customer, up.name AS upsell, u.email
      FROM upsell_measurements m
      JOIN customers c ON c.id = m.customer_id
      JOIN upsells up ON up.id = m.upsell_id
      LEFT JOIN users u ON u.id = c.owner_csm_id
     WHERE m.status = 'active' AND m.progress_status IN ('at_risk', 'behind')
       AND m.alerted_status IS DISTINCT FROM m.progress_status
     ORDER BY m.id
    """
)
ALERT_METRICS = text(
    """
    SELECT mm.measurement_id, mm.name, mm.unit, mm.baseline, mm.target, mm.current, mm.progress,
           mm.expected
      FROM measurement_metrics mm
     WHERE mm.measurement_id = ANY(CAST(:ids AS uuid[]))
     ORDER BY mm.measurement_id, mm.position
    """
)
CLEAR_ALERTS = text(
    """
    UPDATE upsell_measurements SET alerted_status = NULL, updated_at = now()
     WHERE status = 'active' AND alerted_status IS NOT NULL
       AND progress_status IN ('on_track', 'exceeding')
    """
)


def _write_plans(session: Session, column: str, rows: list[tuple[uuid.UUID, str | None]]) -> None:
    if rows:
        ids, statuses = zip(*rows, strict=True)
        stmt = text(WRITE_PLANS.text.format(column=column))
        session.execute(stmt, {"ids": list(ids), "statuses": list(statuses)})


def _expire(session: Session) -> None:
    """Forget loaded plans and metrics: the raw SQL above changed them behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Measurement | MeasurementMetric):
            session.expire(obj)


def update_progress(
    *,
    session: Session,
    now: datetime | None = None,
    measurement_ids: Iterable | None = None,
    shape: tuple[float, ...] | None = None,
) -> dict[str, int]:
    """Refresh automatic metrics from usage and rescore every active plan in one pass."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    ids = None if measurement_ids is None else list(measurement_ids)
    session.flush()
    # The tracking pass learns the expected curve once and hands it to each step.
    shape = shape or curve.learned_curve(session=session) or curve.LINEAR
    plans: dict[uuid.UUID, list] = defaultdict(list)
    for row in session.execute(PLAN_METRICS, {"now": now, "ids": ids}).all():
        plans[row.plan_id].append(row)
    # A criterion's new usage value is stored even when its plan cannot be scored.
    writes = {
        m.id: (m.id, *_current(m), m.progress, m.expected)
        for metrics in plans.values()
        for m in metrics
        if _refreshed(m)
    }
    refreshed, rescored, status_rows = len(writes), 0, []
    with batch(session, PLAN_ITEM) as scored:
        for plan_id, metrics in plans.items():
            # In the pass a plan that cannot be scored keeps its last score and is recorded;
            # a person's own update of a plan gets the error itself.
            with scored.item(plan_id, savepoint=False) if ids is None else nullcontext():
                rows, status = _score(metrics, today=today, now=now, shape=shape)
                writes.update((row[0], row) for row in rows)
                rescored += len(rows)
                if metrics[0].progress_status != status:
                    status_rows.append((plan_id, status))
    if writes:
        columns = zip(*writes.values(), strict=True)
        names = ("ids", "current", "current_at", "progress", "expected")
        session.execute(WRITE_METRICS, {n: list(c) for n, c in zip(names, columns, strict=True)})
    # Criteria the write above did not reach (other plans, unchanged ones) get theirs here.
    frequency.assign_defaults(session=session)
    _write_plans(session, "progress_status", status_rows)
    _expire(session)
    return {
        "plans": len(plans),
        "values_refreshed": refreshed,
        "metrics_rescored": rescored,
        "status_changes": len(status_rows),
    }


def _current(m) -> tuple[Decimal | None, datetime | None]:
    """Return the criterion's current value and time: from usage when it has any, else stored."""
    return (m.stored, m.stored_at) if m.usage_at is None else (m.usage, m.usage_at)


def _refreshed(m) -> bool:
    """Say whether usage data changes the criterion's stored current value or its time."""
    return m.usage_at is not None and (m.usage, m.usage_at) != (m.stored, m.stored_at)


def _score(metrics: list, *, today: date, now: datetime, shape) -> tuple[list, str | None]:
    """Score one plan's metrics; return the metric rows that changed and the plan's status."""
    currents = [_current(m) for m in metrics]
    scores = [
        curve.score_metric(
            current=None
            if frequency.is_stale(current_at=at, frequency=m.frequency, now=now)
            else current,
            baseline=m.baseline,
            target=m.target,
            direction=m.direction,
        )
        for m, (current, at) in zip(metrics, currents, strict=True)
    ]
    days = (today - metrics[0].started_on).days
    plan = curve.score_plan(metrics=scores, days=days, horizon=metrics[0].horizon, shape=shape)
    expected = curve.as_decimal(plan.expected)
    rows = []
    for m, (current, at), score in zip(metrics, currents, scores, strict=True):
        progress = curve.as_decimal(score.progress)
        if (m.progress, m.expected) != (progress, expected):
            rows.append((m.id, current, at, progress, expected))
    return rows, plan.status.value if plan.status else None


def alert_reasons(metrics: list, *, days: int, horizon: int) -> list[str]:
    """Explain a slipping plan: average vs expected progress, then its weakest metrics."""
    known = [m.progress for m in metrics if m.progress is not None]
    expected = next((m.expected for m in metrics if m.expected is not None), None)
    reasons = []
    if known and expected is not None:
        average = sum(known) / len(known)
        reasons.append(
            f"Average progress {average:.0%} against {expected:.0%} expected "
            f"on day {days} of {horizon}."
        )
    weakest = sorted(metrics, key=lambda m: (m.progress is not None, m.progress or 0))
    for m in weakest[:3]:
        if m.current is None:
            reasons.append(f"{m.name}: no value yet.")
        elif m.progress is not None and m.progress < 1:
            reasons.append(
                f"{m.name}: {curve.fmt(m.current)} {m.unit} (baseline {curve.fmt(m.baseline)}, "
                f"target {curve.fmt(m.target)}), {m.progress:.0%} of the way."
            )
    return reasons


def _alert_payload(row, reasons: list[str]) -> dict:
    label = curve.LABELS[row.progress_status]
    headline = escape.mrkdwn(
        "*{customer}*: the success plan for {upsell} is now *{label}*.",
        customer=row.customer,
        upsell=row.upsell,
        label=label,
    )
    return {
        "email": row.email,
        "text": f"{row.customer}: the success plan for {row.upsell} is {label}.",
        "blocks": [
            escape.header(f"Upsell plan {label}: {row.customer}"),
            escape.section(headline, escape=False),
            escape.section("\n".join(f"• {r}" for r in reasons) or "No metric data yet."),
            escape.context("Record a review or adjust the plan in Outcomes."),
        ],
    }


def _alert(row, reasons: list[str], today: date) -> dict:
    """Return the DM telling the CSM that the plan fell to its status (a delivery row)."""
    return delivery(
        channel=Channel.SLACK_DM,
        payload=_alert_payload(row, reasons),
        idempotency_key=f"plan:{row.id}:alert:{row.progress_status}:{today.isoformat()}",
        related_type="measurement",
        related_id=row.id,
    )


def send_alerts(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """DM the CSM once for each plan that fell into at risk or behind; clear recovered ones."""
    now = now or datetime.now(UTC)
    today: date = now.astimezone(UTC).date()
    cleared = session.execute(CLEAR_ALERTS).rowcount
    candidates = session.execute(ALERT_CANDIDATES).all()
    metrics: dict[uuid.UUID, list] = defaultdict(list)
    if candidates:
        for m in session.execute(ALERT_METRICS, {"ids": [c.id for c in candidates]}):
            metrics[m.measurement_id].append(m)
    handled, dms = [], []
    with batch(session, ALERT_ITEM) as alerts:
        for row in candidates:
            worse = SEVERITY[row.progress_status] > SEVERITY.get(row.alerted_status, 0)
            if worse and not row.email:
                continue  # no CSM to tell yet: alert once someone owns the customer
            # Preparing only computes; the DMs are then queued a chunk at a time, and one that
            # cannot be queued waits for the next pass.
            with alerts.item(row.id, savepoint=False):
                if worse:
                    reasons = alert_reasons(
                        metrics[row.id], days=(today - row.started_on).days, horizon=row.horizon
                    )
                    dms.append(_alert(row, reasons, today))
                handled.append(row)
        sent = bulk.enqueue(alerts, dms)
    updates = [(row.id, row.progress_status) for row in handled if alerts.ok(row.id)]
    _write_plans(session, "alerted_status", updates)
    _expire(session)
    return {"alerts": sent, "alerts_cleared": cleared}


def _decimal(name: str, raw: object) -> Decimal:
    try:
        if isinstance(raw, bool):
            raise InvalidOperation
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise Invalid(f"{name}: {raw!r} is not a number.") from exc
    if not value.is_finite() or abs(value) >= Decimal(10) ** 14:
        raise Invalid(f"{name}: {raw!r} is not a usable number.")
    return value.quantize(Decimal("0.0001"))


def record_manual_values(
    *,
    session: Session,
    measurement_id: uuid.UUID,
    values: Mapping[str, object],
    actor: Actor,
    observed_at: datetime | None = None,
) -> list[MeasurementMetric]:
    """Record values of a plan's manually measured metrics and rescore the plan."""
    plan = session.get(Measurement, measurement_id)
    if plan is None:
        raise NotFound(f"No measurement plan {measurement_id}.")
    if plan.status != MeasurementStatus.ACTIVE:
        raise Invalid(f"This plan is {plan.status.value}; values can only be added while active.")
    if not values:
        raise Invalid("Give at least one value.")
    stmt = select(MeasurementMetric).where(MeasurementMetric.measurement_id == measurement_id)
    metrics = {m.name: m for m in session.scalars(stmt)}
    if unknown := sorted(n for n in values if n not in metrics):
        raise Invalid(f"The plan has no metric named {', '.join(map(repr, unknown))}.")
    automatic = sorted(n for n in values if metrics[n].measurement != MeasurementMode.MANUAL)
    if automatic:
        raise Invalid(
            f"{', '.join(map(repr, automatic))} is measured automatically from usage data."
        )
    now = datetime.now(UTC)
    when = observed_at or now
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > now + timedelta(minutes=5):
        raise Invalid("The observation time is in the future.")
    changes: dict[str, list] = {}
    for name, raw in values.items():
        metric, value = metrics[name], _decimal(name, raw)
        changes[name] = [metric.current, value]
        metric.current, metric.current_at = value, when
        # The history behind `current`: checkpoints read the value as of their own day.
        session.execute(
            insert(MetricReading)
            .values(metric_id=metric.id, observed_at=when, value=value, recorded_by_id=actor.id)
            .on_conflict_do_update(
                index_elements=["metric_id", "observed_at"],
                set_={"value": value, "recorded_by_id": actor.id},
            )
        )
    session.flush()
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="measurement.manual_values",
        entity_type="measurement",
        entity_id=plan.id,
        changes={"values": changes, "observed_at": when.isoformat()},
    )
    update_progress(session=session, measurement_ids=[plan.id])
    return [metrics[n] for n in values]
