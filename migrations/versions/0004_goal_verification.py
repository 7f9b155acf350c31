"""goal verification: met-at-start wins, baselines and improvement on achievements

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GOAL_STATUS = op.f("ck_goals_goal_status")
BEFORE = ("active", "pending_confirmation", "achieved", "missed", "cancelled")
AFTER = ("active", "met_at_start", "pending_confirmation", "achieved", "missed", "cancelled")


def _status_check(values: tuple[str, ...]) -> None:
    op.drop_constraint(GOAL_STATUS, "goals", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(GOAL_STATUS, "goals", f"status IN ({listed})")


def upgrade() -> None:
    _status_check(AFTER)
    op.add_column(
        "goal_achievements",
        sa.Column("improvement", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    # Direction-aware improvement of the wins already recorded, relative to their baseline (not
    # for ROI multiples of cost: their stored baseline is money, their result a multiple).
    op.execute(
        """
        UPDATE goal_achievements a
        SET improvement = round(
              CASE WHEN g.direction = 'lower_is_better'
                   THEN a.baseline_value - a.achieved_value
                   ELSE a.achieved_value - a.baseline_value END / abs(a.baseline_value), 4)
        FROM goals g
        WHERE g.id = a.goal_id AND a.baseline_value <> 0 AND a.achieved_value IS NOT NULL
          AND NOT (g.type = 'roi' AND g.cost > 0
                   AND lower(g.unit) IN ('x', '×', 'ratio', 'roi', '× cost'))
        """
    )


def downgrade() -> None:
    op.drop_column("goal_achievements", "improvement")
    op.execute("UPDATE goals SET status = 'active' WHERE status = 'met_at_start'")
    _status_check(BEFORE)
