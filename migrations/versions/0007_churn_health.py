"""churn and health: customer events, health factor weights and sources, write-back state

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Data: negative contract amendments already in the ledger become contraction events, and every
stored health score becomes the customer's `crm_health` factor (until now the score was the
CRM's value, nudged by confirmed upsell outcomes), so the combined score starts from it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("health_refreshed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "customers",
        sa.Column("health_revision", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "customer_events",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "churn",
                "contraction",
                "renewal",
                name="customer_event_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("arr_change", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("related_type", sa.String(length=48), nullable=True),
        sa.Column("related_id", sa.Uuid(), nullable=True),
        sa.Column("timeline_event_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'renewal' AND arr_change >= 0) OR (kind <> 'renewal' AND arr_change < 0)",
            name=op.f("ck_customer_events_arr_change_sign"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["timeline_event_id"],
            ["timeline_events.id"],
            name=op.f("fk_customer_events_timeline_event_id_timeline_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_events")),
        sa.UniqueConstraint(
            "source", "source_id", name=op.f("uq_customer_events_source_source_id")
        ),
    )
    op.create_index(
        "ix_customer_events_customer_date", "customer_events", ["customer_id", "occurred_on"]
    )
    op.execute(
        """
        INSERT INTO customer_events (customer_id, kind, occurred_on, arr_change, source,
                                     source_id, note, related_type, related_id)
        SELECT customer_id, 'contraction', signed_date, arr_change, 'salesforce', amendment_id,
               description, CASE WHEN upsell_id IS NOT NULL THEN 'upsell' END, upsell_id
          FROM upsell_amendments WHERE arr_change < 0
        """
    )
    op.execute(
        """
        INSERT INTO health_factors (customer_id, factor, score, weight, details, source)
        SELECT id, 'crm_health', health_score, 2, '{"carried_over": true}', 'crm'
          FROM customers WHERE health_score IS NOT NULL
        ON CONFLICT (customer_id, factor) DO NOTHING
        """
    )
    op.execute("UPDATE customers SET health_refreshed_at = now()")


def downgrade() -> None:
    op.execute("DELETE FROM health_factors WHERE factor = 'crm_health'")
    op.drop_index("ix_customer_events_customer_date", table_name="customer_events")
    op.drop_table("customer_events")
    op.drop_column("customers", "health_revision")
    op.drop_column("customers", "health_refreshed_at")
