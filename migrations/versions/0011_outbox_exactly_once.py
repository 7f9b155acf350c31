"""outbox: claim tokens, stored Gmail draft ids, abandoned job runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

A claimed delivery carries a fresh claim token and a lease; the worker renews the lease of the
rows it has not finished and every write that finishes a row checks the token, so a worker that
lost its claim neither sends nor marks the row. `first_tried_at` (set by the first claim) says an
earlier attempt may have reached the provider (a Slack retry looks for the message first);
`gmail_draft_id` is the draft the first attempt created, sent again on retry. Job runs get a
lease the running process renews; a run whose lease lapsed (its process died) is closed as
"abandoned".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_deliveries", sa.Column("claim_token", sa.Uuid(), nullable=True))
    op.add_column(
        "outbox_deliveries", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "outbox_deliveries", sa.Column("first_tried_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "outbox_deliveries", sa.Column("gmail_draft_id", sa.String(length=200), nullable=True)
    )
    # Rows claimed before the upgrade keep the five-minute lease they were claimed with, and
    # may have been tried already.
    op.execute(
        "UPDATE outbox_deliveries SET claim_token = gen_random_uuid(), "
        "lease_until = claimed_at + interval '300 seconds', first_tried_at = claimed_at "
        "WHERE status = 'in_progress'"
    )
    op.execute(
        "UPDATE outbox_deliveries SET first_tried_at = updated_at "
        "WHERE attempts > 0 AND first_tried_at IS NULL"
    )
    op.add_column("job_runs", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    # Runs left "running" before the upgrade have no process renewing them any more.
    op.execute("UPDATE job_runs SET lease_until = now() WHERE status = 'running'")


def downgrade() -> None:
    op.drop_column("job_runs", "lease_until")
    op.drop_column("outbox_deliveries", "gmail_draft_id")
    op.drop_column("outbox_deliveries", "first_tried_at")
    op.drop_column("outbox_deliveries", "lease_until")
    op.drop_column("outbox_deliveries", "claim_token")
