"""jobs: one failed item recorded with its reason while the batch goes on

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

A job that loops over items (wins to document, plans to score, checkpoints to prepare, Salesforce
rows …) processes each one on its own; an item that fails is kept here with its reason, first and
last time seen and how often, one row per item and step, and deleted once the item succeeds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_item_failures",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_name", sa.String(length=64), nullable=True),
        sa.Column("item_type", sa.String(length=48), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "first_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("failure_count", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_item_failures")),
        sa.UniqueConstraint(
            "item_type", "item_id", name=op.f("uq_job_item_failures_item_type_item_id")
        ),
    )
    op.create_index(
        "ix_job_item_failures_last_seen_at", "job_item_failures", ["last_seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_job_item_failures_last_seen_at", table_name="job_item_failures")
    op.drop_table("job_item_failures")
