"""Assemble a customer's value pack for a QBR or a renewal: wins, ROI, upsell outcomes.

Every figure comes from a computation the app already makes, never a new one:

- **wins** are the customer's verified achievements with the facts their success record was
  written from (`core.records.facts`): the baseline (stated, or observed at the goal's start),
  the achieved value, and the direction-aware improvement (`improvement_pct`: a lower-is-better
  metric improves when it falls). A win without a baseline says so and has no improvement and
  no before/after bars; a confirmed win without a figure says it was confirmed by the team.
- **upsell outcomes** are each expansion's plan as the outcome report and the progress page
  read it (`core.upsell.queries.load_plan`): criteria measured from their baseline at the close
  to their current value over their measurement window; a criterion whose data is too old to
  count shows no current value.
- **ROI** is `core.upsell.roi.summarize` over the plan's money criteria that have a baseline.
  One without a baseline is named and left out, so no figure counts from an invented zero.

Consent: an internal pack is for CS staff and names everything; a pack to share with the
customer, and every pack for sales or marketing, follows the value repository's rules
(`core.repository.consent`), at the strictest of the customer's and its wins' entries' levels.
"""

import contextlib
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.base import Consent, Direction, Role
from core.customers.models import Customer
from core.errors import Forbidden, NotFound
from core.formatting import number
from core.goals.models import Achievement, AchievementStatus
from core.goals.results import improvement_pct, noun
from core.records.facts import RecordFacts, best_quotes, gather_many, stored_facts
from core.records.models import SuccessRecord
from core.reporting.value_pack_schemas import (
    CriterionLine,
    PackAudience,
    PackSection,
    PackSummary,
    PackWin,
    RoiLine,
    UpsellLine,
    ValuePack,
)
from core.repository.consent import (
    CS_STAFF,
    Audience,
    CustomerView,
    customer_view,
    former_names,
    stricter,
)
from core.repository.models import RepositoryEntry
from core.upsell import roi
from core.upsell.models import (
    Measurement,
    MeasurementFrequency,
    MeasurementMode,
    MeasurementStatus,
    OutcomeStatus,
)
from core.upsell.queries import LoadedPlan, load_plan, recency

OUTCOME_WORDS = {
    OutcomeStatus.SUCCESS: "Succeeded",
    OutcomeStatus.PARTIAL: "Partly succeeded",
    OutcomeStatus.AT_RISK: "At risk",
    OutcomeStatus.FAILED: "Did not reach its goals",
    OutcomeStatus.NO_DECISION: "Closed without a decision",
}
PROGRESS_WORDS = {
    "on_track": "on track",
    "exceeding": "ahead of plan",
    "at_risk": "at risk",
    "behind": "behind plan",
}
WINDOW_WORDS = {
    MeasurementFrequency.DAILY: "latest day",
    MeasurementFrequency.WEEKLY: "7-day average",
    MeasurementFrequency.MONTHLY: "30-day average",
}
NO_BASELINE = "No baseline was recorded, so there is no before figure and no improvement."


def seen_by(viewer: Role | None, audience: PackAudience) -> Audience:
    """Return the consent audience of a pack: internal only for CS staff asking for it."""
    pack_for = PackAudience(audience)
    staff = viewer is None or Role(viewer) in CS_STAFF
    if pack_for == PackAudience.INTERNAL and not staff:
        raise Forbidden(
            "audience: an internal value pack is for CS staff; sales and marketing get the pack "
            "to share, which follows the customer's consent."
        )
    return Audience.INTERNAL if pack_for == PackAudience.INTERNAL else Audience.EXTERNAL


def _wins(session: Session, customer_id: uuid.UUID):
    """The customer's verified wins, newest first, with their record and repository entry."""
    return session.execute(
        select(
            Achievement.id,
            Achievement.achieved_at,
            SuccessRecord.sections,
            RepositoryEntry.id.label("entry_id"),
            RepositoryEntry.consent_level.label("entry_consent"),
        )
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
        .outerjoin(RepositoryEntry, RepositoryEntry.achievement_id == Achievement.id)
        .where(
            Achievement.customer_id == customer_id,
            Achievement.status == AchievementStatus.VERIFIED,
        )
        .order_by(Achievement.achieved_at.desc(), Achievement.id)
    ).all()


def _facts(session: Session, rows) -> dict[uuid.UUID, RecordFacts]:
    """The facts each win's record was written from (read afresh where there is no record)."""
    found: dict[uuid.UUID, RecordFacts] = {}
    for row in rows:
        if row.sections:
            # One written by an older version is read afresh below.
            with contextlib.suppress(KeyError, TypeError, ValueError):
                found[row.id] = stored_facts(row.sections)
    missing = [row.id for row in rows if row.id not in found]
    return found | gather_many(session=session, achievement_ids=missing)


def _baseline_note(f: RecordFacts) -> str:
    if f.baseline is None:
        return NO_BASELINE if f.achieved is not None else "Confirmed by the team; no figures."
    source = f.baseline_source
    shown = number(f.baseline, f.unit, money=f.is_money)
    if source in (None, "stated"):
        return f"Baseline {shown}, stated when the goal was set on {f.start_date.isoformat()}."
    if source == "observed at the start":
        return f"Baseline {shown}, observed when the goal started on {f.start_date.isoformat()}."
    return f"Baseline {shown}: {source} before the goal was reached."


def pack_win(f: RecordFacts, entry_id: uuid.UUID | None) -> PackWin:
    """Shape one win's facts (already as the audience may see them) for the pack."""
    return PackWin(
        achievement_id=uuid.UUID(f.achievement_id),
        entry_id=entry_id,
        title=f.goal_name,
        measure=f.metric_name or f.goal_type.replace("_", " "),
        result=f"{f.customer_name} {f.result}.",
        unit=f.unit,
        is_money=f.is_money,
        lower_is_better=Direction(f.direction) == Direction.LOWER,
        baseline=f.baseline,
        baseline_note=_baseline_note(f),
        achieved=f.achieved,
        target=f.target,
        improvement=f.improvement,
        started_on=f.start_date,
        achieved_on=f.achieved_at.date(),
        days_to_achieve=f.days_to_achieve,
        verification=f"{f.rule} ({f.confidence} confidence, {f.method})",
    )


def win_roi(f: RecordFacts, win: PackWin) -> RoiLine | None:
    """A money or ROI win as a return line: the change from its baseline, or why there is none."""
    if not (f.is_money or f.goal_type == "roi") or f.achieved is None:
        return None
    if f.baseline is None:
        now = number(f.achieved, f.unit, money=f.is_money)
        text = f"{now} when the goal was reached; {NO_BASELINE[0].lower()}{NO_BASELINE[1:]}"
        return RoiLine(source=win.title, text=text)
    gain = (f.achieved - f.baseline) * (-1 if win.lower_is_better else 1)
    change = number(abs(gain), f.unit, money=f.is_money)
    better = "better" if gain >= 0 else "worse"
    text = (
        f"{noun(win.measure).capitalize()}: {number(f.baseline, f.unit, money=f.is_money)} "
        f"→ {number(f.achieved, f.unit, money=f.is_money)}, {change} {better} than the baseline "
        f"between {win.started_on.isoformat()} and {win.achieved_on.isoformat()}."
    )
    return RoiLine(source=win.title, text=text, basis=[win.baseline_note])


def _plans(session: Session, customer_id: uuid.UUID, now: datetime) -> list[LoadedPlan]:
    ids = session.scalars(
        select(Measurement.id)
        .where(
            Measurement.customer_id == customer_id,
            Measurement.status != MeasurementStatus.CANCELLED,
        )
        .order_by(Measurement.started_on.desc(), Measurement.id)
    )
    return [load_plan(session=session, measurement_id=i, now=now) for i in ids]


def plan_roi(session: Session, loaded: LoadedPlan, now: datetime, source: str) -> RoiLine | None:
    """ROI realized over the plan's money criteria that have a baseline, and what was left out."""
    rows = list(session.execute(roi.MONEY_CRITERIA, {"ids": [loaded.plan.id], "now": now}))
    if not rows:
        return None
    kept = [r for r in rows if r.baseline is not None]
    left_out = [
        f"{r.name}: no baseline was recorded at the close, so it is left out of the return."
        for r in rows
        if r.baseline is None
    ]
    if not kept:
        text = "No return is stated: no money criterion has a baseline."
        return RoiLine(source=source, text=text, basis=left_out)
    found = roi.summarize(kept, arr_increase=loaded.upsell.arr_increase, now=now)
    return RoiLine(
        source=source, text=found.text, basis=[*found.basis, *left_out], multiple=found.multiple
    )


def _criterion(m, now: datetime) -> CriterionLine:
    fresh = recency(m, now)
    stale = fresh["no_recent_data"] and m.measurement == MeasurementMode.AUTOMATIC
    current = None if stale else m.current
    if current is None:
        now_text = "no recent data"
    else:
        as_of = f" to {m.current_at.date().isoformat()}" if m.current_at else ""
        window = WINDOW_WORDS[MeasurementFrequency(fresh["frequency"])]
        now_text = f"{number(current, m.unit)} now ({window}{as_of})"
    before = (
        "no baseline recorded"
        if m.baseline is None
        else f"{number(m.baseline, m.unit)} at the close"
    )
    change = improvement_pct(m.baseline, current, m.direction)
    text = f"{m.name}: {before}; {now_text}; target {number(m.target, m.unit)}"
    if change is not None:
        text += f" ({abs(change):.0%} {'better' if change >= 0 else 'worse'} than at the close)"
    return CriterionLine(
        name=m.name,
        unit=m.unit,
        lower_is_better=Direction(m.direction) == Direction.LOWER,
        baseline=m.baseline,
        target=m.target,
        current=current,
        improvement=change,
        text=text + ".",
    )


def _outcome(loaded: LoadedPlan) -> str:
    found = loaded.outcome
    if found is not None and found.status is not None:
        return OUTCOME_WORDS[OutcomeStatus(found.status)]
    if found is not None:
        return f"Awaiting decision (proposed: {OUTCOME_WORDS[found.proposed_status].lower()})"
    if loaded.plan.status == MeasurementStatus.COMPLETED:
        return "Completed"
    progress = PROGRESS_WORDS.get(getattr(loaded.plan.progress_status, "value", ""), "")
    return f"In progress{f', {progress}' if progress else ''}"


def upsell_line(
    session: Session, loaded: LoadedPlan, view: CustomerView, now: datetime
) -> tuple[UpsellLine, RoiLine | None]:
    """One expansion's outcome and its return, as `view` allows."""
    name = view.text(loaded.upsell.name)
    returned = plan_roi(session, loaded, now, name)
    line = UpsellLine(
        measurement_id=loaded.plan.id,
        name=name,
        products=loaded.products,
        arr_increase=loaded.upsell.arr_increase,
        close_date=loaded.upsell.close_date,
        outcome=_outcome(loaded),
        criteria=[_criterion(m, now) for m in loaded.metrics],
        roi=returned.text if returned else None,
    )
    return line, returned


def _view(session: Session, customer_id: uuid.UUID, audience: Audience, entry_levels):
    row = session.execute(
        select(
            Customer.name,
            Customer.consent_level,
            Customer.segment,
            Customer.industry,
            former_names(Customer.id).label("former"),
        ).where(Customer.id == customer_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No customer with id {customer_id}.")
    # The strictest level of the customer and its wins' entries decides for the whole pack:
    # naming the customer beside a win that may not be tied to them would tie it.
    level = stricter(row.consent_level, *entry_levels)
    return customer_view(
        audience,
        name=row.name,
        consent=level,
        segment=row.segment,
        industry=row.industry,
        former=row.former or (),
        customer_id=customer_id,
    )


def _summary(wins: list[PackWin], upsells: list[UpsellLine], since: date | None) -> PackSummary:
    measured = [w for w in wins if w.has_before_after and w.improvement is not None]
    decided = [u for u in upsells if u.outcome in OUTCOME_WORDS.values()]
    succeeded = [u for u in decided if u.outcome == OUTCOME_WORDS[OutcomeStatus.SUCCESS]]
    headlines = []
    if wins:
        first = f" since {since.isoformat()}" if since else ""
        headlines.append(f"{len(wins)} verified win{'s' * (len(wins) != 1)}{first}.")
        headlines.append(
            f"{len(measured)} of {len(wins)} measured against a baseline"
            + ("; the rest have no before figure." if len(measured) < len(wins) else ".")
        )
        best = max(measured, key=lambda w: w.improvement, default=None)
        if best is not None and best.improvement > 0:
            headlines.append(
                f"Largest improvement: {noun(best.measure)}, {best.improvement:.0%} better than "
                "its baseline."
            )
    else:
        headlines.append("No verified wins yet.")
    if upsells:
        headlines.append(
            f"{len(upsells)} expansion{'s' * (len(upsells) != 1)} measured; "
            f"{len(succeeded)} of {len(decided)} decided succeeded."
            if decided
            else f"{len(upsells)} expansion{'s' * (len(upsells) != 1)} measured; none decided yet."
        )
    return PackSummary(
        wins=len(wins),
        measured_wins=len(measured),
        upsells=len(upsells),
        decided_upsells=len(decided),
        successful_upsells=len(succeeded),
        headlines=headlines,
    )


def _sections(session: Session, customer_id: uuid.UUID, view: CustomerView) -> list[PackSection]:
    quotes = [
        q
        for q in (view.quote(q) for q in best_quotes(session=session, customer_id=customer_id))
        if q
    ]
    sections = []
    if quotes:
        sections.append(
            PackSection(
                heading="In their words",
                lines=[f"“{q.text}” — {view.quoted_by(q)}" for q in quotes],
            )
        )
    sections.append(
        PackSection(
            heading="How these figures were measured",
            lines=[
                "Each win is measured from its baseline (stated when the goal was set, or "
                "observed at its start) to the value that proved it, over the goal's own period.",
                "For measures where lower is better, a fall counts as an improvement.",
                "Expansions are measured from each criterion's value at the close to its "
                "current average over its measurement window; data too old to count is not "
                "shown.",
                "Returns count only criteria with a baseline; none is compared with zero.",
            ],
        )
    )
    return sections


def build_value_pack(
    session: Session,
    *,
    customer_id: uuid.UUID,
    viewer: Role | None,
    audience: PackAudience | str,
    now: datetime | None = None,
) -> ValuePack:
    """Assemble one customer's value pack as `viewer`'s role may read it for `audience`.

    `viewer` None is an internal caller. Forbidden: an internal pack for sales or marketing.
    """
    now = now or datetime.now(UTC)
    audience = PackAudience(audience)
    shown_to = seen_by(viewer, audience)
    rows = _wins(session, customer_id)
    view = _view(session, customer_id, shown_to, [r.entry_consent for r in rows])
    facts = _facts(session, rows)
    wins, roi_lines = [], []
    for row in rows:
        if row.id not in facts:
            continue
        seen = view.facts(facts[row.id])
        win = pack_win(seen, row.entry_id)
        wins.append(win)
        if (line := win_roi(seen, win)) is not None:
            roi_lines.append(line)
    upsells = []
    for loaded in _plans(session, customer_id, now):
        line, returned = upsell_line(session, loaded, view, now)
        upsells.append(line)
        if returned is not None:
            roi_lines.append(returned)
    since = min((w.achieved_on for w in wins), default=None)
    prepared_on = now.astimezone(UTC).date()
    return ValuePack(
        customer_id=customer_id,
        customer_label=view.label,
        named=view.name is not None,
        consent_level=Consent(view.consent),
        audience=audience,
        title=f"Value pack — {view.label} — {prepared_on.isoformat()}",
        prepared_on=prepared_on,
        summary=_summary(wins, upsells, since),
        wins=wins,
        roi=roi_lines,
        upsells=upsells,
        sections=_sections(session, customer_id, view),
    )
