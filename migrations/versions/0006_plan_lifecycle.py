"""plan lifecycle: checkpoint as-of evaluation, closing plans, one escalation per overdue checkpoint

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Adds the history of manually recorded criterion values (so a checkpoint can read the value as of
its day), when a checkpoint's review is due and when its lateness was escalated, the day by which
a proposed outcome must be decided, and the "no_decision" outcome. Existing rows are backfilled:
manual criteria's current values become their first reading, prepared checkpoints get a review
due date 7 days after they were prepared, and undecided proposals 30 days from when they were made.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED = "'success', 'partial', 'at_risk', 'failed'"


def _outcome_checks(values: str) -> None:
    for column, name in (("proposed_status", "proposed_outcome"), ("status", "outcome")):
        op.drop_constraint(op.f(f"ck_upsell_outcomes_{name}"), "upsell_outcomes", type_="check")
        op.create_check_constraint(
            op.f(f"ck_upsell_outcomes_{name}"), "upsell_outcomes", f"{column} IN ({values})"
        )


def upgrade() -> None:
    op.create_table(
        "measurement_readings",
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["measurement_metrics.id"],
            name=op.f("fk_measurement_readings_metric_id_measurement_metrics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_measurement_readings_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement_readings")),
        sa.UniqueConstraint(
            "metric_id", "observed_at", name=op.f("uq_measurement_readings_metric_id_observed_at")
        ),
    )
    op.execute(
        """
        INSERT INTO measurement_readings (metric_id, observed_at, value)
        SELECT id, current_at, current FROM measurement_metrics
         WHERE measurement = 'manual' AND current IS NOT NULL AND current_at IS NOT NULL
        """
    )
    op.add_column("checkpoints", sa.Column("review_due_on", sa.Date(), nullable=True))
    op.add_column(
        "checkpoints", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        """
        UPDATE checkpoints
           SET review_due_on = greatest(due_on, (triggered_at AT TIME ZONE 'UTC')::date) + 7
         WHERE status <> 'scheduled' AND triggered_at IS NOT NULL
        """
    )
    op.execute(
        "UPDATE checkpoints SET review_due_on = due_on + 7 "
        "WHERE status <> 'scheduled' AND review_due_on IS NULL"
    )
    op.add_column("upsell_outcomes", sa.Column("decide_by", sa.Date(), nullable=True))
    op.execute(
        "UPDATE upsell_outcomes SET decide_by = (created_at AT TIME ZONE 'UTC')::date + 30 "
        "WHERE status IS NULL"
    )
    _outcome_checks(f"{DECIDED}, 'no_decision'")


def downgrade() -> None:
    op.execute(
        """
        UPDATE upsell_measurements m SET status = 'active'
          FROM upsell_outcomes o
         WHERE o.measurement_id = m.id AND o.status = 'no_decision'
        """
    )
    op.execute(
        "UPDATE upsell_outcomes SET status = NULL, decided_at = NULL WHERE status = 'no_decision'"
    )
    _outcome_checks(DECIDED)
    op.drop_column("upsell_outcomes", "decide_by")
    op.drop_column("checkpoints", "escalated_at")
    op.drop_column("checkpoints", "review_due_on")
    op.drop_table("measurement_readings")
