"""Document many wins at once: read what they need in a few queries, write with a few statements.

A pass reads once what every win shares (what peers did next, the congratulations template) and,
a chunk of wins at a time, their facts, contacts, next goals and score signals. Each win is then
prepared in memory (record, repository entry, timeline line, Slack and Doc deliveries, email
draft) and a chunk is written with one statement per table. The marketing score is worked out
while writing, in the pass's order, so a win counts the similar wins documented before it, as
documenting them one by one did.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from core.audit.bulk import insert_rows
from core.customers.models import TimelineEvent
from core.documentation.announce import announcements
from core.documentation.email import TEMPLATE, congratulations, primary_contacts
from core.drafts.models import MessageTemplate
from core.drafts.service import create_drafts
from core.drafts.templates import DefaultTemplate, load
from core.errors import NotFound
from core.goals.models import Achievement
from core.marketing.service import score_signals, score_win, similar_wins
from core.outbox.bulk import enqueue_many
from core.records import render
from core.records.facts import RecordFacts, gather_many
from core.records.models import SuccessRecord
from core.records.next_goals import Peers, next_goals, peers, suggest
from core.repository.consent import templated
from core.repository.models import RepositoryEntry
from core.upsert import forget_loaded

# What documenting needs of a win beyond its facts.
WIN_FRAME = text(
    """
    SELECT a.id, a.customer_id, a.goal_id, g.metric_key, g.type, c.owner_csm_id
      FROM goal_achievements a
      JOIN goals g ON g.id = a.goal_id
      JOIN customers c ON c.id = a.customer_id
     WHERE a.id = ANY(CAST(:ids AS uuid[]))
    """
)
# The marketing scores of a chunk of wins; reasons and candidates travel as JSON arrays.
SCORED = text(
    """
    UPDATE goal_achievements a
       SET marketing_score = x.score, marketing_reasons = x.reasons,
           marketing_candidates = ARRAY(SELECT jsonb_array_elements_text(x.candidates)),
           updated_at = now()
      FROM ROWS FROM (unnest(CAST(:ids AS uuid[])), unnest(CAST(:scores AS int[])),
                      jsonb_array_elements(CAST(:reasons AS jsonb)),
                      jsonb_array_elements(CAST(:candidates AS jsonb)))
           AS x(id, score, reasons, candidates)
     WHERE a.id = x.id
    """
)


class SettledFacts(RecordFacts):
    """A win's facts whose derived values are worked out once, not once per rendering.

    The record, its Markdown, the Doc, the Slack message, the email and the score each read the
    result sentence, the improvement and the days taken (a dozen times per win in all). The facts
    of a win being documented no longer change, so each is kept once read.
    """

    days_to_achieve = cached_property(RecordFacts.days_to_achieve.fget)
    beyond_target = cached_property(RecordFacts.beyond_target.fget)
    improvement = cached_property(RecordFacts.improvement.fget)
    result = cached_property(RecordFacts.result.fget)

    @classmethod
    def of(cls, facts: RecordFacts) -> "SettledFacts":
        """Return settled facts with the same values as `facts`."""
        return cls(**{f.name: getattr(facts, f.name) for f in fields(RecordFacts)})


@dataclass(frozen=True)
class Shared:
    """What every win of a pass needs the same: peers' next goals and the email template."""

    peers: Peers
    template: MessageTemplate | DefaultTemplate


@dataclass(frozen=True)
class Reads:
    """What a chunk of wins needs, read for all of them at once."""

    shared: Shared
    facts: dict[uuid.UUID, RecordFacts]
    frames: dict[uuid.UUID, Row]
    next_goals: dict[str, list[tuple]]
    contacts: dict[uuid.UUID, Row]
    signals: dict[uuid.UUID, Row]


@dataclass
class Win:
    """One win ready to write: every row its documentation adds.

    A win whose preparation failed keeps the rows prepared before the failure and the `error`:
    writing it writes those rows, then raises the error, in the order documenting the win alone
    takes, so the reason it fails with is the same (a title too long for its column before an
    email subject too long, say).
    """

    achievement_id: uuid.UUID
    customer_id: uuid.UUID
    facts: RecordFacts
    signals: Row
    record: dict | None = None
    entry: dict | None = None
    timeline: dict | None = None
    deliveries: list[dict] = field(default_factory=list)
    draft: dict | None = None
    error: Exception | None = None


def read_shared(*, session: Session, achievement_ids: Sequence[uuid.UUID]) -> Shared:
    """Read what all these wins share, once for the pass."""
    return Shared(
        peers=peers(session=session, achievement_ids=achievement_ids),
        template=load(session=session, key=TEMPLATE),
    )


def read(
    *, session: Session, shared: Shared, achievement_ids: Sequence[uuid.UUID], now: datetime
) -> Reads:
    """Read what a chunk of wins needs: facts, frames, next goals, contacts, score signals."""
    frames = {row.id: row for row in session.execute(WIN_FRAME, {"ids": list(achievement_ids)})}
    customers = {row.customer_id for row in frames.values()}
    facts = gather_many(session=session, achievement_ids=achievement_ids)
    return Reads(
        shared=shared,
        facts={key: SettledFacts.of(found) for key, found in facts.items()},
        frames=frames,
        next_goals=next_goals(session=session, customers=[str(c) for c in customers]),
        contacts=primary_contacts(session=session, customer_ids=customers),
        signals=score_signals(session=session, customer_ids=customers, now=now),
    )


def prepare(reads: Reads, achievement_id: uuid.UUID, now: datetime) -> Win:
    """Prepare every row documenting one win adds; a failure is kept on the win (`Win.error`)."""
    facts, frame = reads.facts.get(achievement_id), reads.frames.get(achievement_id)
    if facts is None or frame is None:
        raise NotFound(f"No achievement {achievement_id}.")
    win = Win(achievement_id, frame.customer_id, facts, reads.signals[frame.customer_id])
    try:
        _prepare(win, reads, frame, now)
    except Exception as exc:  # written up to there, then raised: see `Win`
        win.error = exc
    return win


def _prepare(win: Win, reads: Reads, frame: Row, now: datetime) -> None:
    facts, achievement_id = win.facts, win.achievement_id
    record_id, title, summary = uuid.uuid4(), render.title(facts), render.summary(facts)
    win.record = {
        "id": record_id,
        "achievement_id": achievement_id,
        "title": title,
        "summary": summary,
        "sections": facts.as_dict(),
        "markdown": render.markdown(facts),
        "written_at": now,
    }
    win.entry = {
        "id": uuid.uuid4(),
        "achievement_id": achievement_id,
        "customer_id": win.customer_id,
        # Name-free: the name is filled in when read, so renames and consent apply at once.
        "title": templated(title, facts.customer_name),
        "snippet": templated(summary, facts.customer_name),
        "industry": facts.industry,
        "use_case": facts.use_case,
        "products": facts.products,
        "goal_type": frame.type,
        "value_amount": facts.achieved,
        "value_unit": facts.unit,
        "achieved_on": facts.achieved_at.date(),
        "consent_level": facts.consent_level,
    }
    win.timeline = {
        "id": uuid.uuid4(),
        "customer_id": win.customer_id,
        "occurred_at": facts.achieved_at,
        "kind": "goal_achieved",
        "title": f"Goal achieved: {facts.goal_name}",
        "body": summary,
        "related_type": "achievement",
        "related_id": achievement_id,
    }
    win.deliveries = announcements(facts, record_id)
    ideas = suggest(
        facts=facts,
        goal_id=frame.goal_id,
        metric_key=frame.metric_key,
        own=reads.next_goals.get(facts.customer_id, ()),
        peers=reads.shared.peers,
    )
    win.draft = congratulations(
        facts=facts,
        contact=reads.contacts.get(win.customer_id),
        next_goals=ideas,
        owner_id=frame.owner_csm_id,
        template=reads.shared.template,
    )


def write(*, session: Session, wins: Sequence[Win], now: datetime) -> None:
    """Write prepared wins, in order, with one statement per table (per chunk of rows)."""
    if not wins:
        return
    for w in wins:
        if w.error is not None and w.record is None:  # failed before anything was written
            raise w.error
    insert_rows(session, SuccessRecord.__table__, [w.record for w in wins if w.record])
    similar = similar_wins(session=session, facts=[w.facts for w in wins])
    scores = []
    for w in wins:
        key = (w.facts.industry, w.facts.use_case)
        scores.append(score_win(facts=w.facts, signals=w.signals, similar=similar[key], now=now))
        similar[key] += 1  # the next similar win of the pass counts this one
    session.execute(
        SCORED,
        {
            "ids": [w.achievement_id for w in wins],
            "scores": [s.value for s in scores],
            "reasons": json.dumps([s.reasons for s in scores]),
            "candidates": json.dumps([s.candidates for s in scores]),
        },
    )
    insert_rows(session, RepositoryEntry.__table__, [w.entry for w in wins if w.entry])
    insert_rows(session, TimelineEvent.__table__, [w.timeline for w in wins if w.timeline])
    enqueue_many(session=session, deliveries=[d for w in wins for d in w.deliveries])
    create_drafts(session=session, rows=[w.draft for w in wins if w.draft])
    for w in wins:  # the score was written behind the ORM's back
        forget_loaded(session, Achievement, w.achievement_id)
    for w in wins:
        if w.error is not None:
            raise w.error
