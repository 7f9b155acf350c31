"""sign-in policy (allowed email domain, default role)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

With single sign-on, a person whose email has no active user here is turned away, unless an admin
allowed their email domain: then their first sign-in creates their user with the role the admin
chose. One row (`id = 1`) holds that choice; domain and role are both set or both empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_policy",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("allowed_domain", sa.String(length=253), nullable=True),
        sa.Column(
            "default_role",
            sa.Enum(
                "csm",
                "leader",
                "marketing",
                "admin",
                "sales",
                name="sign_in_default_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
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
        sa.CheckConstraint("id = 1", name=op.f("ck_sign_in_policy_single_row")),
        sa.CheckConstraint(
            "(allowed_domain IS NULL) = (default_role IS NULL)",
            name=op.f("ck_sign_in_policy_domain_with_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_policy")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_policy")
