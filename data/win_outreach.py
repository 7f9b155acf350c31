"""What the team did with past wins: congratulations emails sent, customer stories used.

The app has been running, so the wins documented before the backlog (data.win_history) had
their congratulations email drafted, and most were approved and sent by their CSM within a few
days; the rest were rejected with a reason a CSM would give. Marketing flagged part of the wins
the score made candidates, and used some of those. Both are history: nothing is queued, the
drafts are decided and the flags settled before the backlog starts, so the first job run's work
is only the backlog.
"""

import random
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from core.documentation.email import congratulations
from core.drafts.templates import DEFAULT_TEMPLATES
from data.load import copy_rows, new_id

SENT_SHARE = 0.82  # drafts approved and sent; the rest were rejected
FLAGGED_SHARE = 0.7  # candidate wins marketing flagged
USED_SHARE = 0.6  # flagged wins whose story was used
REJECTIONS = (
    "The customer asked us to keep celebrations to the QBR.",
    "Our champion left last month; I will congratulate the new team in person.",
    "Already thanked them on our weekly call.",
)
FLAG_NOTES = (
    "Strong numbers and a willing champion.",
    "Good fit for the industry page.",
    "Ask at the next check-in whether they would speak at the user group.",
)
CONTACTS = text(
    """
    SELECT DISTINCT ON (customer_id) customer_id, name, email
      FROM customer_contacts
     ORDER BY customer_id, is_primary DESC, name
    """
)
DRAFT_COLUMNS = (
    "id",
    "kind",
    "status",
    "customer_id",
    "owner_id",
    "related_type",
    "related_id",
    "to_addresses",
    "subject",
    "body",
    "original_subject",
    "original_body",
    "rejected_reason",
    "decided_by_id",
    "decided_at",
    "version",
    "created_at",
    "updated_at",
)
FLAG_COLUMNS = (
    "id",
    "achievement_id",
    "customer_id",
    "candidate_type",
    "status",
    "score",
    "notes",
    "flagged_by_id",
    "contacted_at",
    "status_changed_at",
    "version",
    "created_at",
    "updated_at",
)


def _before(moment: datetime, cutoff: datetime) -> datetime:
    return min(moment, cutoff - timedelta(minutes=1))


def _drafts(rng: random.Random, wins: list, facts: list, contacts: dict, cutoff: datetime):
    template = DEFAULT_TEMPLATES["congratulations_email"]
    for w, f in zip(wins, facts, strict=True):
        contact = contacts.get(w.goal.account.id)
        if contact is None:
            continue
        owner = w.goal.account.owner.id
        row = congratulations(
            facts=f, contact=contact, next_goals=[], owner_id=owner, template=template
        )
        decided = _before(w.written + timedelta(hours=rng.uniform(1, 72)), cutoff)
        sent = rng.random() < SENT_SHARE
        yield (
            new_id(rng),
            row["kind"].value,
            "sent" if sent else "rejected",
            row["customer_id"],
            owner,
            row["related_type"],
            w.id,
            row["to_addresses"],
            row["subject"],
            row["body"],
            row["original_subject"],
            row["original_body"],
            None if sent else rng.choice(REJECTIONS),
            owner,
            decided,
            2,
            w.written,
            decided,
        )


def _flags(rng: random.Random, wins: list, marketers: list, cutoff: datetime):
    for w in wins:
        candidates = w.achievement.get("marketing_candidates") or []
        if not candidates or not marketers or rng.random() >= FLAGGED_SHARE:
            continue
        flagged = _before(w.written + timedelta(days=rng.uniform(1, 10)), cutoff)
        used = rng.random() < USED_SHARE
        settled = _before(flagged + timedelta(days=rng.uniform(5, 40)), cutoff)
        yield (
            new_id(rng),
            w.id,
            w.goal.account.id,
            candidates[0],
            "used" if used else "contacted",
            w.achievement.get("marketing_score"),
            rng.choice(FLAG_NOTES),
            rng.choice(marketers),
            settled,
            settled,
            2,
            flagged,
            settled,
        )


def load(
    conn: Connection, rng: random.Random, wins: list, facts: list, cutoff: datetime
) -> dict[str, int]:
    """Write the decided emails and settled marketing flags of past wins; return row counts."""
    contacts = {row.customer_id: row for row in conn.execute(CONTACTS)}
    marketers = list(conn.scalars(text("SELECT id FROM users WHERE role = 'marketing'")))
    drafts = _drafts(rng, wins, facts, contacts, cutoff)
    flags = _flags(rng, wins, marketers, cutoff)
    return {
        "drafts": copy_rows(conn, "drafts", DRAFT_COLUMNS, drafts),
        "marketing_flags": copy_rows(conn, "marketing_flags", FLAG_COLUMNS, flags),
    }
