"""After detection: document, file, score, celebrate and draft the email for each new win.

Runs in the same transaction (and job cycle) as detection, so a win is never half-recorded: the
success record, repository entry, timeline line, health factor, Slack announcement, Google Doc and
email draft all commit together or not at all.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.customers.models import Contact, Customer, TimelineEvent
from core.goals import marketing, render
from core.goals.models import (
    Achievement,
    AchievementStatus,
    Goal,
    RepositoryEntry,
    SuccessRecord,
)
from core.goals.next_goals import suggest
from core.goals.record import RecordFacts, gather
from core.goals.results import number, value_summary
from core.outbox.models import Channel
from core.outbox.service import enqueue, on_sent

PENDING_DOCUMENTATION = (
    select(Achievement.id)
    .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
    .where(Achievement.status == AchievementStatus.VERIFIED, SuccessRecord.id.is_(None))
    .order_by(Achievement.achieved_at)
)

GOAL_ATTAINMENT = text(
    """
    INSERT INTO health_factors (id, customer_id, factor, score, weight, details, source, updated_at)
    SELECT gen_random_uuid(), g.customer_id, 'goal_attainment',
           round(100.0 * count(*) FILTER (WHERE g.status = 'achieved')
                 / nullif(count(*) FILTER (WHERE g.status <> 'cancelled'), 0), 2),
           1,
           jsonb_build_object('achieved', count(*) FILTER (WHERE g.status = 'achieved'),
                              'tracked', count(*) FILTER (WHERE g.status <> 'cancelled')),
           'goal_detection', now()
    FROM goals g WHERE g.customer_id = ANY(:customers)
    GROUP BY g.customer_id
    HAVING count(*) FILTER (WHERE g.status <> 'cancelled') > 0
    ON CONFLICT (customer_id, factor) DO UPDATE
      SET score = EXCLUDED.score, details = EXCLUDED.details, updated_at = now()
    """
)


def document_pending(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Document every verified achievement that has no success record yet."""
    now = now or datetime.now(UTC)
    ids = list(session.scalars(PENDING_DOCUMENTATION))
    customers = set()
    for achievement_id in ids:
        customers.add(document(session=session, achievement_id=achievement_id, now=now))
    if customers:
        session.execute(GOAL_ATTAINMENT, {"customers": list(customers)})
    return {"documented": len(ids)}


def document(*, session: Session, achievement_id: uuid.UUID, now: datetime) -> uuid.UUID:
    """Write the record, entry, score, timeline line and outbox rows of one achievement."""
    facts = gather(session=session, achievement_id=achievement_id)
    achievement = session.get(Achievement, achievement_id)
    record = SuccessRecord(
        achievement_id=achievement_id,
        title=render.title(facts),
        summary=render.summary(facts),
        sections=facts.as_dict(),
        markdown=render.markdown(facts),
        written_at=now,
    )
    session.add(record)
    goal = session.get(Goal, achievement.goal_id)
    _score(session, facts, achievement, now)
    session.add(
        RepositoryEntry(
            achievement_id=achievement_id,
            customer_id=achievement.customer_id,
            title=render.title(facts),
            snippet=render.summary(facts),
            industry=facts.industry,
            use_case=facts.use_case,
            products=facts.products,
            goal_type=goal.type,
            value_amount=facts.achieved,
            value_unit=facts.unit,
            achieved_on=facts.achieved_at.date(),
            consent_level=facts.consent_level,
        )
    )
    session.add(
        TimelineEvent(
            customer_id=achievement.customer_id,
            occurred_at=facts.achieved_at,
            kind="goal_achieved",
            title=f"Goal achieved: {facts.goal_name}",
            body=render.summary(facts),
            related_type="achievement",
            related_id=achievement_id,
        )
    )
    session.flush()
    _announce(session, facts, record)
    _draft_email(session, facts, achievement, goal)
    return achievement.customer_id


SCORE_SIGNALS = text(
    """
    SELECT
      (SELECT (array_agg(f.score ORDER BY f.responded_at DESC) FILTER (WHERE f.kind = 'nps'))[1]
         FROM customer_feedback f WHERE f.customer_id = :customer) AS nps,
      (SELECT (array_agg(f.score ORDER BY f.responded_at DESC) FILTER (WHERE f.kind = 'csat'))[1]
         FROM customer_feedback f WHERE f.customer_id = :customer) AS csat,
      EXISTS (SELECT 1 FROM customer_feedback f
              WHERE f.customer_id = :customer AND f.comment IS NOT NULL) AS any_comment,
      (SELECT count(*) FROM value_repository_entries r
        WHERE r.industry = :industry AND r.use_case IS NOT DISTINCT FROM :use_case) AS similar,
      (SELECT count(*) FROM marketing_flags m
        WHERE m.customer_id = :customer AND m.contacted_at >= :since) AS asks
    """
)


def _score(session: Session, facts: RecordFacts, achievement: Achievement, now: datetime):
    customer = session.get(Customer, achievement.customer_id)
    signals = session.execute(
        SCORE_SIGNALS,
        {
            "customer": customer.id,
            "industry": facts.industry,
            "use_case": facts.use_case,
            "since": now - timedelta(days=90),
        },
    ).one()
    money = float(facts.achieved) if facts.is_money and facts.achieved is not None else None
    inputs = marketing.ScoreInputs(
        improvement=facts.improvement,
        beyond_target=facts.beyond_target,
        money_value=money,
        goal_type=facts.goal_type,
        nps=signals.nps,
        csat=signals.csat,
        health=float(customer.health_score) if customer.health_score is not None else None,
        customer_since=customer.customer_since,
        as_of=now.date(),
        quote_ready=bool(facts.quotes),
        any_comment=signals.any_comment,
        similar_wins=signals.similar,
        consent=facts.consent_level,
        asks_last_90_days=signals.asks,
    )
    result = marketing.score(inputs)
    achievement.marketing_score = result.value
    achievement.marketing_reasons = result.reasons
    achievement.marketing_candidates = result.candidates
    return result


def _announce(session: Session, facts: RecordFacts, record: SuccessRecord) -> None:
    enqueue(
        session=session,
        channel=Channel.SLACK_MESSAGE,
        payload=render.slack_announcement(facts),
        idempotency_key=f"achievement:{facts.achievement_id}:slack",
        related_type="achievement",
        related_id=uuid.UUID(facts.achievement_id),
    )
    enqueue(
        session=session,
        channel=Channel.GOOGLE_DOC,
        payload={
            "recordId": str(record.id),
            "title": f"Success record — {render.title(facts)}",
            "blocks": render.doc_blocks(facts),
        },
        idempotency_key=f"success_record:{record.id}:doc",
        related_type="success_record",
        related_id=record.id,
    )


def _draft_email(session: Session, facts: RecordFacts, achievement: Achievement, goal: Goal):
    from core.drafts.models import DraftKind
    from core.drafts.service import create_draft
    from core.drafts.templates import render as render_template

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


@on_sent("success_record", Channel.GOOGLE_DOC)
def _doc_written(session: Session, record_id: uuid.UUID, url: str) -> None:
    record = session.get(SuccessRecord, record_id)
    if record is not None:
        record.doc_url = url


def notify_held(*, session: Session, achievement_ids: list[uuid.UUID]) -> int:
    """DM the CSM about each win held for confirmation (an implausible jump in the data)."""
    held = session.execute(
        text(
            "SELECT a.id, g.name, c.name AS customer, u.email, a.rule FROM goal_achievements a "
            "JOIN goals g ON g.id = a.goal_id JOIN customers c ON c.id = a.customer_id "
            "JOIN users u ON u.id = c.owner_csm_id "
            "WHERE a.id = ANY(:ids) AND a.status = 'held_for_confirmation'"
        ),
        {"ids": achievement_ids},
    ).all()
    for row in held:
        message = f"Please confirm a possible win for {row.customer}: {row.name}. {row.rule}."
        enqueue(
            session=session,
            channel=Channel.SLACK_DM,
            payload={"email": row.email, "text": message, "blocks": []},
            idempotency_key=f"achievement:{row.id}:held-dm",
            related_type="achievement",
            related_id=row.id,
        )
    return len(held)
