"""Demo/scale data generation: seconds and rows per second for a large --customers."""

import time

from sqlalchemy import create_engine


def run(customers: int = 10_000) -> list[str]:
    """Generate `customers` customers into a scratch database; return report lines."""
    from bench.scratch import scratch_database
    from data.demo import generate

    with scratch_database() as url:
        engine = create_engine(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            counts = generate(conn, customers=customers, seed=7)
        elapsed = time.perf_counter() - started
        engine.dispose()
    rows = sum(counts.values())
    observations = counts.get("metric_observations", 0)
    return [
        f"demo    {customers:,} customers: {rows:,} rows ({observations:,} usage observations) "
        f"in {elapsed:.1f}s = {rows / elapsed:,.0f} rows/s"
    ]
