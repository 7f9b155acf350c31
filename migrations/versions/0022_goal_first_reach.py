"""goal first reach: when each metric goal without a win first held its target

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

Achievement capture counts goals reached but never recorded; finding them read every metric
goal's series on each page view (seconds at 10,000 customers). The `achievement_capture` job now
stores, per metric goal, when its observations first held the target (NULL: never), with a
watermark in `sync_watermarks`; readers derive only the goals changed since then, and those
whose series holds an observation dated after the refresh (`valid_until`) once that time passes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goal_first_reach",
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goals.id"],
            name=op.f("fk_goal_first_reach_goal_id_goals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("goal_id", name=op.f("pk_goal_first_reach")),
    )


def downgrade() -> None:
    op.drop_table("goal_first_reach")
