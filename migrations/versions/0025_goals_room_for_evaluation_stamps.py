"""goals: pages keep room for the evaluation stamps of a detection pass

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30

A detection pass stamps `evaluated_at` on every goal it reads, in one statement. No index
covers that column, so a stamp can be a HOT update (no new entry in any of the table's
indexes) when the new row version fits on the goal's own page. A pass stamps every goal of a
page at once and the old versions stay until it commits, so a page needs about half its space
free: on full pages most stamps wrote a new entry in each of the seven indexes. Pages are now
filled to half (`fillfactor` 50; measured on a fresh 1,000-customer demo: every stamp of the
first pass HOT, against half of them before, the pass's main statement 15% cheaper). The table
is small, a row per goal, so twice the pages cost little.

The setting applies to pages written from now on: a table loaded afterwards (a fresh demo, a
restore) gets the room at once; an existing table keeps its full pages until they are rewritten
(`VACUUM FULL goals`, which locks the table while it runs) and, meanwhile, gains room only as
ordinary updates and vacuums move rows to new pages. This migration rewrites nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE goals SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE goals RESET (fillfactor)")
