"""Constants and queries shared by the demo data tests."""

from datetime import date

from sqlalchemy import text

AS_OF = date(2026, 3, 15)
CUSTOMERS = 30
TABLES = (
    "users",
    "metrics",
    "products",
    "success_templates",
    "industry_benchmarks",
    "message_templates",
    "customers",
    "customer_contacts",
    "metric_observations",
    "success_plans",
    "goals",
    "milestones",
    "customer_feedback",
    "upsells",
    "upsell_products",
    "timeline_events",
)
JOB_TABLES = (
    "upsell_measurements",
    "checkpoints",
    "upsell_outcomes",
    "goal_achievements",
    "drafts",
    "outbox_deliveries",
    "value_repository_entries",
    "success_records",
    "marketing_flags",
)
VOLATILE = ("created_at", "updated_at", "ingested_at")


def rows(conn, sql: str, **params):
    return conn.execute(text(sql), params).all()


def one(conn, sql: str, **params):
    return conn.execute(text(sql), params).scalar_one()


def fingerprint(conn, tables=TABLES) -> dict[str, str]:
    """md5 over every row of each table, timestamps set by the server left out."""
    result = {}
    for table in tables:
        columns = [
            c
            for (c,) in rows(
                conn,
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = :t AND table_schema = current_schema() "
                "ORDER BY ordinal_position",
                t=table,
            )
            if c not in VOLATILE
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        result[table] = one(
            conn,
            f"SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) "
            f"FROM (SELECT {listed} FROM {table}) r",
        )
    return result
