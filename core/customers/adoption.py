"""The `adoption` health factor, from usage: how much of the product a customer really uses.

For each customer, every metric of kind "adoption" measured in percent and better when higher
(core feature adoption, onboarding completion …) contributes the average of its readings in the
week up to its latest reading, when that reading is at most 30 days old; the factor is the mean of
those levels, each clamped to 0-100. Metrics without a fresh reading are left out; a customer
without any loses the factor (stale adoption is not health). One statement each for the upsert
and the removal, over all customers.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.customers.health import WEIGHTS

FACTOR = "adoption"
FRESH = timedelta(days=30)
WINDOW = timedelta(days=7)

_LEVELS = """
    WITH readings AS (
      SELECT o.customer_id, o.metric_key, o.observed_at, o.value,
             max(o.observed_at) OVER (PARTITION BY o.customer_id, o.metric_key) AS latest
        FROM metric_observations o JOIN metrics m ON m.key = o.metric_key
       WHERE m.kind = 'adoption' AND m.unit = '%' AND m.direction = 'higher_is_better'
         AND o.observed_at > CAST(:now AS timestamptz) - CAST(:fresh AS interval)
         AND o.observed_at <= :now
    ), levels AS (
      SELECT customer_id, metric_key, max(latest) AS latest, count(*) AS readings,
             least(100, greatest(0, avg(value))) AS level
        FROM readings WHERE observed_at > latest - CAST(:window AS interval)
       GROUP BY customer_id, metric_key
    )
"""
UPSERT = text(
    _LEVELS
    + """
    INSERT INTO health_factors (id, customer_id, factor, score, weight, details, source, updated_at)
    SELECT gen_random_uuid(), customer_id, :factor, round(avg(level), 2), :weight,
           jsonb_build_object('metrics', jsonb_agg(jsonb_build_object(
             'metric', metric_key, 'level', round(level, 2), 'readings', readings,
             'latest', latest) ORDER BY metric_key)),
           'usage', :now
      FROM levels GROUP BY customer_id
    ON CONFLICT (customer_id, factor) DO UPDATE
       SET score = EXCLUDED.score, details = EXCLUDED.details, weight = EXCLUDED.weight,
           source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
     WHERE health_factors.score IS DISTINCT FROM EXCLUDED.score
    """
)
REMOVE_STALE = text(
    _LEVELS
    + """
    DELETE FROM health_factors f
     WHERE f.factor = :factor
       AND NOT EXISTS (SELECT 1 FROM levels l WHERE l.customer_id = f.customer_id)
    """
)


def refresh_adoption(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Upsert every customer's adoption factor from usage; drop it where the data went stale."""
    params = {
        "now": now or datetime.now(UTC),
        "fresh": FRESH,
        "window": WINDOW,
        "factor": FACTOR,
        "weight": WEIGHTS[FACTOR],
    }
    upserted = session.execute(UPSERT, params).rowcount
    removed = session.execute(REMOVE_STALE, params).rowcount
    return {"adoption_updated": upserted, "adoption_removed": removed}
