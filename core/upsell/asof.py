"""A plan's metrics as of a moment: the values, trend, progress and status its data showed then.

Checkpoints (and the outcome proposed after the last one) are evaluated as of the end of their
day (`due_on`, UTC), or as of now while that day is not over. Only data observed by then counts,
so a checkpoint prepared late reads the same numbers it would have read on time:

- an automatic metric's value is the average of its observations in the window of its measurement
  frequency ending at that moment (`core/upsell/frequency.py`); none in the window: no recent data;
- a manual metric's value is the latest one recorded by then (`measurement_readings`, or the
  current value with its time; a current value without a time counts as known); older than its
  frequency's window, it is shown as last recorded but not counted;
- the trend compares with the 7-day average 30 days before the moment (`reviews.trend`);
- progress, expected progress and status follow `core/upsell/curve.py` on that day of the plan.

One query reads every (plan, moment) pair asked for.
"""

import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.upsell import curve, frequency

TREND_DAYS, TREND_WINDOW_DAYS = 30, 7

AS_OF = text(
    f"""
    SELECT k.i, k.at, m.started_on, {curve.HORIZON} AS horizon,
           mm.id, mm.name, mm.type, mm.unit, mm.direction, mm.measurement AS mode,
           mm.baseline, mm.target, {frequency.frequency_sql("mm")} AS frequency,
           CASE WHEN mm.measurement = 'automatic' THEN w.value ELSE r.value END AS value,
           -- The latest observation by then is the window's latest when the window has any;
           -- only a metric without recent data looks further back.
           CASE WHEN mm.measurement = 'automatic'
                THEN coalesce(w.at, (SELECT max(o.observed_at) FROM metric_observations o
                                      WHERE o.customer_id = m.customer_id
                                        AND o.metric_key = mm.metric_key
                                        AND o.observed_at <= k.at))
                ELSE r.observed_at END AS value_at,
           t.value AS month_ago
      FROM unnest(CAST(:idx AS int[]), CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[]))
           AS k(i, measurement_id, at)
      JOIN upsell_measurements m ON m.id = k.measurement_id
      LEFT JOIN measurement_metrics mm ON mm.measurement_id = m.id
      LEFT JOIN LATERAL (
        SELECT round(avg(o.value), 4) AS value, max(o.observed_at) AS at
          FROM metric_observations o
         WHERE mm.measurement = 'automatic' AND o.customer_id = m.customer_id
           AND o.metric_key = mm.metric_key
           AND o.observed_at > k.at - {frequency.window_sql("mm")} AND o.observed_at <= k.at
      ) w ON true
      LEFT JOIN LATERAL (
        SELECT x.value, x.observed_at FROM (
          SELECT g.value, g.observed_at FROM measurement_readings g
           WHERE g.metric_id = mm.id AND g.observed_at <= k.at
          UNION ALL
          SELECT mm.current, mm.current_at
           WHERE mm.current IS NOT NULL AND (mm.current_at IS NULL OR mm.current_at <= k.at)
        ) x
         WHERE mm.measurement = 'manual'
         ORDER BY x.observed_at DESC NULLS LAST LIMIT 1
      ) r ON true
      LEFT JOIN LATERAL (
        SELECT round(avg(o.value), 4) AS value FROM metric_observations o
         WHERE mm.measurement = 'automatic' AND o.customer_id = m.customer_id
           AND o.metric_key = mm.metric_key
           AND o.observed_at > k.at - make_interval(days => {TREND_DAYS + TREND_WINDOW_DAYS})
           AND o.observed_at <= k.at - make_interval(days => {TREND_DAYS})
      ) t ON true
     ORDER BY k.i, mm.position, mm.name
    """
)


@dataclass(frozen=True)
class MetricAsOf:
    """One criterion as of a moment (the fields review summaries and proposals read)."""

    name: str
    type: str
    unit: str
    direction: str
    mode: str
    baseline: Decimal | None
    target: Decimal
    current: Decimal | None  # None without a value, or when the latest one is too old
    current_at: datetime | None  # when the latest value by then was observed
    month_ago: Decimal | None
    progress: Decimal | None
    expected: Decimal | None


@dataclass(frozen=True)
class Snapshot:
    """A plan as of a moment: its day, horizon, metrics, average and expected progress, status."""

    at: datetime
    day: int
    horizon: int
    metrics: list[MetricAsOf]
    average: float | None
    expected: float
    status: str | None


def end_of(day: date) -> datetime:
    """Return the last instant of `day` in UTC (timestamps are stored to the microsecond)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(microseconds=1)


def moment(day: date | None, now: datetime) -> datetime:
    """Return the moment a checkpoint due on `day` is evaluated at: its end, or now if earlier."""
    return now if day is None else min(now, end_of(day))


def _snapshot(at: datetime, rows: list, shape: tuple[float, ...]) -> Snapshot:
    first = rows[0]
    day, horizon = (at.date() - first.started_on).days, first.horizon
    metrics = [r for r in rows if r.id is not None]
    scores, fresh = [], []
    for r in metrics:
        stale = r.value is not None and frequency.is_stale(
            current_at=r.value_at, frequency=r.frequency, now=at
        )
        value = None if stale else r.value
        fresh.append(value)
        scores.append(
            curve.score_metric(
                current=value, baseline=r.baseline, target=r.target, direction=r.direction
            )
        )
    plan = curve.score_plan(metrics=scores, days=day, horizon=horizon, shape=shape)
    expected = curve.as_decimal(plan.expected)
    return Snapshot(
        at=at,
        day=day,
        horizon=horizon,
        metrics=[
            MetricAsOf(
                name=r.name,
                type=r.type,
                unit=r.unit,
                direction=r.direction,
                mode=r.mode,
                baseline=r.baseline,
                target=r.target,
                current=value,
                current_at=r.value_at,
                month_ago=r.month_ago,
                progress=curve.as_decimal(score.progress),
                expected=expected,
            )
            for r, value, score in zip(metrics, fresh, scores, strict=True)
        ],
        average=plan.actual,
        expected=plan.expected,
        status=plan.status.value if plan.status else None,
    )


def snapshots(
    *,
    session: Session,
    points: Iterable[tuple[Hashable, uuid.UUID, datetime]],
    shape: tuple[float, ...] | None = None,
) -> dict[Hashable, Snapshot]:
    """Return each (key, plan id, moment) point's snapshot, read in one query."""
    points = list(points)
    if not points:
        return {}
    shape = shape or curve.learned_curve(session=session) or curve.LINEAR
    params = {
        "idx": list(range(len(points))),
        "ids": [p[1] for p in points],
        "ats": [p[2] for p in points],
    }
    rows: dict[int, list] = {}
    for row in session.execute(AS_OF, params).all():
        rows.setdefault(row.i, []).append(row)
    return {
        key: _snapshot(at, rows[i], shape)
        for i, (key, _, at) in enumerate(points)
        if i in rows  # a plan that no longer exists has no snapshot
    }
