"""Outcome analysis across measurement plans: mix, rates, breakdowns, signals and calibration.

Definitions (cancelled plans are left out everywhere):
- A plan's outcome is the confirmed status, else the proposed one; "decided" plans have either.
  A plan closed as "no decision" (core/upsell/lifecycle.py) has none: neither success nor failure.
- Success rate = success ÷ decided. Churn on expansion = year-1 churn of expanded ARR over
  plans whose upsell closed 12+ months ago; younger ones are "not yet known" (core/upsell/
  churn.py). Value realization = metrics at target ÷ metrics, over decided plans.
- Time to value (approximation): days from the plan start to the first checkpoint whose summary
  was on track/exceeding with every metric met; failing that, when every target is met now, the
  latest metric reading (`current_at`). Plans never fully met have no time to value.
- Product = the upsell line with the most ARR (one group per plan); ARR bands <10k, 10–50k,
  50–150k, >150k on the upsell's ARR increase; a `product` filter matches any line.
- The day-N signal is the assessment of a review held at the day-N checkpoint, else the status
  stored in that checkpoint's summary (day 90 falls back to the plan's current status).
- Prediction check (confirmed outcomes only: a proposed outcome nobody confirmed, or a "no
  decision", is not scored): Brier = mean((predicted_success ÷ 100 − y)²) with y = 1 for a
  confirmed success, else 0. The reference forecast gives every scored plan the base rate ō (the
  share of them that succeeded): Brier_ref = ō(1 − ō); skill = 1 − Brier ÷ Brier_ref (above 0:
  better than the base rate). Calibration buckets the same plans by prediction (0–20 … 80–100).
  Below MIN_SCORED confirmed outcomes no Brier or skill is reported, only the count.
- Coverage and plan latency (`plan_latency`) cover all upsells; the other figures follow filters.
  Plans within 48 h (from the deal's close) and tracking active by the first review: see
  core/upsell/plan_kpis.py.
"""

from datetime import UTC, date, datetime
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Segment
from core.errors import Invalid
from core.upsell import churn, plan_kpis
from core.upsell.analysis_schemas import Analysis, Bucket, Group, Kpi, PlanPrediction, Signal
from core.upsell.prediction import (
    ARR_BAND_SQL,
    ARR_BANDS,
    DECIDED,
    EARLY_DAY,
    MAIN_PRODUCT_SQL,
    SUCCESS,
    checkpoint_status_sql,
)
from core.upsell.queries import plan_latency

DIMENSIONS = ("product", "segment", "industry", "arrBand", "salesRep")
TARGETS = {
    "coverage": 1.0,
    "adoptionSuccess": 0.7,
    "churn": 0.1,
    "valueRealization": 0.8,
    "within48h": 1.0,
    "trackingActive": 1.0,
}
BUCKETS = 5  # predicted_success in 0–20, 20–40, … 80–100
MIN_SCORED = 20  # confirmed outcomes needed before the prediction check reports a number
# The plans the report covers (`m`, its upsell `u`, its customer `c`): not cancelled, and the
# filters given (a product filter matches any line of the upsell).
FILTERS = f"""
   WHERE m.status <> 'cancelled'
     AND (CAST(:product AS text) IS NULL OR EXISTS (SELECT 1 FROM upsell_products p
          WHERE p.upsell_id = u.id AND p.product_code = :product))
     AND (CAST(:segment AS text) IS NULL OR c.segment::text = :segment)
     AND (CAST(:industry AS text) IS NULL OR c.industry = :industry)
     AND (CAST(:sales_rep AS text) IS NULL OR u.sales_rep_name = :sales_rep)
     AND (CAST(:date_from AS date) IS NULL OR u.close_date >= :date_from)
     AND (CAST(:date_to AS date) IS NULL OR u.close_date <= :date_to)
     AND (CAST(:arr_band AS text) IS NULL OR {ARR_BAND_SQL} = :arr_band)
"""
# Computed once per report (MATERIALIZED): every figure below reads these rows.
PLANS = f"""
WITH plans AS MATERIALIZED (
  SELECT m.id, m.started_on, m.predicted_success, c.segment::text AS segment, c.industry,
         m.status::text AS plan_status, m.prediction_basis, c.name AS customer,
         u.name AS upsell, o.status::text AS confirmed,
         coalesce({MAIN_PRODUCT_SQL}, 'none') AS product,
         {ARR_BAND_SQL} AS arr_band,
         coalesce(u.sales_rep_name, 'unassigned') AS sales_rep,
         nullif(coalesce(o.status, o.proposed_status)::text, 'no_decision') AS outcome,
         mm.metrics, mm.met,
         CASE WHEN mm.metrics > 0 AND mm.met = mm.metrics THEN mm.last_at::date - m.started_on
         END AS met_days,
         (SELECT min(c.day) FROM checkpoints c WHERE c.measurement_id = m.id
             AND c.summary->>'status' IN ('on_track', 'exceeding')
             AND jsonb_array_length(coalesce(c.summary->'metrics', '[]')) > 0
             AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(c.summary->'metrics') x
                              WHERE NOT coalesce((x->>'met')::boolean, false))) AS checkpoint_days,
         {checkpoint_status_sql(EARLY_DAY)} AS signal_30,
         coalesce({checkpoint_status_sql(90)}, m.progress_status::text) AS signal_90
    FROM upsell_measurements m
    JOIN upsells u ON u.id = m.upsell_id
    JOIN customers c ON c.id = m.customer_id
    LEFT JOIN upsell_outcomes o ON o.measurement_id = m.id
    CROSS JOIN LATERAL (
      SELECT count(*) AS metrics, max(x.current_at) AS last_at,
             count(*) FILTER (WHERE x.current IS NOT NULL AND CASE x.direction
               WHEN 'lower_is_better' THEN x.current <= x.target ELSE x.current >= x.target END)
               AS met
        FROM measurement_metrics x WHERE x.measurement_id = m.id) mm
  {FILTERS}
), facts AS MATERIALIZED (
  SELECT *, least(checkpoint_days, met_days) AS ttv FROM plans
)
"""
GROUPED = (
    """
SELECT CASE WHEN grouping(product) = 0 THEN 'product' WHEN grouping(segment) = 0 THEN 'segment'
            WHEN grouping(industry) = 0 THEN 'industry' WHEN grouping(arr_band) = 0
            THEN 'arrBand' WHEN grouping(sales_rep) = 0 THEN 'salesRep' END AS dimension,
       coalesce(product, segment, industry, arr_band, sales_rep) AS value,
       count(*) AS plans, count(outcome) AS decided,
       count(*) FILTER (WHERE outcome = 'success') AS success,
       count(*) FILTER (WHERE outcome = 'partial') AS partial,
       count(*) FILTER (WHERE outcome = 'at_risk') AS at_risk,
       count(*) FILTER (WHERE outcome = 'failed') AS failed,"""
    + churn.COLUMNS
    + """       coalesce(sum(metrics) FILTER (WHERE outcome IS NOT NULL), 0) AS metrics,
       coalesce(sum(met) FILTER (WHERE outcome IS NOT NULL), 0) AS met,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ttv) AS ttv_days
  FROM facts LEFT JOIN year_one y USING (id)
 GROUP BY GROUPING SETS ((), (product), (segment), (industry), (arr_band), (sales_rep))
"""
)
SIGNALS = (
    "SELECT signal_30 AS signal, outcome, count(*) AS n FROM facts "
    "WHERE outcome IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
)
CALIBRATION = f"""
SELECT least(floor(predicted_success / (100 / {BUCKETS})), {BUCKETS - 1})::int AS bucket,
       count(*) AS n, avg(predicted_success) / 100 AS predicted,
       avg((confirmed = '{SUCCESS}')::int) AS actual,
       sum((confirmed = '{SUCCESS}')::int) AS successes,
       sum(power(predicted_success / 100 - (confirmed = '{SUCCESS}')::int, 2)) AS brier_sum
  FROM facts WHERE confirmed = ANY(CAST(:decided AS text[])) AND predicted_success IS NOT NULL
 GROUP BY 1 ORDER BY 1
"""
ADOPTION = (
    "SELECT count(*) AS past, count(*) FILTER (WHERE signal_90 IN ('on_track', "
    "'exceeding')) AS on_track FROM facts WHERE started_on + 90 <= :today"
)


def _rows(select: str) -> str:
    """SQL: the rows of `select`, in its order, as one JSON array."""
    return f"(SELECT coalesce(json_agg(x), '[]') FROM ({select}) x)"


# One statement: the plans are read once, and each part of the report is a JSON array.
REPORT = text(
    PLANS
    + churn.YEAR_ONE
    + plan_kpis.TRACKING_CTES
    + f"""
SELECT {_rows(GROUPED)} AS grouped, {_rows(SIGNALS)} AS signals,
       {_rows(CALIBRATION)} AS calibration, {_rows(ADOPTION)} AS adoption,
       {_rows(plan_kpis.TRACKING_COUNTS)} AS tracking, {_rows(plan_kpis.TRACKING_IDLE)} AS idle
"""
)
# Active plans' chances need none of the report's figures: the plans and their filters only.
PREDICTIONS = text(
    f"""
SELECT m.id, c.name AS customer, u.name AS upsell, m.predicted_success, m.prediction_basis,
       count(*) OVER () AS active
  FROM upsell_measurements m
  JOIN upsells u ON u.id = m.upsell_id
  JOIN customers c ON c.id = m.customer_id
  {FILTERS}
   AND m.status = 'active'
 ORDER BY m.predicted_success NULLS FIRST, c.name, u.name, m.id
 LIMIT :rows
"""
)


def _rate(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def _group(row) -> Group:
    mix = {s: getattr(row, s) for s in ("success", "partial", "at_risk", "failed")}
    ttv = None if row.ttv_days is None else float(row.ttv_days)
    return Group(
        dimension=row.dimension,
        value=row.value,
        plans=row.plans,
        decided=row.decided,
        mix=mix,
        success_rate=_rate(row.success, row.decided),
        churn_rate=churn.churn_rate(row),
        value_realization=_rate(int(row.met), int(row.metrics)),
        churned=row.churned,
        churn_known=row.churn_known,
        churn_unknown=row.churn_unknown,
        expanded_arr=float(row.expanded_arr),
        churned_arr=float(row.churned_arr),
        metrics=int(row.metrics),
        met=int(row.met),
        median_days_to_value=ttv,
    )


def _signals(rows) -> tuple[list[Signal], float | None, float | None]:
    table: dict[str, dict[str, int]] = {}
    for r in rows:
        table.setdefault(r.signal or "unknown", {})[r.outcome] = r.n
    signals = [
        Signal(
            signal=s,
            outcomes=o,
            total=sum(o.values()),
            success_rate=_rate(o.get("success", 0), sum(o.values())),
        )
        for s, o in table.items()
    ]

    def share(states):
        total = sum(sum(table.get(s, {}).values()) for s in states)
        return _rate(sum(table.get(s, {}).get("success", 0) for s in states), total)

    return signals, share(("on_track", "exceeding")), share(("at_risk", "behind"))


def _prediction_check(rows) -> dict:
    """Return calibration buckets, and the Brier and skill scores once enough are confirmed."""
    rows = list(rows)
    width = 100 // BUCKETS
    calibration = [
        Bucket(
            low=r.bucket * width,
            high=(r.bucket + 1) * width,
            plans=r.n,
            predicted=round(float(r.predicted), 4),
            actual=round(float(r.actual), 4),
        )
        for r in rows
    ]
    scored, successes = sum(r.n for r in rows), sum(r.successes for r in rows)
    check = {
        "calibration": calibration,
        "scored_outcomes": scored,
        "min_scored_outcomes": MIN_SCORED,
        "scored_base_rate": _rate(successes, scored),
    }
    if scored < MIN_SCORED:
        return check
    brier = float(sum(r.brier_sum for r in rows)) / scored
    base = successes / scored
    reference = base * (1 - base)
    return check | {
        "brier_score": round(brier, 4),
        "brier_reference": round(reference, 4),
        "brier_skill": round(1 - brier / reference, 4) if reference else None,
    }


def _kpi(key, label, value, detail, higher=True) -> Kpi:
    target = TARGETS[key]
    met = None if value is None else (value >= target if higher else value < target)
    return Kpi(
        key=key,
        label=label,
        value=value,
        target=target,
        higher_is_better=higher,
        met=met,
        detail=detail,
    )


def _check(segment, arr_band, date_from, date_to) -> None:
    if segment is not None and segment not in set(Segment):
        raise Invalid(f"segment: must be one of {', '.join(Segment)}")
    if arr_band is not None and arr_band not in ARR_BANDS:
        raise Invalid(f"arrBand: must be one of {', '.join(ARR_BANDS)}")
    if date_from and date_to and date_to < date_from:
        raise Invalid("dateTo: must not be before dateFrom")


def _params(**filters) -> dict:
    _check(filters["segment"], filters["arr_band"], filters["date_from"], filters["date_to"])
    return filters


def _objects(rows: list[dict]) -> list[SimpleNamespace]:
    return [SimpleNamespace(**row) for row in rows]


def outcomes_analysis(
    *,
    session: Session,
    product: str | None = None,
    segment: str | None = None,
    industry: str | None = None,
    arr_band: str | None = None,
    sales_rep: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Analysis:
    """Return the outcome report for the plans matching the filters (all when none given)."""
    params = _params(
        product=product,
        segment=segment,
        industry=industry,
        arr_band=arr_band,
        sales_rep=sales_rep,
        date_from=date_from,
        date_to=date_to,
    )
    now = now or datetime.now(UTC)
    today = today or now.date()
    report = session.execute(REPORT, params | {"today": today, "decided": list(DECIDED)}).one()
    groups = [_group(row) for row in _objects(report.grouped)]
    overall = next(g for g in groups if g.dimension is None)
    breakdowns = {
        d: sorted((g for g in groups if g.dimension == d), key=lambda g: str(g.value))
        for d in DIMENSIONS
    }
    signals, ahead, behind = _signals(_objects(report.signals))
    check = _prediction_check(_objects(report.calibration))
    (adoption,) = _objects(report.adoption)
    (tracking,) = _objects(report.tracking)
    latency = plan_latency(session=session)
    kpis = [
        _kpi(
            "coverage",
            "Measurement coverage",
            round(latency.coverage, 4) if latency.upsells else None,
            f"{latency.planned} of {latency.upsells} upsells have a plan",
        ),
        _kpi(
            "adoptionSuccess",
            "Adoption success",
            _rate(adoption.on_track, adoption.past),
            f"{adoption.on_track} of {adoption.past} plans past day 90 on track or exceeding",
        ),
        _kpi(
            "churn",
            "Churn on expansion",
            overall.churn_rate,
            churn.churn_detail(overall),
            higher=False,
        ),
        _kpi(
            "valueRealization",
            "Value realization",
            overall.value_realization,
            f"{overall.met} of {overall.metrics} goals achieved",
        ),
        plan_kpis.within_48h(latency, target=TARGETS["within48h"]),
        plan_kpis.tracking_active(
            plans=tracking.plans,
            active=tracking.active,
            idle=report.idle,
            target=TARGETS["trackingActive"],
        ),
    ]
    return Analysis(
        overall=overall,
        breakdowns=breakdowns,
        signals=signals,
        on_track_at_30_success=ahead,
        behind_at_30_success=behind,
        **check,
        kpis=kpis,
        latency_median_hours=latency.median_hours,
        computed_at=now,
    )


def lowest_chances(
    *,
    session: Session,
    rows: int | None = None,
    product: str | None = None,
    segment: str | None = None,
    industry: str | None = None,
    arr_band: str | None = None,
    sales_rep: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[list[PlanPrediction], int]:
    """Return the `rows` active plans least likely to succeed (None: all), and how many exist."""
    params = _params(
        product=product,
        segment=segment,
        industry=industry,
        arr_band=arr_band,
        sales_rep=sales_rep,
        date_from=date_from,
        date_to=date_to,
    )
    found = session.execute(PREDICTIONS, params | {"rows": rows}).all()
    plans = [
        PlanPrediction(
            measurement_id=r.id,
            customer=r.customer,
            upsell=r.upsell,
            predicted_success=r.predicted_success,
            basis=r.prediction_basis or {},
        )
        for r in found
    ]
    return plans, found[0].active if found else 0


def plan_predictions(*, session: Session, **filters) -> list[PlanPrediction]:
    """Return each active plan's predicted chance of success with its basis, lowest first."""
    return lowest_chances(session=session, **filters)[0]


def filter_options(*, session: Session) -> dict[str, list[str]]:
    """Return the products, industries and sales reps that plans exist for (filter choices)."""
    sql = """SELECT array(SELECT DISTINCT product_code FROM upsell_products ORDER BY 1),
                    array(SELECT DISTINCT industry FROM customers c JOIN upsell_measurements m
                           ON m.customer_id = c.id ORDER BY 1),
                    array(SELECT DISTINCT sales_rep_name FROM upsells
                           WHERE sales_rep_name IS NOT NULL ORDER BY 1)"""
    products, industries, reps = session.execute(text(sql)).one()
    return {"product": products, "industry": industries, "sales_rep": reps}
