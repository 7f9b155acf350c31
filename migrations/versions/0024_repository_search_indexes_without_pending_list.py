"""repository search indexes without a pending list

The text indexes of the value repository (migration 0019) took writes into GIN's pending list,
which every search that looks words up in them (sparse words, and the count of the others) read
through in full: after a bulk load or a busy day up to 4 MB, several milliseconds a search.
Documented wins are written seldom and searched often, so each write now goes straight into the
indexes (`fastupdate` off, a little more work per write) and the list left is flushed here.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = ("ix_value_repository_entries_search_text", "ix_value_repository_entries_search_name")


def upgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
