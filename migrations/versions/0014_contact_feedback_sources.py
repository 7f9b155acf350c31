"""contact and feedback ids from source systems; quotes a CSM logs; CSAT scored 1-5

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

Contacts get the CRM's id (`external_id`, unique per customer; empty for contacts added on the
customer page), one email per customer and at most one primary contact per customer (a partial
unique index). Feedback gets where it came from (`source`: survey for the rows already here, api,
call) and the sending system's id (`source_id`, unique per source), the respondent's email, and a
third kind, `quote`: words a CSM logged from a call, without a score. The score is checked per
kind: NPS 0-10, CSAT 1-5, a quote none. Removing a contact keeps its feedback (the link is set
to null; the respondent's name and title stay on the feedback).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEEDBACK = "customer_feedback"
CONTACTS = "customer_contacts"
KIND_CHECK = op.f("ck_customer_feedback_feedback_kind")
SCORE_CHECK = op.f("ck_customer_feedback_score_range")
CONTACT_FK = op.f("fk_customer_feedback_contact_id_customer_contacts")
ONE_PRIMARY = op.f("ix_customer_contacts_one_primary")
SCORE_RULE = (
    "coalesce((kind = 'nps' AND score BETWEEN 0 AND 10) "
    "OR (kind = 'csat' AND score BETWEEN 1 AND 5) "
    "OR (kind = 'quote' AND score IS NULL), false)"
)


def _contact_fk(ondelete: str | None) -> None:
    op.drop_constraint(CONTACT_FK, FEEDBACK, type_="foreignkey")
    op.create_foreign_key(CONTACT_FK, FEEDBACK, CONTACTS, ["contact_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    op.add_column(CONTACTS, sa.Column("external_id", sa.String(length=128), nullable=True))
    op.create_unique_constraint(
        op.f("uq_customer_contacts_customer_id_external_id"),
        CONTACTS,
        ["customer_id", "external_id"],
    )
    op.create_unique_constraint(
        op.f("uq_customer_contacts_customer_id_email"), CONTACTS, ["customer_id", "email"]
    )
    op.create_index(
        ONE_PRIMARY,
        CONTACTS,
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )

    op.add_column(
        FEEDBACK,
        sa.Column("source", sa.String(length=32), server_default="survey", nullable=False),
    )
    op.add_column(FEEDBACK, sa.Column("source_id", sa.String(length=128), nullable=True))
    op.add_column(FEEDBACK, sa.Column("respondent_email", sa.String(length=254), nullable=True))
    op.create_unique_constraint(
        op.f("uq_customer_feedback_source_source_id"), FEEDBACK, ["source", "source_id"]
    )
    op.drop_constraint(KIND_CHECK, FEEDBACK, type_="check")
    op.create_check_constraint(KIND_CHECK, FEEDBACK, "kind IN ('nps', 'csat', 'quote')")
    op.alter_column(FEEDBACK, "score", existing_type=sa.Integer(), nullable=True)
    op.drop_constraint(SCORE_CHECK, FEEDBACK, type_="check")
    op.create_check_constraint(SCORE_CHECK, FEEDBACK, SCORE_RULE)
    _contact_fk("SET NULL")


def downgrade() -> None:
    _contact_fk(None)
    op.execute("DELETE FROM customer_feedback WHERE kind = 'quote'")
    op.drop_constraint(SCORE_CHECK, FEEDBACK, type_="check")
    op.alter_column(FEEDBACK, "score", existing_type=sa.Integer(), nullable=False)
    op.create_check_constraint(SCORE_CHECK, FEEDBACK, "score >= 0 AND score <= 10")
    op.drop_constraint(KIND_CHECK, FEEDBACK, type_="check")
    op.create_check_constraint(KIND_CHECK, FEEDBACK, "kind IN ('nps', 'csat')")
    op.drop_constraint(op.f("uq_customer_feedback_source_source_id"), FEEDBACK, type_="unique")
    op.drop_column(FEEDBACK, "respondent_email")
    op.drop_column(FEEDBACK, "source_id")
    op.drop_column(FEEDBACK, "source")

    op.drop_index(ONE_PRIMARY, table_name=CONTACTS, postgresql_where=sa.text("is_primary"))
    op.drop_constraint(op.f("uq_customer_contacts_customer_id_email"), CONTACTS, type_="unique")
    op.drop_constraint(
        op.f("uq_customer_contacts_customer_id_external_id"), CONTACTS, type_="unique"
    )
    op.drop_column(CONTACTS, "external_id")
