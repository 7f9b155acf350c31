"""goals, plans and steps changed since a moment: a btree on each updated_at

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30

Every goal detection pass opens by asking whether any goal, success plan or milestone changed
since the last pass (`updated_at > :since`); with nothing new it stops there. Without an index
each question read its whole table, every five minutes, so a pass with nothing to do cost as
much as the book is large. A btree answers it with a probe. Writers wait while they build.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("goals", "milestones", "success_plans")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
