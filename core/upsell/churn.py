"""Churn on expansion: how much expanded ARR the customer took back within a year of the close.

For plans whose upsell closed at least 12 months before `today`:

    churn on expansion = expanded ARR lost within 12 months of close ÷ expanded ARR

- expanded ARR is the upsell's `arr_increase`;
- a churn event of the customer (core/customers/events.py) dated from the close date to 12 months
  after it loses the whole expansion;
- a contraction in that year about this upsell (a contract amendment that shrinks it) counts
  in full; an account-wide contraction (about no record) counts against the customer's most
  recent expansion closed before it whose first year it falls in, so one give-back never counts
  twice; the loss of one expansion is capped at its ARR;
- later events do not count: after its first year an expansion is part of the base ARR.

Plans whose upsell closed less than 12 months ago are "not yet known": counted, never taken as
0 %. With none old enough the rate is None. A group's `churned` counts the expansions that lost
any ARR in their first year.
"""

from core.formatting import money

YEAR = "interval '12 months'"
# Continues the PLANS query's WITH list: one row per plan in `facts` with its year-1 figures.
YEAR_ONE = f"""
, year_one AS (
  SELECT f.id, u.arr_increase AS expanded,
         (u.close_date + {YEAR})::date <= CAST(:today AS date) AS known,
         CASE WHEN EXISTS (
                SELECT 1 FROM customer_events e
                 WHERE e.customer_id = u.customer_id AND e.kind = 'churn'
                   AND e.occurred_on BETWEEN u.close_date AND (u.close_date + {YEAR})::date)
              THEN u.arr_increase
              ELSE least(u.arr_increase, coalesce((
                SELECT -sum(e.arr_change) FROM customer_events e
                 WHERE e.customer_id = u.customer_id AND e.kind = 'contraction'
                   AND e.occurred_on BETWEEN u.close_date AND (u.close_date + {YEAR})::date
                   AND (e.related_type = 'upsell' AND e.related_id = u.id
                        OR e.related_id IS NULL AND u.id = (
                          SELECT x.id FROM upsells x
                           WHERE x.customer_id = e.customer_id
                             AND e.occurred_on BETWEEN x.close_date
                                                   AND (x.close_date + {YEAR})::date
                           ORDER BY x.close_date DESC, x.id LIMIT 1))), 0))
         END AS lost
    FROM facts f
    JOIN upsell_measurements m ON m.id = f.id
    JOIN upsells u ON u.id = m.upsell_id
)
"""
# Aggregates over `facts LEFT JOIN year_one y USING (id)`.
COLUMNS = """
       count(*) FILTER (WHERE y.known) AS churn_known,
       count(*) FILTER (WHERE NOT y.known) AS churn_unknown,
       coalesce(sum(y.expanded) FILTER (WHERE y.known), 0) AS expanded_arr,
       coalesce(sum(y.lost) FILTER (WHERE y.known), 0) AS churned_arr,
       count(*) FILTER (WHERE y.known AND y.lost > 0) AS churned,
"""


def churn_rate(row) -> float | None:
    """Return lost ÷ expanded ARR of the expansions whose first year is over (None without)."""
    expanded = float(row.expanded_arr)
    return round(float(row.churned_arr) / expanded, 4) if row.churn_known and expanded else None


def _expansions(n: int) -> str:
    return f"{n} expansion{'' if n == 1 else 's'}"


def churn_detail(row) -> str:
    """Explain the churn figure in plain words, naming the plans not yet known."""
    recent = f"{_expansions(row.churn_unknown)} closed less than 12 months ago"
    if not row.churn_known:
        return (
            f"Not yet known: {recent}, none earlier" if row.churn_unknown else "No expansions yet"
        )
    return (
        f"{money(row.churned_arr)} of {money(row.expanded_arr)} expanded ARR lost to churn or "
        f"contraction within 12 months of close, over {_expansions(row.churn_known)} closed 12 or "
        f"more months ago; " + (f"{recent}: not yet known" if row.churn_unknown else "none younger")
    )
