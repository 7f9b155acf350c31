"""Draft the congratulations email for a documented win; the CSM approves it before it is sent."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.customers.models import Contact, Customer
from core.drafts.models import DraftKind
from core.drafts.service import create_draft
from core.drafts.templates import render as render_template
from core.formatting import number
from core.goals.models import Achievement, Goal
from core.goals.results import value_summary
from core.records.facts import RecordFacts
from core.records.next_goals import suggest


def draft_congratulations(
    *, session: Session, facts: RecordFacts, achievement: Achievement, goal: Goal
) -> None:
    """Draft the congratulations email to the customer's primary contact, for the CSM to approve."""
    contacts = session.scalars(
        select(Contact)
        .where(Contact.customer_id == achievement.customer_id)
        .order_by(Contact.is_primary.desc(), Contact.name)
    ).all()
    primary = contacts[0] if contacts else None
    context = {
        "customer_name": facts.customer_name,
        "contact_name": primary.name.split()[0] if primary else "team",
        "goal_name": facts.goal_name,
        "result": facts.result,
        "target": number(facts.target, facts.unit, money=facts.is_money) if facts.target else "",
        "beyond_target": f"{facts.beyond_target:.0%}" if facts.beyond_target else "",
        "value_summary": value_summary(facts),
        "days_to_achieve": facts.days_to_achieve,
        "next_goals": suggest(
            session=session, facts=facts, goal_id=goal.id, metric_key=goal.metric_key
        ),
        "csm_name": facts.csm_name or "Your customer success team",
        "csm_title": "Customer Success Manager",
    }
    subject, body = render_template(session=session, key="congratulations_email", context=context)
    create_draft(
        session=session,
        kind=DraftKind.CUSTOMER_EMAIL,
        customer_id=achievement.customer_id,
        owner_id=session.scalar(
            select(Customer.owner_csm_id).where(Customer.id == achievement.customer_id)
        ),
        related_type="achievement",
        related_id=achievement.id,
        to=[primary.email] if primary else [],
        subject=subject,
        body=body,
    )
