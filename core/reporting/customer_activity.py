"""What happened at one customer, for its customer page: wins, success plans, upsells and their
measurement plans, the timeline with the win or plan each line is about, and the health scores
stored along the way. One statement per part, whatever the number of rows.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from core.customers.models import CustomerEvent, CustomerEventKind, TimelineEvent
from core.drafts.models import Draft
from core.goals.models import (
    Achievement,
    AchievementStatus,
    Goal,
    Milestone,
    MilestoneStatus,
    SuccessPlan,
)
from core.records.models import SuccessRecord
from core.reporting.schemas import HealthReading, SuccessPlanRow, TimelineRow, UpsellRow, WinRow
from core.repository.consent import CustomerView
from core.repository.models import RepositoryEntry
from core.upsell.models import Checkpoint, Measurement, Outcome, Review, Upsell

RECENT_EVENTS = 20
SHOWN_WINS = (AchievementStatus.VERIFIED, AchievementStatus.HELD)


def wins(*, session: Session, customer_id: uuid.UUID, view: CustomerView) -> list[WinRow]:
    """Return the customer's verified and held wins, newest first, texts as `view` allows."""
    rows = session.execute(
        select(
            Achievement.id.label("achievement_id"),
            Goal.name.label("goal_name"),
            Goal.type.label("goal_type"),
            Achievement.status,
            Achievement.achieved_at,
            SuccessRecord.title.label("record_title"),
        )
        .join(Goal, Goal.id == Achievement.goal_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
        .where(Achievement.customer_id == customer_id, Achievement.status.in_(SHOWN_WINS))
        .order_by(Achievement.achieved_at.desc(), Achievement.id)
    )
    return [
        WinRow.model_validate(
            r._asdict()
            | {
                "goal_name": view.text(r.goal_name),
                "record_title": view.text(r.record_title) or None,
            }
        )
        for r in rows
    ]


def success_plans(
    *, session: Session, customer_id: uuid.UUID, view: CustomerView
) -> list[SuccessPlanRow]:
    """Return the customer's success plans, open ones first, with their milestones counted."""
    done = func.count(Milestone.id).filter(Milestone.status == MilestoneStatus.DONE)
    rows = session.execute(
        select(
            SuccessPlan.id,
            SuccessPlan.name,
            SuccessPlan.status,
            SuccessPlan.start_date,
            SuccessPlan.target_date,
            func.count(Milestone.id).label("milestones_total"),
            done.label("milestones_done"),
        )
        .outerjoin(Milestone, Milestone.plan_id == SuccessPlan.id)
        .where(SuccessPlan.customer_id == customer_id)
        .group_by(SuccessPlan.id)
        .order_by(SuccessPlan.status, SuccessPlan.start_date.desc(), SuccessPlan.name)
    )
    return [SuccessPlanRow.model_validate(r._asdict() | {"name": view.text(r.name)}) for r in rows]


def upsells(*, session: Session, customer_id: uuid.UUID, view: CustomerView) -> list[UpsellRow]:
    """Return the customer's upsells, newest first, each with its measurement plan's state."""
    rows = session.execute(
        select(
            Upsell.id,
            Upsell.name,
            Upsell.type,
            Upsell.arr_increase,
            Upsell.close_date,
            Measurement.id.label("plan_id"),
            Measurement.status.label("plan_status"),
            Measurement.progress_status,
            Measurement.started_on,
            Measurement.horizon_days,
            Measurement.predicted_success,
            func.coalesce(Measurement.prediction_basis["history"].as_integer() == 0, False).label(
                "prediction_unlearned"
            ),
            Outcome.status.label("outcome"),
            Outcome.proposed_status.label("proposed_outcome"),
            Measurement.health_before,
            Measurement.health_after,
            Measurement.evaluated_at,
        )
        .outerjoin(Measurement, Measurement.upsell_id == Upsell.id)
        .outerjoin(Outcome, Outcome.measurement_id == Measurement.id)
        .where(Upsell.customer_id == customer_id)
        .order_by(Upsell.close_date.desc(), Upsell.id)
    )
    return [UpsellRow.model_validate(r._asdict() | {"name": view.text(r.name)}) for r in rows]


def last_renewal(*, session: Session, customer_id: uuid.UUID) -> date | None:
    """Return the day of the latest renewal reported for the customer, if any."""
    return session.scalar(
        select(func.max(CustomerEvent.occurred_on)).where(
            CustomerEvent.customer_id == customer_id,
            CustomerEvent.kind == CustomerEventKind.RENEWAL,
        )
    )


def timeline(
    *, session: Session, customer_id: uuid.UUID, view: CustomerView, limit: int = RECENT_EVENTS
) -> list[TimelineRow]:
    """Return the latest timeline lines, each with the win or measurement plan it is about."""
    recent = (
        select(TimelineEvent)
        .where(TimelineEvent.customer_id == customer_id)
        .order_by(TimelineEvent.occurred_at.desc())
        .limit(limit)
        .subquery()
    )
    e = aliased(TimelineEvent, recent)
    record, entry, draft = aliased(SuccessRecord), aliased(RepositoryEntry), aliased(Draft)
    checkpoint, review = aliased(Checkpoint), aliased(Review)
    upsell_plan, draft_checkpoint = aliased(Measurement), aliased(Checkpoint)
    win, plan = aliased(Achievement), aliased(Measurement)
    by_draft = e.related_type == "draft"
    win_ref = case(
        (e.related_type == "achievement", e.related_id),
        (e.related_type == "success_record", record.achievement_id),
        (e.related_type == "value_repository_entry", entry.achievement_id),
        (and_(by_draft, draft.related_type == "achievement"), draft.related_id),
    )
    plan_ref = case(
        (e.related_type == "measurement", e.related_id),
        (e.related_type == "checkpoint", checkpoint.measurement_id),
        (e.related_type == "upsell_review", review.measurement_id),
        (e.related_type == "upsell", upsell_plan.id),
        (and_(by_draft, draft.related_type == "measurement"), draft.related_id),
        (and_(by_draft, draft.related_type == "checkpoint"), draft_checkpoint.measurement_id),
    )
    rows = session.execute(
        select(
            e.occurred_at,
            e.kind,
            e.title,
            e.body,
            win.id.label("achievement_id"),
            plan.id.label("plan_id"),
        )
        .select_from(e)
        .outerjoin(record, and_(e.related_type == "success_record", record.id == e.related_id))
        .outerjoin(
            entry, and_(e.related_type == "value_repository_entry", entry.id == e.related_id)
        )
        .outerjoin(draft, and_(by_draft, draft.id == e.related_id))
        .outerjoin(checkpoint, and_(e.related_type == "checkpoint", checkpoint.id == e.related_id))
        .outerjoin(review, and_(e.related_type == "upsell_review", review.id == e.related_id))
        .outerjoin(
            upsell_plan, and_(e.related_type == "upsell", upsell_plan.upsell_id == e.related_id)
        )
        .outerjoin(
            draft_checkpoint,
            and_(draft.related_type == "checkpoint", draft_checkpoint.id == draft.related_id),
        )
        # Only a win or plan of this customer that still exists gets a link.
        .outerjoin(
            win,
            and_(
                win.id == win_ref,
                win.customer_id == customer_id,
                win.status.in_(SHOWN_WINS),
            ),
        )
        .outerjoin(plan, and_(plan.id == plan_ref, plan.customer_id == customer_id))
        .order_by(e.occurred_at.desc(), e.id)
    )
    return [
        TimelineRow(
            occurred_at=r.occurred_at,
            kind=r.kind,
            title=view.text(r.title),
            body=view.text(r.body) or None,
            achievement_id=r.achievement_id,
            plan_id=r.plan_id,
        )
        for r in rows
    ]


def health_readings(
    *, upsells: list[UpsellRow], score: Decimal | None, at: datetime | None
) -> list[HealthReading]:
    """Return the health scores stored so far, oldest first: each upsell plan's health at its
    start and after its outcome, then the current score (the app keeps no other history)."""
    readings = []
    for u in upsells:
        if u.health_before is not None and u.started_on is not None:
            readings.append(
                HealthReading(
                    at=u.started_on, score=u.health_before, moment="plan_start", upsell_name=u.name
                )
            )
        if u.health_after is not None and u.evaluated_at is not None:
            readings.append(
                HealthReading(
                    at=u.evaluated_at.date(),
                    score=u.health_after,
                    moment="plan_outcome",
                    upsell_name=u.name,
                )
            )
    readings.sort(key=lambda r: r.at)
    if score is not None and at is not None:
        readings.append(HealthReading(at=at.date(), score=score, moment="current"))
    return readings
