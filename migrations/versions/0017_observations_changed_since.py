"""observations changed since a moment: a btree on ingested_at

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30

Goal detection reads only the series that received observations since its last pass
(`ingested_at > :since`). The BRIN index answered that cheaply only while rows sat in the order
they arrived: once vacuumed space is reused (corrected values, deleted customers), its block
ranges widen and the same question reads most of the table (measured on 13.9 M rows: 12,230
blocks and 1 M rows rechecked for the last minute's 20,000). A btree finds them by key however the
rows lie, and stays small: the rows of one ingest share their `ingested_at` and deduplicate.
Writers wait while it builds.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_metric_observations_ingested_at"
TABLE = "metric_observations"


def upgrade() -> None:
    op.drop_index(INDEX, table_name=TABLE)
    op.create_index(INDEX, TABLE, ["ingested_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name=TABLE)
    op.create_index(INDEX, TABLE, ["ingested_at"], postgresql_using="brin")
