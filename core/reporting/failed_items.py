"""The items jobs could not process, named in plain words for the System page.

A failed item (`job_item_failures`, see `core/audit/failures.py`) is named at read time from its
rows (a customer's current name, a goal's, a plan's upsell), so a rename shows at once and no
stored text carries a name; an item deleted since reads "An item that no longer exists". The
System page is for admins, who may see every customer's name.
"""

from collections import defaultdict

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit.models import JobItemFailure
from core.reporting.schemas import FailedItemRow

_WIN = """
    SELECT a.id::text AS id, 'the win “' || g.name || '” of ' || c.name AS label
      FROM goal_achievements a JOIN goals g ON g.id = a.goal_id
      JOIN customers c ON c.id = a.customer_id
     WHERE a.id = ANY(CAST(:ids AS uuid[]))
"""
_PLAN = """
    SELECT m.id::text AS id, 'the success plan for ' || u.name || ' (' || c.name || ')' AS label
      FROM upsell_measurements m JOIN upsells u ON u.id = m.upsell_id
      JOIN customers c ON c.id = m.customer_id
     WHERE m.id = ANY(CAST(:ids AS uuid[]))
"""
_CUSTOMER = """
    SELECT c.id::text AS id, c.name AS label FROM customers c
     WHERE c.id = ANY(CAST(:ids AS uuid[]))
"""
# Each item type: what the job was doing, and how to name its items (None: by their own id).
ITEM_TYPES: dict[str, tuple[str, str | None]] = {
    "goal": (
        "Checking a goal for a win",
        """
        SELECT g.id::text AS id, 'the goal “' || g.name || '” of ' || c.name AS label
          FROM goals g JOIN customers c ON c.id = g.customer_id
         WHERE g.id = ANY(CAST(:ids AS uuid[]))
        """,
    ),
    "win": ("Documenting a win", _WIN),
    "held_win": ("Asking the CSM to confirm a held win", _WIN),
    "plan": ("Scoring a plan's progress", _PLAN),
    "plan_alert": ("Alerting the CSM about a slipping plan", _PLAN),
    "plan_milestones": ("Laying out a plan's adoption milestones", _PLAN),
    "checkpoint": ("Preparing a plan's checkpoint review", _PLAN),
    "feedback_ask": ("Drafting a plan's 60-day feedback request", _PLAN),
    "outcome": ("Proposing a plan's outcome", _PLAN),
    "overdue_review": (
        "Reminding the CSM of an overdue review",
        """
        SELECT k.id::text AS id,
               'the day-' || k.day || ' review of ' || u.name || ' (' || c.name || ')' AS label
          FROM checkpoints k JOIN upsell_measurements m ON m.id = k.measurement_id
          JOIN upsells u ON u.id = m.upsell_id JOIN customers c ON c.id = m.customer_id
         WHERE k.id = ANY(CAST(:ids AS uuid[]))
        """,
    ),
    "health": ("Combining a customer's health score", _CUSTOMER),
    "health_write_back": ("Queuing a health score write-back to Salesforce", _CUSTOMER),
    "salesforce_opportunity": ("Syncing a Salesforce opportunity", None),
    "salesforce_amendment": ("Syncing a Salesforce contract amendment", None),
    "salesforce_renewal": ("Syncing a Salesforce lost renewal", None),
}
SALESFORCE_NAMES = {
    "salesforce_opportunity": "Salesforce opportunity",
    "salesforce_amendment": "Salesforce contract",
    "salesforce_renewal": "Salesforce opportunity",
}


def failed_items(*, session: Session, limit: int = 100) -> list[FailedItemRow]:
    """Return the items jobs could not process, most recently failed first, named in words."""
    rows = session.scalars(
        select(JobItemFailure).order_by(JobItemFailure.last_seen_at.desc()).limit(limit)
    ).all()
    ids: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        ids[row.item_type].append(row.item_id)
    names: dict[tuple[str, str], str] = {}
    for item_type, item_ids in ids.items():
        sql = ITEM_TYPES.get(item_type, ("", None))[1]
        if sql is not None:  # one query per item type present, never one per item
            found = session.execute(text(sql), {"ids": item_ids})
            names |= {(item_type, r.id): r.label for r in found}
    return [
        FailedItemRow(
            job_name=row.job_name,
            step=_step(row.item_type),
            item=_item_name(row, names),
            reason=row.reason,
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            failure_count=row.failure_count,
        )
        for row in rows
    ]


def _item_name(row: JobItemFailure, names: dict[tuple[str, str], str]) -> str:
    if row.item_type in SALESFORCE_NAMES:
        return f"{SALESFORCE_NAMES[row.item_type]} {row.item_id}"
    name = names.get((row.item_type, row.item_id))
    return (name[0].upper() + name[1:]) if name else "An item that no longer exists"


def _step(item_type: str) -> str:
    known = ITEM_TYPES.get(item_type)
    return known[0] if known else item_type.replace("_", " ").capitalize()
