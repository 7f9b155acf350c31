"""plan tracking: measurement frequency, adoption milestones, ROI realized, feedback asks

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29

Adds each criterion's measurement frequency (empty until the tracking pass stores the default for
its kind), adoption milestones per plan with their source on the product templates, the moment a
plan's milestones were laid out, and the "feedback_request" draft kind (the 60-day feedback ask).
ROI realized is computed from existing data and needs no column.

The draft-kind check is rebuilt from the values the database allows now, so kinds that other
revisions add survive in either direction.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FREQUENCIES = ("daily", "weekly", "monthly")
MILESTONE_STATUSES = ("upcoming", "completed", "overdue")
DRAFT_KIND = "ck_drafts_draft_kind"
FEEDBACK_KIND = "feedback_request"


def _listed(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _draft_kinds() -> list[str]:
    definition = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.conname = :name AND c.conrelid = 'drafts'::regclass"
            ),
            {"name": DRAFT_KIND},
        )
        .scalar_one()
    )
    return re.findall(r"'([^']+)'", definition)


def _set_draft_kinds(kinds: list[str]) -> None:
    op.drop_constraint(op.f(DRAFT_KIND), "drafts", type_="check")
    op.create_check_constraint(op.f(DRAFT_KIND), "drafts", f"kind IN ({_listed(kinds)})")


def upgrade() -> None:
    op.add_column(
        "measurement_metrics", sa.Column("frequency", sa.String(length=32), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_measurement_metrics_measurement_frequency"),
        "measurement_metrics",
        f"frequency IN ({_listed(FREQUENCIES)})",
    )
    op.add_column(
        "success_templates",
        sa.Column(
            "milestones",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.add_column(
        "upsell_measurements",
        sa.Column("milestones_planned_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "plan_milestones",
        sa.Column("measurement_id", sa.Uuid(), nullable=False),
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("due_day", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *MILESTONE_STATUSES,
                name="milestone_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reached_on", sa.Date(), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["measurement_id"],
            ["upsell_measurements.id"],
            name=op.f("fk_plan_milestones_measurement_id_upsell_measurements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["measurement_metrics.id"],
            name=op.f("fk_plan_milestones_metric_id_measurement_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_milestones")),
        sa.UniqueConstraint(
            "measurement_id", "name", name=op.f("uq_plan_milestones_measurement_id_name")
        ),
    )
    op.create_index(
        op.f("ix_plan_milestones_measurement_id"), "plan_milestones", ["measurement_id"]
    )
    op.create_index(op.f("ix_plan_milestones_metric_id"), "plan_milestones", ["metric_id"])
    kinds = _draft_kinds()
    if FEEDBACK_KIND not in kinds:
        _set_draft_kinds([*kinds, FEEDBACK_KIND])


def downgrade() -> None:
    op.execute(f"DELETE FROM drafts WHERE kind = '{FEEDBACK_KIND}'")
    _set_draft_kinds([k for k in _draft_kinds() if k != FEEDBACK_KIND])
    op.drop_index(op.f("ix_plan_milestones_metric_id"), table_name="plan_milestones")
    op.drop_index(op.f("ix_plan_milestones_measurement_id"), table_name="plan_milestones")
    op.drop_table("plan_milestones")
    op.drop_column("upsell_measurements", "milestones_planned_at")
    op.drop_column("success_templates", "milestones")
    op.drop_constraint(
        op.f("ck_measurement_metrics_measurement_frequency"), "measurement_metrics", type_="check"
    )
    op.drop_column("measurement_metrics", "frequency")
