"""ROI realized: the value a plan's money criteria delivered to date against the ARR it added.

A money criterion is an automatic one whose catalogue metric is money (`metrics.is_money`:
savings, revenue). Its observations are a run rate per year (the catalogue's "Annualized cost
savings"), unless the unit says per month, week or day. What it realized to date is how far its
daily values stood beyond the baseline at close, on average, accrued over the days from the
close to its newest observation:

    realized = mean(value − baseline) × periods a year × days ÷ 365

("beyond" in the better direction: above for savings and revenue, below for a cost; no baseline
counts as nothing before the close when higher is better). Summed over the plan's money criteria
and divided by the upsell's ARR increase, it reads "$48K saved in 90 days vs $30K added ARR:
1.6×" — value to date against one year's price, so early in a plan the multiple is modest by
construction. No number is given without an automatic money criterion (a money criterion entered
by hand has one value, no history to sum), before any money data since the close, or as a
multiple when the upsell added no ARR.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.formatting import MONEY_UNITS, money
from core.upsell.models import MeasurementMode

DAYS_A_YEAR = Decimal(365)
PERIODS = (  # unit wording → periods a year; anything else is a yearly run rate
    (("/day", "per day", "daily"), 365),
    (("/week", "per week", "weekly"), 52),
    (("/month", "per month", "monthly", "/mo"), 12),
    (("/quarter", "per quarter", "quarterly"), 4),
)
PER = {1: "a year", 4: "a quarter", 12: "a month", 52: "a week", 365: "a day"}
_MONEY_UNITS = ", ".join(f"'{u}'" for u in MONEY_UNITS)

MONEY_CRITERIA = text(
    f"""
    SELECT m.id AS plan_id, mm.name, mm.unit, mm.direction, mm.baseline, mm.measurement,
           m.started_on, d.mean, d.last_day
      FROM upsell_measurements m
      JOIN measurement_metrics mm ON mm.measurement_id = m.id
      LEFT JOIN metrics k ON k.key = mm.metric_key
      LEFT JOIN LATERAL (
        SELECT avg(x.value) AS mean, max(x.day) AS last_day
          FROM (SELECT (o.observed_at AT TIME ZONE 'UTC')::date AS day, avg(o.value) AS value
                  FROM metric_observations o
                 WHERE mm.measurement = '{MeasurementMode.AUTOMATIC.value}'
                   AND o.customer_id = m.customer_id AND o.metric_key = mm.metric_key
                   AND o.observed_at >= (m.started_on::timestamp AT TIME ZONE 'UTC')
                   AND o.observed_at <= :now
                 GROUP BY 1) x
      ) d ON true
     WHERE m.id = ANY(CAST(:ids AS uuid[]))
       AND (k.is_money OR mm.metric_key IS NULL AND upper(trim(mm.unit)) IN ({_MONEY_UNITS}))
     ORDER BY m.id, mm.position, mm.name
    """
)
ARR = text(
    """
    SELECT m.id, u.arr_increase FROM upsell_measurements m JOIN upsells u ON u.id = m.upsell_id
     WHERE m.id = ANY(CAST(:ids AS uuid[]))
    """
)


@dataclass
class Realized:
    """ROI realized of one plan: the figures and the sentence that explains them."""

    arr_increase: Decimal
    realized: Decimal | None = None
    window_days: int | None = None
    multiple: Decimal | None = None
    multiple_text: str | None = None  # "1.6×", as the sentence says it
    text: str = ""
    basis: list[str] = field(default_factory=list)


def periods_a_year(unit: str | None) -> int:
    """Return how many of the unit's periods make a year (1: a yearly run rate)."""
    lowered = (unit or "").lower()
    return next((n for words, n in PERIODS if any(w in lowered for w in words)), 1)


def _criterion_value(row, *, now_day) -> tuple[Decimal, int] | None:
    """Return (realized value, days) of one money criterion, or None when it has no history."""
    if row.measurement != MeasurementMode.AUTOMATIC.value or row.mean is None:
        return None
    higher = Direction(row.direction) == Direction.HIGHER
    if row.baseline is None and not higher:
        return None
    start = Decimal(0) if row.baseline is None else Decimal(row.baseline)
    beyond = (Decimal(row.mean) - start) * (1 if higher else -1)
    days = (min(row.last_day, now_day) - row.started_on).days + 1
    value = beyond * periods_a_year(row.unit) * days / DAYS_A_YEAR
    return value.quantize(Decimal("0.01")), days


def _amount(value: Decimal) -> str:
    return money(value) if value >= 0 else f"{money(-value)} below the baseline"


def _multiple(ratio: Decimal) -> str:
    """Format a multiple: one decimal, two below 0.1 so a small return does not read as 0.0."""
    return f"{float(ratio):.2f}×" if 0 < abs(ratio) < Decimal("0.1") else f"{float(ratio):.1f}×"


def _verb(names: list[str]) -> str:
    return "saved" if all("saving" in n.lower() for n in names) else "realized"


def summarize(rows: list, *, arr_increase: Decimal, now: datetime) -> Realized:
    """Return one plan's ROI realized from its money-criterion rows (may be empty)."""
    result = Realized(arr_increase=Decimal(arr_increase))
    if not rows:
        result.text = "No savings or revenue criterion in this plan, so no ROI multiple."
        return result
    valued = []
    for row in rows:
        found = _criterion_value(row, now_day=now.astimezone(UTC).date())
        if found is None:
            why = (
                "entered by hand, so there is no history to sum"
                if row.measurement != MeasurementMode.AUTOMATIC.value
                else "no data since the close yet"
            )
            result.basis.append(f"{row.name}: {why}.")
            continue
        value, days = found
        valued.append((row, value, days))
        per = PER[periods_a_year(row.unit)]
        result.basis.append(
            f"{row.name}: on average {money(row.mean)} {per} against {money(row.baseline or 0)} "
            f"{per} before the close, over {days} days: {_amount(value)}."
        )
    if not valued:
        automatic = any(r.measurement == MeasurementMode.AUTOMATIC.value for r in rows)
        result.text = (
            "No money data since the close yet, so no ROI multiple."
            if automatic
            else "The money criteria are entered by hand, with no history to sum, so no ROI "
            "multiple."
        )
        return result
    result.realized = sum((v for _, v, _ in valued), Decimal(0))
    result.window_days = max(d for _, _, d in valued)
    verb = _verb([r.name for r, _, _ in valued])
    what = f"{money(result.realized)} {verb}" if result.realized >= 0 else _amount(result.realized)
    where = f"{what} in {result.window_days} days"
    if result.arr_increase <= 0:
        result.text = f"{where}; the upsell added no ARR, so there is no multiple."
        return result
    ratio = result.realized / result.arr_increase
    result.multiple = ratio.quantize(Decimal("0.01"))
    result.multiple_text = _multiple(ratio)
    result.text = f"{where} vs {money(result.arr_increase)} added ARR: {result.multiple_text}"
    return result


def realized(
    *, session: Session, measurement_ids: list[uuid.UUID], now: datetime | None = None
) -> dict[uuid.UUID, Realized]:
    """Return each plan's ROI realized to date, for all the plans in two queries."""
    now = now or datetime.now(UTC)
    ids = list(measurement_ids)
    rows: dict[uuid.UUID, list] = {i: [] for i in ids}
    for row in session.execute(MONEY_CRITERIA, {"ids": ids, "now": now}):
        rows[row.plan_id].append(row)
    arr = dict(session.execute(ARR, {"ids": ids}).all())
    return {i: summarize(rows[i], arr_increase=arr[i], now=now) for i in ids if i in arr}
