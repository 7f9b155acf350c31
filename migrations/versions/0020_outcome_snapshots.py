"""outcome snapshots: the outcome report stored by each upsell tracking pass

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

The outcome report read every plan's figures (a query over all plans, several times) on each
request. The `upsell_tracking` job now computes it once per pass and stores it here (one row
per scope; "all" is every plan, unfiltered) with the active plans least likely to succeed and
when it was computed; the API and the Upsell outcomes page read that row. Reviews get an index on their checkpoint: the report looks up each
plan's review at its day-30 and day-90 checkpoints.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVIEW_INDEX = op.f("ix_upsell_reviews_checkpoint_id")


def upgrade() -> None:
    op.create_table(
        "outcome_snapshots",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("analysis", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("predictions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active_plans", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_outcome_snapshots")),
    )
    op.create_index(REVIEW_INDEX, "upsell_reviews", ["checkpoint_id"])


def downgrade() -> None:
    op.drop_index(REVIEW_INDEX, table_name="upsell_reviews")
    op.drop_table("outcome_snapshots")
