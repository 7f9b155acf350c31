"""One win at a time: everything its page shows, and a person confirming a win that waits."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Date, cast, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from core.accounts.models import User
from core.base import Direction, Role
from core.customers.models import Customer, Observation
from core.drafts.models import Draft, DraftKind
from core.errors import NotFound
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    Confidence,
    Goal,
    GoalType,
)
from core.goals.queries import achievements_with_goal
from core.goals.results import is_ratio_goal
from core.marketing.models import MarketingFlag
from core.outbox.models import Delivery
from core.records import render
from core.records.facts import gather, stored_facts
from core.records.models import SuccessRecord
from core.repository.consent import EVERYTHING, CustomerView, audience, customer_views

LEAD_DAYS = 60  # the before/after chart starts this long before the goal did


class SeriesPoint(BaseModel):
    day: date
    value: Decimal


class EvidencePoint(BaseModel):
    observed_at: datetime
    value: Decimal
    qualifying: bool


class DeliveryInfo(BaseModel):
    channel: str
    status: str
    external_ref: str | None
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class DraftInfo(BaseModel):
    id: uuid.UUID
    status: str
    subject: str
    to_addresses: list[str]
    decided_at: datetime | None


class FlagInfo(BaseModel):
    candidate_type: str
    status: str
    notes: str | None
    status_changed_at: datetime


class RecordView(BaseModel):
    """The success record as written (or, before it is written, as it would read)."""

    documented: bool
    title: str
    summary: str
    goal_description: str | None
    result_rows: list[tuple[str, str]]
    sections: list[tuple[str, list[str]]]
    facts: dict
    markdown: str
    html: str
    doc_url: str | None
    written_at: datetime | None


class AchievementDetail(BaseModel):
    """Everything the achievement page shows about one win."""

    id: uuid.UUID
    goal_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    goal_name: str
    goal_type: GoalType
    status: AchievementStatus
    method: AchievementMethod
    confidence: Confidence
    rule: str
    verified_by: str | None
    note: str | None
    metric_name: str | None
    unit: str | None
    is_money: bool
    direction: Direction
    measure: str
    baseline: Decimal | None
    target: Decimal | None
    achieved: Decimal | None
    start_date: date
    due_date: date | None
    achieved_at: datetime
    detected_at: datetime
    series: list[SeriesPoint]
    observations: list[EvidencePoint]
    evidence: dict
    record: RecordView
    deliveries: list[DeliveryInfo]
    draft: DraftInfo | None
    marketing_score: int | None
    marketing_reasons: list[str]
    marketing_candidates: list[str]
    flags: list[FlagInfo]


def _record(
    session: Session, achievement_id: uuid.UUID, stored: SuccessRecord | None, seen: CustomerView
):
    facts = None
    if stored is not None:
        try:
            facts = stored_facts(stored.sections)
        except (KeyError, TypeError, ValueError):
            facts = None  # written by an older version: read the facts afresh
    # Names as of today (a renamed customer reads by its new name), and as `seen` allows.
    facts = seen.facts(facts or gather(session=session, achievement_id=achievement_id))
    view = RecordView(
        documented=stored is not None,
        title=render.title(facts),
        summary=render.summary(facts),
        goal_description=facts.goal_description,
        result_rows=[tuple(r) for r in render.facts_table(facts)],
        sections=render.sections(facts),
        facts=facts.as_dict(),
        markdown=render.markdown(facts),
        html=render.html(facts),
        # The Google Doc is the record as written: only for whoever may read all of it.
        doc_url=stored.doc_url if stored and seen.shows == EVERYTHING else None,
        written_at=stored.written_at if stored else None,
    )
    return facts, view


def _draft(draft: Draft, seen: CustomerView) -> DraftInfo:
    """The congratulations email's state; its subject and addresses only as `seen` allows."""
    info = DraftInfo.model_validate(draft, from_attributes=True)
    hidden = not seen.shows.name
    return info.model_copy(
        update={
            "subject": seen.text(info.subject),
            "to_addresses": [] if hidden else info.to_addresses,
        }
    )


def _series(session: Session, goal: Goal) -> list[SeriesPoint]:
    if goal.metric_key is None:
        return []
    # ROI goals with a cost are measured as value ÷ cost; chart the same measure.
    scale = goal.cost if is_ratio_goal(goal.type, goal.cost, goal.unit) else Decimal(1)
    day = cast(func.timezone("UTC", Observation.observed_at), Date).label("day")
    since = goal.start_date - timedelta(days=LEAD_DAYS)
    rows = session.execute(
        select(day, (func.avg(Observation.value) / scale).label("value"))
        .where(
            Observation.customer_id == goal.customer_id,
            Observation.metric_key == goal.metric_key,
            Observation.observed_at >= datetime.combine(since, time(), UTC),
        )
        .group_by(day)
        .order_by(day)
    )
    return [SeriesPoint(day=r.day, value=r.value) for r in rows]


def _observations(evidence: dict) -> list[EvidencePoint]:
    qualifying = int(evidence.get("qualifying") or 0)
    return [
        EvidencePoint(
            observed_at=o["observedAt"],
            value=Decimal(str(o["value"])),
            # Newer evidence flags each point (a held spike is not the latest points).
            qualifying=o.get("qualifying", i < qualifying),
        )
        for i, o in enumerate(evidence.get("observations") or [])
        if isinstance(o, dict) and "observedAt" in o and "value" in o
    ]


def achievement_detail(
    *, session: Session, achievement_id: uuid.UUID, viewer: Role | None = None
) -> AchievementDetail:
    """Return one win with its record, evidence, metric series, deliveries and marketing score.

    The customer, the goal and the record read as `viewer`'s role may see them
    (`core.repository.consent`; None: an internal caller).
    """
    verifier = aliased(User)
    row = session.execute(
        achievements_with_goal(Achievement, Goal, Customer.name, verifier.name, SuccessRecord)
        .outerjoin(verifier, verifier.id == Achievement.verified_by_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
        .where(Achievement.id == achievement_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No achievement {achievement_id}.")
    ach, goal, _, verified_by, stored = row
    views = customer_views(
        session=session, seen_by=audience(viewer), customer_ids=[goal.customer_id]
    )
    seen = views[goal.customer_id]
    facts, record = _record(session, ach.id, stored, seen)
    draft = session.scalar(
        select(Draft).where(
            Draft.kind == DraftKind.CUSTOMER_EMAIL,
            Draft.related_type == "achievement",
            Draft.related_id == ach.id,
        )
    )
    related = [("achievement", ach.id)]
    related += [("success_record", stored.id)] if stored else []
    related += [("draft", draft.id)] if draft else []
    deliveries = session.scalars(
        select(Delivery)
        .where(tuple_(Delivery.related_type, Delivery.related_id).in_(related))
        .order_by(Delivery.created_at, Delivery.channel)
    )
    flags = session.scalars(
        select(MarketingFlag)
        .where(MarketingFlag.achievement_id == ach.id)
        .order_by(MarketingFlag.created_at)
    )
    evidence = ach.evidence or {}
    return AchievementDetail(
        id=ach.id,
        goal_id=goal.id,
        customer_id=ach.customer_id,
        customer_name=seen.label,
        goal_name=seen.text(goal.name),
        goal_type=goal.type,
        status=ach.status,
        method=ach.method,
        confidence=ach.confidence,
        rule=ach.rule,
        verified_by=verified_by,
        note=seen.text(ach.verification_note) or None,
        metric_name=facts.metric_name,
        unit=facts.unit,
        is_money=facts.is_money,
        direction=goal.direction,
        measure=evidence.get("measure") or "value",
        baseline=ach.baseline_value,
        target=ach.target_value,
        achieved=ach.achieved_value,
        start_date=goal.start_date,
        due_date=goal.due_date,
        achieved_at=ach.achieved_at,
        detected_at=ach.detected_at,
        series=_series(session, goal),
        observations=_observations(evidence),
        evidence=evidence,
        record=record,
        deliveries=[DeliveryInfo.model_validate(d, from_attributes=True) for d in deliveries],
        draft=_draft(draft, seen) if draft else None,
        marketing_score=ach.marketing_score,
        marketing_reasons=ach.marketing_reasons or [],
        marketing_candidates=ach.marketing_candidates or [],
        flags=[FlagInfo.model_validate(f, from_attributes=True) for f in flags],
    )
