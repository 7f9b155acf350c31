"""Documented wins as the PRD's GoalAchievement: the nested parts gathered for a page at once.

The flat answers (`core.documentation.queries`) already name customers as the caller may see
them; the parts added here follow the same view (`core.repository.consent`): quotes, factors and
evidence text lose the customer's names when the name is hidden, quotes vanish where consent
keeps them back, and the Google Doc (the record as written) is linked only for whoever may read
all of it. A page costs the same few queries whatever its size.
"""

import re
import uuid
from dataclasses import asdict
from datetime import UTC
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from core.base import Role
from core.documentation.schemas import (
    AchievementFacts,
    AchievementOut,
    CustomerQuote,
    DocumentationState,
    FlaggedAchievement,
    GoalAchievement,
    GoalAchievementParts,
    MarketingPotential,
    PrdGoal,
)
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.goals.models import Achievement, Goal
from core.marketing.models import CandidateType, MarketingFlag
from core.marketing.schemas import FlagOut
from core.outbox.models import Delivery, DeliveryStatus
from core.records.facts import Quote
from core.records.models import SuccessRecord
from core.repository.consent import EVERYTHING, CustomerView, audience, customer_views

# A Doc's address: https://docs.google.com/document/d/<file id>/edit
_DOC_ID = re.compile(r"/d/([A-Za-z0-9_-]+)")


def _facts_rows(session: Session, achievement_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Read what the PRD parts need of each achievement, in one query."""
    ach_id, record_id = cast(Achievement.id, String), cast(SuccessRecord.id, String)
    # The keys `core.documentation.announce` gives the Slack celebration and the record's Doc:
    # unique and indexed, where the deliveries' related ids are not.
    slack_key = literal("achievement:") + ach_id + literal(":slack")
    doc_key = literal("success_record:") + record_id + literal(":doc")
    celebrated = exists().where(
        Delivery.idempotency_key == slack_key, Delivery.status == DeliveryStatus.SENT
    )
    doc_ref = (
        select(Delivery.external_ref)
        .where(Delivery.idempotency_key == doc_key, Delivery.status == DeliveryStatus.SENT)
        .scalar_subquery()
    )
    emailed = exists().where(
        Draft.kind == DraftKind.CUSTOMER_EMAIL,
        Draft.related_type == "achievement",
        Draft.related_id == Achievement.id,
        Draft.status == DraftStatus.SENT,
    )
    flags = (
        select(func.array_agg(MarketingFlag.candidate_type.distinct()))
        .where(MarketingFlag.achievement_id == Achievement.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Achievement.id,
            Achievement.created_at,
            Achievement.evidence,
            Goal.start_date,
            Goal.unit,
            SuccessRecord.sections,
            func.coalesce(SuccessRecord.doc_url, doc_ref).label("doc_url"),
            celebrated.label("celebrated"),
            emailed.label("emailed"),
            flags.label("flags"),
        )
        .join(Goal, Goal.id == Achievement.goal_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
        .where(Achievement.id.in_(achievement_ids))
    )
    return {r.id: r for r in rows}


def _scrubbed(value: Any, view: CustomerView) -> Any:
    """Return free JSON with the customer's names replaced where the view hides them."""
    if view.shows.name:
        return value
    if isinstance(value, str):
        return view.text(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v, view) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, view) for v in value]
    return value


def _quotes(stored: list, view: CustomerView) -> list[CustomerQuote]:
    quotes = []
    for item in stored:
        try:
            quote = view.quote(Quote(**item))
        except TypeError:
            continue  # written by an older version in another shape
        if quote is not None:
            by = view.quoted_by(quote)
            quotes.append(CustomerQuote.model_validate({**asdict(quote), "by": by}))
    return quotes


def _parts(item: AchievementOut, row, view: CustomerView) -> GoalAchievementParts:
    """The PRD's parts of one achievement, as `view` allows."""
    sections = row.sections or {}
    evidence = sections.get("evidence") or row.evidence or {}
    doc_url = row.doc_url if view.shows == EVERYTHING else None
    doc_id = _DOC_ID.search(doc_url) if doc_url else None
    candidates = set(item.marketing_candidates)
    flags = sorted({CandidateType(f) for f in row.flags or ()}, key=list(CandidateType).index)
    return GoalAchievementParts(
        goal=PrdGoal(
            id=item.goal_id,
            name=item.goal_name,
            type=item.goal_type,
            original_target=item.target_value,
            achieved_result=item.achieved_value,
            unit=sections.get("unit") or row.unit,
            result_text=view.text(sections.get("result")) or None,
        ),
        achievement=AchievementFacts(
            achieved_at=item.achieved_at,
            time_to_achieve=max(0, (item.achieved_at.astimezone(UTC).date() - row.start_date).days),
            evidence=_scrubbed(evidence, view),
            contributing_factors=[view.text(f) for f in sections.get("factors") or ()],
            customer_quotes=_quotes(sections.get("quotes") or [], view),
        ),
        documentation=DocumentationState(
            summary_doc_id=(doc_id.group(1) if doc_id else doc_url),
            summary_doc_url=doc_url,
            celebration_sent=row.celebrated,
            customer_notified=row.emailed,
            marketing_flagged=bool(flags),
            marketing_flags=flags,
        ),
        marketing_potential=MarketingPotential(
            case_study_candidate=CandidateType.CASE_STUDY in candidates,
            testimonial_candidate=CandidateType.TESTIMONIAL in candidates,
            reference_candidate=CandidateType.REFERENCE in candidates,
            social_proof_candidate=CandidateType.SOCIAL_PROOF in candidates,
            score=item.marketing_score,
        ),
        created_at=row.created_at,
    )


def _gathered(session: Session, items: list[AchievementOut], viewer: Role | None):
    rows = _facts_rows(session, [i.id for i in items])
    views = customer_views(
        session=session, seen_by=audience(viewer), customer_ids={i.customer_id for i in items}
    )
    return rows, views


def goal_achievements(
    *, session: Session, items: list[AchievementOut], viewer: Role | None = None
) -> list[GoalAchievement]:
    """Return achievements as the PRD's GoalAchievement (two queries for the whole list)."""
    if not items:
        return []
    rows, views = _gathered(session, items, viewer)
    return [
        GoalAchievement(**dict(item), **dict(_parts(item, rows[item.id], views[item.customer_id])))
        for item in items
    ]


def flagged_achievement(
    *, session: Session, flag: FlagOut, item: AchievementOut, viewer: Role | None = None
) -> FlaggedAchievement:
    """Return a new marketing flag with the win it flags as the PRD's GoalAchievement."""
    rows, views = _gathered(session, [item], viewer)
    flat = {k: v for k, v in dict(flag).items() if k != "created_at"}  # the PRD's createdAt wins
    parts = _parts(item, rows[item.id], views[item.customer_id])
    return FlaggedAchievement(**flat, **dict(parts), flagged_at=flag.created_at)
