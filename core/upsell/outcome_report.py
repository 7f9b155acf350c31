"""The outcome report, computed once per tracking pass and read from a table "as of" its time.

Each `upsell_tracking` pass stores the report of every plan (no filter) with the active plans
least likely to succeed (`refresh`); the API and the Upsell outcomes page read that row.
Before the first pass, the first reader computes and stores it, one reader at a time (an
advisory lock), so a burst of requests computes it once. A report with filters cannot come from
the stored one: it is computed for the request, its plans read once (`analysis.REPORT`).
"""

from datetime import UTC, date, datetime

from pydantic import TypeAdapter
from sqlalchemy import Text, cast, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.upsell.analysis import lowest_chances, outcomes_analysis
from core.upsell.analysis_schemas import Analysis, OutcomeReport, PlanPrediction
from core.upsell.models import OutcomeSnapshot

EVERY_PLAN = "all"
CHANCES = 200  # active plans listed, least likely to succeed first (the page's table)
PREDICTIONS = TypeAdapter(list[PlanPrediction])
ONE_WRITER = text("SELECT pg_advisory_xact_lock(hashtext('outcomes:outcome-report'))")


def compute(*, session: Session, now: datetime | None = None, **filters) -> OutcomeReport:
    """Compute the report of the plans matching `filters` (all when none given)."""
    now = now or datetime.now(UTC)
    chances, active = lowest_chances(session=session, rows=CHANCES, **filters)
    return OutcomeReport(
        analysis=outcomes_analysis(session=session, now=now, **filters),
        predictions=chances,
        active_plans=active,
        computed_at=now,
    )


def _store(session: Session, found: OutcomeReport) -> bool:
    """Store `found` in place of the last report; return whether its figures changed."""
    row = {
        "scope": EVERY_PLAN,
        "analysis": found.analysis.model_dump(mode="json"),
        "predictions": [p.model_dump(mode="json") for p in found.predictions],
        "active_plans": found.active_plans,
        "computed_at": found.computed_at,
    }
    figures = ("analysis", "predictions", "active_plans")
    before = session.execute(
        select(*(getattr(OutcomeSnapshot, k) for k in figures)).where(
            OutcomeSnapshot.scope == EVERY_PLAN
        )
    ).one_or_none()
    stored = insert(OutcomeSnapshot).values(row)
    session.execute(
        stored.on_conflict_do_update(
            index_elements=[OutcomeSnapshot.scope],
            set_={k: stored.excluded[k] for k in row if k != "scope"},
        )
    )
    return before is None or _figures(dict(before._mapping)) != _figures(row)


def _figures(row: dict) -> dict:
    """The report's figures without the moment they were computed."""
    analysis = {k: v for k, v in row["analysis"].items() if k != "computed_at"}
    return {"analysis": analysis, "predictions": row["predictions"], "active": row["active_plans"]}


def refresh(*, session: Session, now: datetime | None = None) -> dict:
    """Compute the report of every plan and store it in place of the last one."""
    changed = _store(session, compute(session=session, now=now))
    # Stored every pass (it is "as of" the pass); counted as a change only when figures moved.
    return {"outcome_report_changed": int(changed)}


def stored(*, session: Session, predictions: bool = True) -> OutcomeReport | None:
    """Return the stored report of every plan (without predictions when not asked), or None."""
    # Read as JSON text: pydantic parses and checks it in one go, far faster than from objects.
    texts = [cast(OutcomeSnapshot.analysis, Text)]
    if predictions:
        texts.append(cast(OutcomeSnapshot.predictions, Text))
    row = session.execute(
        select(OutcomeSnapshot.computed_at, OutcomeSnapshot.active_plans, *texts).where(
            OutcomeSnapshot.scope == EVERY_PLAN
        )
    ).one_or_none()
    if row is None:
        return None
    return OutcomeReport(
        analysis=Analysis.model_validate_json(row[2]),
        predictions=PREDICTIONS.validate_json(row[3]) if predictions else [],
        active_plans=row.active_plans,
        computed_at=row.computed_at,
    )


def _current(session: Session, writer: Session | None, *, predictions: bool) -> OutcomeReport:
    """Return the stored report; without one, compute and store it (one reader at a time)."""
    found = stored(session=session, predictions=predictions)
    if found is not None:
        return found
    writer = writer or session
    writer.execute(ONE_WRITER)  # held to the end of the transaction: readers queue behind it
    found = stored(session=writer, predictions=predictions)
    if found is None:
        found = compute(session=writer)
        _store(writer, found)
    return found


def report(
    *, session: Session, writer: Session | None = None, **filters: str | date | None
) -> OutcomeReport:
    """Return the report: the stored one without filters, else one computed for them."""
    # `session` reads (it may be a replica's); `writer` stores the first report when none is
    # stored yet (default: `session`). Filters are those of `outcomes_analysis`.
    if any(value is not None for value in filters.values()):
        return compute(session=session, **filters)
    return _current(session, writer, predictions=True)


def analysis(
    *, session: Session, writer: Session | None = None, **filters: str | date | None
) -> Analysis:
    """Return the analysis alone: the stored one without filters, else one computed for them."""
    if any(value is not None for value in filters.values()):
        return outcomes_analysis(session=session, **filters)
    return _current(session, writer, predictions=False).analysis
