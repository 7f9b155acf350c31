"""Upsell outcomes decided in the last days against the days before, by the report's rules.

The plans are those of the outcome report (`core.upsell.analysis.PLANS`, with its filters), so a
plan's outcome (confirmed, else proposed) and its goals met count exactly as there. A plan falls
in the period its outcome was decided in: when a person confirmed it, else when it was proposed.
"""

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.reporting.landing_schemas import OutcomePeriods, PeriodFigures
from core.reporting.team import windows
from core.upsell.analysis import PLANS

PERIOD_DAYS = 90
BY_PERIOD = text(
    PLANS
    + """
SELECT (d.day >= :current_first) AS current, count(*) AS decided,
       count(*) FILTER (WHERE f.outcome = 'success') AS success,
       coalesce(sum(f.metrics), 0) AS metrics, coalesce(sum(f.met), 0) AS met
  FROM facts f
  JOIN LATERAL (SELECT coalesce(o.decided_at, o.created_at)::date AS day
                  FROM upsell_outcomes o WHERE o.measurement_id = f.id) d ON true
 WHERE f.outcome IS NOT NULL AND d.day BETWEEN :previous_first AND :today
 GROUP BY 1
"""
)
NO_FILTERS = dict.fromkeys(
    ("product", "segment", "industry", "arr_band", "sales_rep", "date_from", "date_to")
)


def outcome_periods(
    *, session: Session, today: date, days: int = PERIOD_DAYS, **filters
) -> OutcomePeriods:
    """Return the decided plans of the `days` days ending `today` and of the days before."""
    current, previous = windows(today, days)
    params = NO_FILTERS | filters
    params |= {"current_first": current.first, "previous_first": previous.first, "today": today}
    found = {r.current: r for r in session.execute(BY_PERIOD, params)}

    def figures(is_current: bool) -> PeriodFigures:
        row = found.get(is_current)
        if row is None:
            return PeriodFigures(decided=0, success=0, metrics=0, met=0)
        return PeriodFigures(
            decided=row.decided, success=row.success, metrics=int(row.metrics), met=int(row.met)
        )

    return OutcomePeriods(
        current_window=current,
        previous_window=previous,
        current=figures(True),
        previous=figures(False),
    )
