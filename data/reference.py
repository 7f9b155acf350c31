"""Write the catalogue: metrics, products, success templates, benchmarks and message templates.

Existing rows win (ON CONFLICT DO NOTHING): an admin may already have edited a template.
"""

import random

from sqlalchemy import Connection

from core.drafts.templates import DEFAULT_TEMPLATES
from data.catalog import METRICS, PRODUCTS, TEMPLATES, benchmark_rows
from data.load import as_json, new_id


def _insert(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> int:
    marks = ", ".join(["%s"] * len(columns))
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    )
    count = 0
    with conn.connection.driver_connection.cursor() as cur:
        for row in rows:
            cur.execute(statement, row)
            count += cur.rowcount
    return count


def load_reference(conn: Connection, rng: random.Random, admin_id) -> dict[str, int]:
    """Insert the catalogue rows; return how many each table gained."""
    metrics = [
        (m.key, m.name, m.unit, m.kind, m.direction, m.is_money, m.description) for m in METRICS
    ]
    products = [(code, name, family, price) for code, (name, family, price) in PRODUCTS.items()]
    templates = [
        (new_id(rng), code, as_json(criteria), days, as_json(milestones), admin_id)
        for code, (criteria, days, milestones) in TEMPLATES.items()
    ]
    benchmarks = [(new_id(rng), *row) for row in benchmark_rows()]
    # The demo stores the product's default templates, so admins see rows they can edit.
    messages = [
        (new_id(rng), key, t.name, t.subject, t.body, admin_id)
        for key, t in DEFAULT_TEMPLATES.items()
    ]
    return {
        "metrics": _insert(
            conn,
            "metrics",
            ("key", "name", "unit", "kind", "direction", "is_money", "description"),
            metrics,
        ),
        "products": _insert(conn, "products", ("code", "name", "family", "list_price"), products),
        "success_templates": _insert(
            conn,
            "success_templates",
            ("id", "product_code", "metrics", "checkpoint_days", "milestones", "updated_by_id"),
            templates,
        ),
        "industry_benchmarks": _insert(
            conn,
            "industry_benchmarks",
            ("id", "industry", "segment", "metric_key", "median", "top_quartile"),
            benchmarks,
        ),
        "message_templates": _insert(
            conn,
            "message_templates",
            ("id", "key", "name", "subject", "body", "updated_by_id"),
            messages,
        ),
    }
