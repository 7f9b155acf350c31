"""A draft's origin: the win of a congratulations email, the plan of a summary or feedback ask."""

import uuid
from datetime import date

from sqlalchemy import select

from core.reporting.draft_sources import SourceKind, draft_source
from core.upsell.models import Checkpoint
from tests import factories as f


def test_a_congratulations_email_comes_from_its_win(session):
    customer = f.customer(session, name="Acme")
    win = f.achievement(session, f.goal(session, customer, name="Cut resolution time"))
    found = draft_source(session=session, related_type="achievement", related_id=win.id)
    assert (found.kind, found.target_id, found.title) == (
        SourceKind.WIN,
        win.id,
        "Cut resolution time",
    )


def test_summaries_and_feedback_asks_come_from_their_plan(session):
    customer = f.customer(session, name="Acme")
    plan = f.plan(session, customer, started_on=date(2026, 8, 1), name="Analytics expansion")
    day_60 = session.scalar(
        select(Checkpoint).where(Checkpoint.measurement_id == plan.id, Checkpoint.day == 60)
    )
    summary = draft_source(session=session, related_type="checkpoint", related_id=day_60.id)
    assert (summary.kind, summary.target_id, summary.title, summary.checkpoint_day) == (
        SourceKind.PLAN,
        plan.id,
        "Analytics expansion",
        60,
    )
    ask = draft_source(session=session, related_type="measurement", related_id=plan.id)
    assert (ask.kind, ask.target_id, ask.checkpoint_day) == (SourceKind.PLAN, plan.id, None)


def test_a_gone_or_unknown_origin_is_none(session):
    assert (
        draft_source(session=session, related_type="achievement", related_id=uuid.uuid4()) is None
    )
    assert draft_source(session=session, related_type="checkpoint", related_id=uuid.uuid4()) is None
    assert draft_source(session=session, related_type="something", related_id=uuid.uuid4()) is None
