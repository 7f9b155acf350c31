"""Trigger due checkpoints (summary, Google Doc, review meeting, draft) and flag overdue ones.

A checkpoint reads the plan's data as of its own day (`core/upsell/asof.py`), also when it is
prepared late (the job was down, or a first run over a backlog): it is then "caught up" and says
so ("Day 60 check, prepared on day 125 from data up to day 60"). Several due checkpoints of one
plan are prepared in order, each from its own day's data; only the latest of them books a review
meeting and drafts the customer summary (a meeting or an email about day 30 on day 125 would be
stale), the earlier ones are kept for the record (summary, Google Doc, timeline line).

Once a later checkpoint is prepared, earlier ones still waiting for a review are "skipped"
(passed without a review): the latest checkpoint carries the review. The review meeting is 30
minutes at 15:00 UTC two business days (Monday to Friday) after the checkpoint is prepared,
organised by the CSM with the customer's contacts invited. The review is due 7 days after the
checkpoint was prepared (`review_due_on`); a checkpoint still without a review after that is
overdue since that date (escalated once, `core/upsell/lifecycle.py`).

A pass prepares every due checkpoint in memory, reading the template once, and writes them a
chunk of plans at a time with one statement per table (deliveries, drafts, timeline lines, the
checkpoints themselves). Each plan's due checkpoints still stand or fall together: when one cannot
be prepared (say its summary draft breaks a rule) or written, that plan's checkpoints stay
scheduled and the failure is recorded with its reason (`core.audit.failures`, shown on the System
page); every other plan goes on (a chunk that fails to write is written again plan by plan, each
in its own savepoint), and the next pass tries the plan again.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit.bulk import insert_rows
from core.audit.failures import batch
from core.customers.models import TimelineEvent
from core.drafts.models import DraftKind, MessageTemplate
from core.drafts.service import create_drafts, draft_row
from core.drafts.templates import DefaultTemplate, load, render_loaded
from core.integrations.gcalendar import calendar_event_id
from core.outbox.bulk import delivery, enqueue_many
from core.outbox.models import Channel
from core.upsell import asof, curve, reviews
from core.upsell.models import Checkpoint, CheckpointStatus, Measurement, MeasurementStatus

ITEM = "checkpoint"  # a plan's due checkpoints, prepared together (job_item_failures.item_type)
OVERDUE_AFTER_DAYS = 7
MEETING_BUSINESS_DAYS = 2
MEETING_AT = time(15, 0, tzinfo=UTC)
MEETING_MINUTES = 30

PLAN_CONTEXT = text(
    """
    SELECT m.id, m.customer_id, m.started_on, c.name AS customer, up.name AS upsell,
           u.id AS csm_id, u.email AS csm_email, u.name AS csm_name,
           coalesce((SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM upsell_products l
                       JOIN products p ON p.code = l.product_code WHERE l.upsell_id = up.id),
                    up.name) AS products,
           coalesce((SELECT array_agg(ct.email ORDER BY ct.is_primary DESC, ct.name)
                       FROM customer_contacts ct WHERE ct.customer_id = c.id),
                    '{}') AS contacts
      FROM upsell_measurements m
      JOIN customers c ON c.id = m.customer_id
      JOIN upsells up ON up.id = m.upsell_id
      LEFT JOIN users u ON u.id = c.owner_csm_id
     WHERE m.id = ANY(CAST(:ids AS uuid[]))
    """
)
MARK_OVERDUE = text(
    f"""
    UPDATE checkpoints c
       SET status = 'overdue', updated_at = now(),
           review_due_on = coalesce(c.review_due_on, c.due_on + {OVERDUE_AFTER_DAYS})
      FROM upsell_measurements m
     WHERE m.id = c.measurement_id AND m.status = 'active'
       AND c.status = 'triggered'
       AND coalesce(c.review_due_on, c.due_on + {OVERDUE_AFTER_DAYS}) < :today
       AND NOT EXISTS (SELECT 1 FROM upsell_reviews r WHERE r.checkpoint_id = c.id)
    """
)
SUPERSEDE = text(
    """
    UPDATE checkpoints c SET status = 'skipped', updated_at = now()
     WHERE c.measurement_id = ANY(CAST(:ids AS uuid[]))
       AND c.status IN ('triggered', 'overdue')
       AND NOT EXISTS (SELECT 1 FROM upsell_reviews r WHERE r.checkpoint_id = c.id)
       AND EXISTS (SELECT 1 FROM checkpoints l WHERE l.measurement_id = c.measurement_id
                      AND l.day > c.day AND l.status <> 'scheduled')
    """
)

# Prepared checkpoints: summary, status and review due date. The summaries travel as one JSON
# array (a text array of JSON would be escaped value by value on the way).
TRIGGERED = text(
    """
    UPDATE checkpoints c
       SET summary = x.summary, status = 'triggered', triggered_at = :now,
           review_due_on = :review_due_on, updated_at = now()
      FROM ROWS FROM (unnest(CAST(:ids AS uuid[])),
                      jsonb_array_elements(CAST(:summaries AS jsonb))) AS x(id, summary)
     WHERE c.id = x.id
    """
)


def meeting_start(day: date) -> datetime:
    """Return 15:00 UTC two business days after `day`."""
    left = MEETING_BUSINESS_DAYS
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return datetime.combine(day, MEETING_AT)


def _doc_blocks(title: str, plan, summary: dict, status: str) -> list[dict]:
    rows = [["Metric", "Baseline", "Target", "Current", "Progress", "Expected", "30-day trend"]]
    for m in summary["metrics"]:
        pct = [f"{v:.0%}" if v is not None else "—" for v in (m["progress"], m["expected"])]
        rows.append(
            [
                f"{m['name']} ({m['unit']})",
                m["baseline"],
                m["target"],
                m["current"],
                *pct,
                m["trend"]["direction"],
            ]
        )
    return [
        {"kind": "heading", "text": f"{title}: {plan.customer}", "level": 1},
        {"kind": "paragraph", "text": status},
        {"kind": "heading", "text": "Metrics", "level": 2},
        {"kind": "table", "rows": rows},
        {"kind": "heading", "text": "Risks", "level": 2},
        {"kind": "bullets", "items": summary["risks"] or ["No risks found in the data."]},
        {"kind": "heading", "text": "Suggested actions", "level": 2},
        {"kind": "bullets", "items": summary["actions"]},
        *([{"kind": "bullets", "items": summary["notes"]}] if summary["notes"] else []),
    ]


def _status_line(plan, summary: dict) -> str:
    status = curve.LABELS.get(summary["status"] or "", "not yet scored")
    day, horizon = summary["days_since_start"], summary["horizon"]
    when = (
        f"day {day} of a {horizon}-day plan"
        if day <= horizon
        else f"day {day} (plan ran {horizon} days)"
    )
    line = f"{plan.products}: {status}, {when}."
    if caught_up := summary.get("caught_up"):
        line = f"{caught_up} {line}"
    if summary["average_progress"] is not None and summary["expected_progress"] is not None:
        line += (
            f" Average progress {summary['average_progress']:.0%} against "
            f"{summary['expected_progress']:.0%} expected."
        )
    return line


def _draft(cp, plan, summary: dict, status: str, template) -> dict:
    """Return the review summary draft for the CSM to edit and approve."""
    findings = [
        f"- {m['name']}: no value yet (target {m['target']} {m['unit']})"
        if m["current"] == "—"
        else f"- {m['name']}: {m['current']} {m['unit']} against a target of {m['target']}"
        + (f" ({m['progress']:.0%} of the way)" if m["progress"] is not None else "")
        for m in summary["metrics"]
    ] + [f"- Risk: {r}" for r in summary["risks"]]
    context = {
        "customer_name": plan.customer,
        "checkpoint_day": cp.day,
        "product_names": plan.products,
        "status": status,
        "findings": "\n".join(findings) or "No data yet.",
        "next_steps": "\n".join(f"- {a}" for a in summary["actions"]),
        "csm_name": plan.csm_name or "the customer success team",
    }
    subject, body = render_loaded(template, context)
    return draft_row(
        kind=DraftKind.REVIEW_SUMMARY,
        customer_id=plan.customer_id,
        owner_id=plan.csm_id,
        related_type="checkpoint",
        related_id=cp.id,
        # The CSM edits and approves the summary; it then goes to the customer's contacts.
        to=list(plan.contacts),
        subject=subject,
        body=body,
    )


def caught_up_text(*, day: int, prepared_day: int) -> str:
    """Say in plain words that a checkpoint was prepared after its day, from its day's data."""
    return f"Day {day} check, prepared on day {prepared_day} from data up to day {day}."


def _summary(cp, plan, shot: asof.Snapshot, now: datetime, later: int | None) -> dict:
    summary = reviews.build_summary(
        day=cp.day,
        metrics=shot.metrics,
        status=shot.status,
        horizon=shot.horizon,
        days=shot.day,
        products=plan.products,
        now=shot.at,
    )
    prepared_day = (now.date() - plan.started_on).days
    summary |= {"prepared_on": now.date().isoformat(), "prepared_day": prepared_day}
    if now.date() > cp.due_on:
        summary["caught_up"] = caught_up_text(day=shot.day, prepared_day=prepared_day)
    if later is not None:
        summary["notes"].append(
            f"Prepared together with the day-{later} checkpoint, which carries the review: "
            "no separate meeting or email draft."
        )
    return summary


@dataclass
class _Prepared:
    """One checkpoint ready to write: its summary and every row preparing it adds."""

    checkpoint_id: uuid.UUID
    summary: dict
    timeline: dict
    deliveries: list[dict] = field(default_factory=list)
    draft: dict | None = None


def _prepare(
    cp,
    plan,
    shot: asof.Snapshot,
    now: datetime,
    later: int | None,
    template: MessageTemplate | DefaultTemplate,
) -> _Prepared:
    title = reviews.checkpoint_title(cp.day)
    summary = _summary(cp, plan, shot, now, later)
    status = _status_line(plan, summary)  # the meeting and notes added below are not in it
    start = meeting_start(now.date())
    deliveries = []
    if later is None and plan.csm_email:
        end = start + timedelta(minutes=MEETING_MINUTES)
        summary["meeting"] = {"start": start.isoformat(), "end": end.isoformat()}
        deliveries.append(
            delivery(
                channel=Channel.CALENDAR,
                related_type="checkpoint",
                related_id=cp.id,
                idempotency_key=f"checkpoint:{cp.id}:calendar",
                payload={
                    "organizer": plan.csm_email,
                    "eventId": calendar_event_id(cp.id),
                    "summary": f"{title}: {plan.customer} — {plan.upsell}",
                    "description": status,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "attendees": list(plan.contacts),
                },
            )
        )
    elif later is None:
        summary["notes"].append("No CSM owns this customer, so no review meeting was scheduled.")
    deliveries.append(
        delivery(
            channel=Channel.GOOGLE_DOC,
            related_type="checkpoint",
            related_id=cp.id,
            idempotency_key=f"checkpoint:{cp.id}:doc",
            payload={
                "recordId": str(cp.id),
                "title": f"{title} — {plan.customer}: {plan.upsell}",
                "blocks": _doc_blocks(title, plan, summary, status),
            },
        )
    )
    return _Prepared(
        checkpoint_id=cp.id,
        summary=summary,
        deliveries=deliveries,
        draft=_draft(cp, plan, summary, status, template) if later is None else None,
        timeline={
            "id": uuid.uuid4(),
            "customer_id": plan.customer_id,
            "occurred_at": now,
            "kind": "checkpoint_triggered",
            "title": f"{title} for {plan.upsell}",
            "body": status,
            "related_type": "checkpoint",
            "related_id": cp.id,
        },
    )


def _write(session: Session, prepared: Sequence[_Prepared], now: datetime) -> None:
    """Write prepared checkpoints with one statement per table: deliveries, drafts, timeline."""
    enqueue_many(session=session, deliveries=[d for p in prepared for d in p.deliveries])
    create_drafts(session=session, rows=[p.draft for p in prepared if p.draft])
    insert_rows(session, TimelineEvent.__table__, [p.timeline for p in prepared])
    session.execute(
        TRIGGERED,
        {
            "ids": [p.checkpoint_id for p in prepared],
            "summaries": json.dumps([p.summary for p in prepared]),
            "now": now,
            "review_due_on": now.date() + timedelta(days=OVERDUE_AFTER_DAYS),
        },
    )


def _expire(session: Session) -> None:
    """Forget loaded checkpoints: the raw SQL above changed them behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Checkpoint):
            session.expire(obj)


def trigger_due(
    *, session: Session, now: datetime | None = None, shape: tuple[float, ...] | None = None
) -> dict[str, int]:
    """Prepare every due checkpoint from its own day's data, in order; skip superseded ones."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    # Plain rows, not loaded checkpoints: a backlog can be tens of thousands of them.
    due = session.execute(
        select(Checkpoint.id, Checkpoint.measurement_id, Checkpoint.day, Checkpoint.due_on)
        .join(Measurement, Measurement.id == Checkpoint.measurement_id)
        .where(
            Checkpoint.status == CheckpointStatus.SCHEDULED,
            Checkpoint.due_on <= now.date(),
            Measurement.status == MeasurementStatus.ACTIVE,
        )
        .order_by(Checkpoint.measurement_id, Checkpoint.day)
        .with_for_update(of=Checkpoint, skip_locked=True)
    ).all()
    if not due:
        return {"checkpoints_triggered": 0, "checkpoints_caught_up": 0, "checkpoints_skipped": 0}
    ids = list({cp.measurement_id for cp in due})
    plans = {row.id: row for row in session.execute(PLAN_CONTEXT, {"ids": ids})}
    points = [(cp.id, cp.measurement_id, asof.moment(cp.due_on, now)) for cp in due]
    shots = asof.snapshots(session=session, points=points, shape=shape)
    last = {cp.measurement_id: cp.day for cp in due}  # ordered by day: the latest wins
    template = load(session=session, key="review_summary")
    with batch(session, ITEM) as plans_done:
        # A plan's due checkpoints go together: a day-30 check left behind would later book
        # its own meeting after the day-60 one.
        ready = []
        for plan_id, group in groupby(due, key=lambda cp: cp.measurement_id):
            with plans_done.item(plan_id, savepoint=False):
                checkpoints = [
                    _prepare(
                        cp,
                        plans[plan_id],
                        shots[cp.id],
                        now,
                        last[plan_id] if cp.day < last[plan_id] else None,
                        template,
                    )
                    for cp in group
                ]
                ready.append((plan_id, checkpoints))
        plans_done.chunked(
            ready,
            lambda part: _write(session, [p for _, group in part for p in group], now),
            key=lambda plan: plan[0],
        )
    done = [cp for cp in due if plans_done.ok(cp.measurement_id)]
    caught_up = sum(now.date() > cp.due_on for cp in done)
    session.flush()
    prepared = [i for i in ids if plans_done.ok(i)]
    skipped = session.execute(SUPERSEDE, {"ids": prepared}).rowcount if prepared else 0
    _expire(session)
    return {
        "checkpoints_triggered": len(done),
        "checkpoints_caught_up": caught_up,
        "checkpoints_skipped": skipped,
    }


def mark_overdue(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Mark prepared checkpoints overdue once their review due date has passed without one."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    session.flush()
    count = session.execute(MARK_OVERDUE, {"today": today}).rowcount
    _expire(session)
    return {"checkpoints_overdue": count}


def review_doc_written(session: Session, checkpoint_id: uuid.UUID, url: str) -> None:
    checkpoint = session.get(Checkpoint, checkpoint_id)
    if checkpoint is not None:
        checkpoint.doc_url = url


def review_event_created(session: Session, checkpoint_id: uuid.UUID, event_id: str) -> None:
    checkpoint = session.get(Checkpoint, checkpoint_id)
    if checkpoint is not None:
        checkpoint.calendar_event_id = event_id
