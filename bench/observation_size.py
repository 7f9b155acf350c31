"""Usage observations at scale: disk per million rows, and how long partitioning them takes.

`python -m bench.observation_size [ROWS]` builds a throwaway database at revision 0020, fills
the plain table with ROWS observations (default 1,000,000: 1,000 customers × 8 metrics × 125
days, one value a day), measures it, runs migration 0021 on it and measures the partitioned table.
"""

import sys
import tempfile
import time
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from core.embedded import start_embedded
from tests.pg import alembic_config

METRICS = 8
DAYS = 125

SEED = """
INSERT INTO metrics (key, name, unit, kind, direction)
SELECT 'metric_' || m, 'Metric ' || m, 'units', 'usage', 'higher_is_better'
  FROM generate_series(1, :metrics) m;
INSERT INTO customers (name, industry, segment, region, arr, consent_level)
SELECT 'Customer ' || c, 'Software', 'mid_market', 'NA', 100000, 'internal_only'
  FROM generate_series(1, :customers) c;
"""
# Daily values at a varying hour, arriving an hour later, as a usage pipeline sends them.
OBSERVATIONS = """
INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, source, ingested_at)
SELECT c.id, 'metric_' || m, t, round((random() * 5000)::numeric, 2), 'api', t + interval '1 hour'
  FROM customers c
 CROSS JOIN generate_series(1, :metrics) m
 CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - make_interval(days => d)
                            + make_interval(mins => (abs(hashtext(c.id::text)) % 1440))
                       FROM generate_series(1, :days) d) AS s(t)
"""
SIZES = """
WITH leaves AS (
  SELECT relid FROM pg_partition_tree('metric_observations') WHERE isleaf
  UNION ALL  -- the plain table is its own only leaf
  SELECT 'metric_observations'::regclass WHERE NOT EXISTS (
    SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'metric_observations'::regclass)
)
SELECT count(*), sum(pg_total_relation_size(relid)), sum(pg_table_size(relid)),
       sum(pg_indexes_size(relid))
  FROM leaves
"""


def _sizes(engine) -> tuple[int, int, int, int]:
    with engine.begin() as conn:
        conn.execute(text("VACUUM ANALYZE metric_observations"))
        return tuple(conn.execute(text(SIZES)).one())


def _mb(size: int, rows: int) -> str:
    per_million = size / rows * 1_000_000 / 2**20
    return f"{size / 2**20:,.0f} MB ({per_million:,.0f} MB per million rows)"


def run(rows: int = 1_000_000, customers: int | None = None) -> list[str]:
    """Fill, measure, partition and measure again; return report lines.

    `customers` (8 metrics × 125 days each) sets the rows instead of `rows`.
    """
    customers = customers or max(1, rows // (METRICS * DAYS))
    pgdata = Path(tempfile.mkdtemp(prefix="outcomes-bench-pg-"))
    server, url = start_embedded(pgdata, database="bench", cleanup_mode="delete")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        command.upgrade(alembic_config(url), "0020")
        with engine.connect() as conn:
            params = {"metrics": METRICS, "customers": customers, "days": DAYS}
            for statement in SEED.split(";")[:-1]:
                conn.execute(text(statement), params)
            started = time.perf_counter()
            conn.execute(text(OBSERVATIONS), params)
            loading = time.perf_counter() - started
            count = conn.scalar(text("SELECT count(*) FROM metric_observations"))
        _, plain, plain_heap, plain_indexes = _sizes(engine)
        started = time.perf_counter()
        command.upgrade(alembic_config(url), "0021")
        migrating = time.perf_counter() - started
        partitions, total, heap, indexes = _sizes(engine)
    finally:
        engine.dispose()
        server.cleanup()
    return [
        f"size    {count:,} observations ({customers:,} customers × {METRICS} metrics × "
        f"{DAYS} days) loaded in {loading:.1f}s",
        f"size    plain table: {_mb(plain, count)}; table {plain_heap / 2**20:,.0f} MB, "
        f"indexes {plain_indexes / 2**20:,.0f} MB",
        f"size    partitioned ({partitions} partitions): {_mb(total, count)}; "
        f"table {heap / 2**20:,.0f} MB, indexes {indexes / 2**20:,.0f} MB",
        f"size    migration 0021 on them: {migrating:.1f}s",
    ]


if __name__ == "__main__":
    for line in run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000):
        print(line, flush=True)
