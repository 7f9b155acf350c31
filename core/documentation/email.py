"""Draft the congratulations email for a documented win; the CSM approves it before it is sent."""

import uuid
from collections.abc import Iterable

from sqlalchemy import ARRAY, Uuid, any_, bindparam, select
from sqlalchemy.orm import Session

from core.customers.models import Contact
from core.drafts.models import DraftKind, MessageTemplate
from core.drafts.service import draft_row
from core.drafts.templates import DefaultTemplate, render_loaded
from core.formatting import number
from core.goals.results import value_summary
from core.records.facts import RecordFacts

TEMPLATE = "congratulations_email"

# Each customer's primary contact: the one marked primary, else the first by name.
PRIMARY_CONTACTS = (
    select(Contact.customer_id, Contact.name, Contact.email)
    .where(Contact.customer_id == any_(bindparam("customers", type_=ARRAY(Uuid))))
    .distinct(Contact.customer_id)
    .order_by(Contact.customer_id, Contact.is_primary.desc(), Contact.name)
)


def primary_contacts(*, session: Session, customer_ids: Iterable[uuid.UUID]) -> dict:
    """Return the primary contact (name, email) of each customer that has contacts."""
    rows = session.execute(PRIMARY_CONTACTS, {"customers": list(customer_ids)})
    return {row.customer_id: row for row in rows}


def congratulations(
    *,
    facts: RecordFacts,
    contact,
    next_goals: list[str],
    owner_id: uuid.UUID | None,
    template: MessageTemplate | DefaultTemplate,
) -> dict:
    """Return the draft of the congratulations email to the customer's primary contact."""
    context = {
        "customer_name": facts.customer_name,
        "contact_name": contact.name.split()[0] if contact else "team",
        "goal_name": facts.goal_name,
        "result": facts.result,
        "target": number(facts.target, facts.unit, money=facts.is_money) if facts.target else "",
        "beyond_target": f"{facts.beyond_target:.0%}" if facts.beyond_target else "",
        "value_summary": value_summary(facts),
        "days_to_achieve": facts.days_to_achieve,
        "next_goals": next_goals,
        "csm_name": facts.csm_name or "Your customer success team",
        "csm_title": "Customer Success Manager",
    }
    subject, body = render_loaded(template, context)
    return draft_row(
        kind=DraftKind.CUSTOMER_EMAIL,
        customer_id=uuid.UUID(facts.customer_id),
        owner_id=owner_id,
        related_type="achievement",
        related_id=uuid.UUID(facts.achievement_id),
        to=[contact.email] if contact else [],
        subject=subject,
        body=body,
    )
