"""identity: API keys bound to a person, the key on audit entries

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

A key may be bound to one person (`api_keys.user_id`); a bound key can act only as that person.
Every audit entry written through the API also names the key it came with
(`audit_log.api_key_id`), beside the person. Both columns are nullable: unbound keys, the UI and
the jobs write entries without a key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("user_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_api_keys_user_id_users"), "api_keys", "users", ["user_id"], ["id"]
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.add_column("audit_log", sa.Column("api_key_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_audit_log_api_key_id_api_keys"), "audit_log", "api_keys", ["api_key_id"], ["id"]
    )
    op.create_index(op.f("ix_audit_log_api_key_id"), "audit_log", ["api_key_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_api_key_id"), table_name="audit_log")
    op.drop_constraint(op.f("fk_audit_log_api_key_id_api_keys"), "audit_log", type_="foreignkey")
    op.drop_column("audit_log", "api_key_id")
    op.drop_index(op.f("ix_api_keys_user_id"), table_name="api_keys")
    op.drop_constraint(op.f("fk_api_keys_user_id_users"), "api_keys", type_="foreignkey")
    op.drop_column("api_keys", "user_id")
