"""upsell plans: amendment ledger, contraction, re-planning state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("upsells", sa.Column("contracted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "upsell_amendments",
        sa.Column("amendment_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("upsell_id", sa.Uuid(), nullable=True),
        sa.Column("arr_change", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("signed_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_upsell_amendments_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upsell_id"],
            ["upsells.id"],
            name=op.f("fk_upsell_amendments_upsell_id_upsells"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upsell_amendments")),
        sa.UniqueConstraint("amendment_id", name=op.f("uq_upsell_amendments_amendment_id")),
    )
    op.create_index(op.f("ix_upsell_amendments_customer_id"), "upsell_amendments", ["customer_id"])
    op.create_index(op.f("ix_upsell_amendments_upsell_id"), "upsell_amendments", ["upsell_id"])
    op.add_column(
        "upsell_measurements",
        sa.Column(
            "planned_products",
            postgresql.ARRAY(sa.String(length=64)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "upsell_measurements",
        sa.Column(
            "removed_metrics",
            postgresql.ARRAY(sa.String(length=120)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "upsell_measurements",
        sa.Column("replan_requested_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "upsell_measurements",
        sa.Column(
            "plan_notes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("upsell_measurements", "plan_notes")
    op.drop_column("upsell_measurements", "replan_requested_at")
    op.drop_column("upsell_measurements", "removed_metrics")
    op.drop_column("upsell_measurements", "planned_products")
    op.drop_index(op.f("ix_upsell_amendments_upsell_id"), table_name="upsell_amendments")
    op.drop_index(op.f("ix_upsell_amendments_customer_id"), table_name="upsell_amendments")
    op.drop_table("upsell_amendments")
    op.drop_column("upsells", "contracted_at")
