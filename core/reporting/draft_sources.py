"""What a draft in the approval queue comes from: the win or the upsell plan it was written for.

Drafts sit below goals and upsells in the package order and only keep `related_type` and
`related_id`; this read joins them back to the win (a congratulations email) or the plan (a
checkpoint's review summary, a feedback request) so the queue can link to their pages.
"""

import enum
import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.goals.models import Achievement, Goal
from core.upsell.models import Checkpoint, Measurement, Upsell


class SourceKind(enum.StrEnum):
    WIN = "win"
    PLAN = "plan"


class DraftSource(BaseModel):
    """The record a draft was written for; `target_id` opens its page."""

    kind: SourceKind
    target_id: uuid.UUID
    title: str
    checkpoint_day: int | None = None


def _win(session: Session, achievement_id: uuid.UUID) -> DraftSource | None:
    name = session.scalar(
        select(Goal.name)
        .join(Achievement, Achievement.goal_id == Goal.id)
        .where(Achievement.id == achievement_id)
    )
    if name is None:
        return None
    return DraftSource(kind=SourceKind.WIN, target_id=achievement_id, title=name)


def _plan(session: Session, condition, with_day: bool) -> DraftSource | None:
    columns = [Measurement.id, Upsell.name] + ([Checkpoint.day] if with_day else [])
    stmt = select(*columns).join(Upsell, Upsell.id == Measurement.upsell_id)
    if with_day:
        stmt = stmt.join(Checkpoint, Checkpoint.measurement_id == Measurement.id)
    found = session.execute(stmt.where(condition)).one_or_none()
    if found is None:
        return None
    plan_id, name, *day = found
    return DraftSource(
        kind=SourceKind.PLAN, target_id=plan_id, title=name, checkpoint_day=(day or [None])[0]
    )


def draft_source(
    *, session: Session, related_type: str, related_id: uuid.UUID
) -> DraftSource | None:
    """Return the win or plan a draft with this related row comes from, or None if gone."""
    if related_type == "achievement":
        return _win(session, related_id)
    if related_type == "measurement":
        return _plan(session, Measurement.id == related_id, with_day=False)
    if related_type == "checkpoint":
        return _plan(session, Checkpoint.id == related_id, with_day=True)
    return None
