"""upsell targets: relative to the baseline, with their source

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("template_uplift", "template_level", "benchmark", "history", "stated", "csm")


def upgrade() -> None:
    op.add_column(
        "measurement_metrics",
        sa.Column("target_source", sa.String(length=32), nullable=True),
    )
    op.add_column("measurement_metrics", sa.Column("target_explanation", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_measurement_metrics_target_source"),
        "measurement_metrics",
        f"target_source IN ({', '.join(repr(s) for s in SOURCES)})",
    )
    # Criteria drafted before this revision got fixed targets; say so rather than guess more.
    op.execute(
        """
        UPDATE measurement_metrics
           SET target_source = CASE origin WHEN 'csm' THEN 'csm' WHEN 'stated' THEN 'stated'
                                           WHEN 'benchmark' THEN 'benchmark'
                                           WHEN 'history' THEN 'history'
                                           ELSE 'template_level' END,
               target_explanation = CASE origin
                   WHEN 'csm' THEN 'Set by a CSM.'
                   WHEN 'stated' THEN 'Stated on the opportunity.'
                   ELSE 'A fixed level, drafted before targets followed the baseline at close.'
               END
        """
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_measurement_metrics_target_source"), "measurement_metrics", type_="check"
    )
    op.drop_column("measurement_metrics", "target_explanation")
    op.drop_column("measurement_metrics", "target_source")
