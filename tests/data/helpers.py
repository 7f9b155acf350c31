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
    "customer_events",
)
# What the app did before as_of: older upsells' plans and past wins (data.plan_history,
# data.plan_decisions, data.win_history).
HISTORY_TABLES = (
    "upsell_measurements",
    "measurement_metrics",
    "measurement_readings",
    "checkpoints",
    "upsell_reviews",
    "upsell_outcomes",
    "health_factors",
    "audit_log",
    "goal_achievements",
    "success_records",
    "value_repository_entries",
)
# Work only the jobs (or people) do: the demo leaves it to them.
JOB_TABLES = ("outbox_deliveries", "plan_milestones", "job_runs")
VOLATILE = ("created_at", "updated_at", "ingested_at")


def rows(conn, sql: str, **params):
    return conn.execute(text(sql), params).all()


def one(conn, sql: str, **params):
    return conn.execute(text(sql), params).scalar_one()


def fingerprint(conn, tables=TABLES + HISTORY_TABLES) -> dict[str, str]:
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
