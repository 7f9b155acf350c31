"""What needs a CSM today: drafts to approve, wins to confirm, overdue reviews, lagging plans."""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, Date, case, cast, func, select
from sqlalchemy.orm import Session

from core.customers.models import Customer
from core.drafts.models import Draft, DraftStatus
from core.reporting.landing_schemas import Today, TodayGroup, TodayItem
from core.reporting.wins import pending_confirmations
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementStatus,
    ProgressStatus,
    Upsell,
)

SHOWN = 5  # items listed per kind; the total says how many there are
LAGGING = (ProgressStatus.AT_RISK, ProgressStatus.BEHIND)
PROGRESS_WORDS = {ProgressStatus.AT_RISK: "at risk", ProgressStatus.BEHIND: "behind"}


def _group(session: Session, query, item) -> TodayGroup:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.limit(SHOWN)).all() if total else []
    return TodayGroup(total=total or 0, items=[item(r) for r in rows])


def _drafts(session: Session, user_id: uuid.UUID) -> TodayGroup:
    query = (
        select(Customer.name, Draft.subject, cast(Draft.created_at, Date).label("since"))
        .join(Customer, Customer.id == Draft.customer_id)
        .where(Draft.status == DraftStatus.PENDING, Draft.owner_id == user_id)
        .order_by(Draft.created_at, Draft.id)
    )
    return _group(
        session,
        query,
        lambda r: TodayItem(
            kind="draft",
            customer_name=r.name,
            subject=r.subject,
            since=r.since,
            detail="waiting for your approval",
        ),
    )


def _confirmations(session: Session, user_id: uuid.UUID, today: date) -> TodayGroup:
    waiting = [
        p
        for p in pending_confirmations(session=session, csm_id=user_id)
        if p.kind == "held" or (p.due_date is not None and p.due_date <= today)
    ]
    items = [
        TodayItem(
            kind="held_win" if p.kind == "held" else "custom_goal",
            customer_name=p.customer_name,
            subject=p.goal_name,
            since=p.since if p.kind == "held" else p.due_date,
            detail="held for you to confirm: " + p.reason
            if p.kind == "held"
            else "custom goal past its due date: confirm it if it was reached",
        )
        for p in waiting
    ]
    return TodayGroup(total=len(items), items=items[:SHOWN])


def _book(user_id: uuid.UUID) -> ColumnElement[bool]:
    return Measurement.customer_id.in_(select(Customer.id).where(Customer.owner_csm_id == user_id))


def _checkpoints(session: Session, user_id: uuid.UUID) -> TodayGroup:
    query = (
        select(
            Customer.name,
            Upsell.name.label("upsell"),
            Measurement.id.label("plan_id"),
            Checkpoint.day,
            Checkpoint.due_on,
        )
        .select_from(Checkpoint)
        .join(Measurement, Measurement.id == Checkpoint.measurement_id)
        .join(Upsell, Upsell.id == Measurement.upsell_id)
        .join(Customer, Customer.id == Measurement.customer_id)
        .where(
            Checkpoint.status == CheckpointStatus.OVERDUE,
            Measurement.status == MeasurementStatus.ACTIVE,
            _book(user_id),
        )
        .order_by(Checkpoint.due_on, Customer.name, Checkpoint.id)
    )
    return _group(
        session,
        query,
        lambda r: TodayItem(
            kind="overdue_checkpoint",
            customer_name=r.name,
            subject=r.upsell,
            since=r.due_on,
            detail=f"Day {r.day} review overdue since its due day",
            plan_id=r.plan_id,
        ),
    )


def _lagging(session: Session, user_id: uuid.UUID) -> TodayGroup:
    query = (
        select(
            Customer.name,
            Upsell.name.label("upsell"),
            Measurement.id.label("plan_id"),
            Measurement.started_on,
            Measurement.progress_status,
        )
        .join(Upsell, Upsell.id == Measurement.upsell_id)
        .join(Customer, Customer.id == Measurement.customer_id)
        .where(
            Measurement.status == MeasurementStatus.ACTIVE,
            Measurement.progress_status.in_(LAGGING),
            _book(user_id),
        )
        # Behind before at risk, then the oldest plans: they have the least time left.
        .order_by(
            case((Measurement.progress_status == ProgressStatus.BEHIND, 0), else_=1),
            Measurement.started_on,
            Customer.name,
            Upsell.name,
        )
    )
    return _group(
        session,
        query,
        lambda r: TodayItem(
            kind="lagging_plan",
            customer_name=r.name,
            subject=r.upsell,
            since=r.started_on,
            detail=f"adoption {PROGRESS_WORDS[r.progress_status]} the expected curve",
            plan_id=r.plan_id,
        ),
    )


def today_for(*, session: Session, user_id: uuid.UUID, today: date) -> Today:
    """Return what waits for the CSM `user_id` on `today`, in their own book."""
    return Today(
        drafts=_drafts(session, user_id),
        confirmations=_confirmations(session, user_id, today),
        checkpoints=_checkpoints(session, user_id),
        lagging=_lagging(session, user_id),
    )
