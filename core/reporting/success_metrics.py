"""The Wins dashboard's PRD success metrics, with honest denominators and the rows behind them.

- **Achievement capture** = verified wins with a success record ÷ (verified wins achieved in the
  period + goals reached in the period that the app never recorded + custom goals whose due
  date passed in the period without a confirmation; `core.reporting.unrecorded` says how those
  are found). Held and rejected achievements wait for (or had) a person's decision, and
  cancelled or missed goals were closed by one: none of them enters the denominator.
- **Documented within 24 h** = wins whose success record was written at most 24 h after the goal
  was reached (`achieved_at`, not when the app noticed) ÷ wins reached in the period (verified
  ones and reached-but-not-recorded ones), leaving out undocumented ones reached less than 24 h
  ago, which still have time. Overdue custom goals have no moment of reaching: only capture
  counts them.
- **Customer communication** = wins whose congratulations email was sent ÷ verified wins.
- **Marketing utilization** = wins with a marketing flag marked used ÷ verified wins.
"""

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.reporting.schemas import Bin, MetricRow, SuccessMetric

ROWS = 50  # rows listed per metric; the counts always cover all of them
WITHIN_HOURS = 24  # "documented within 24 h"
# Hours from reaching a goal to its success record: (upper bound, label); the last is open.
DOC_BINS = ((WITHIN_HOURS, "≤ 24 h"), (72, "1–3 days"), (168, "3–7 days"), (672, "1–4 weeks"))
LAST_DOC_BIN = "over 4 weeks"
NEVER = "not documented"
TARGETS = {"capture": 0.9, "communication": 0.7, "utilization": 0.2, "documented_24h": 0.9}


def _rows(session: Session, w, kind: str, where, order) -> list[MetricRow]:
    columns = (
        w.c.goal_id,
        w.c.id.label("achievement_id"),
        w.c.customer_id,
        w.c.customer_name,
        w.c.goal_name,
        w.c.csm_name,
        w.c.achieved_at.label("at"),
        w.c.doc_hours.label("hours"),
    )
    found = session.execute(select(*columns).where(where).order_by(*order, w.c.id).limit(ROWS))
    return [MetricRow(kind=kind, **r._mapping) for r in found]


def _counts(rows: list[MetricRow]) -> dict[str, int]:
    return dict(Counter(row.kind for row in rows))


def _gaps(**counts: int) -> dict[str, int]:
    return {k: n for k, n in counts.items() if n}


def _between(hours, low: int | None, high: int | None):
    bounds = [hours.is_not(None)]
    bounds += [] if low is None else [hours > low]
    bounds += [] if high is None else [hours <= high]
    return and_(*bounds)


def success_metrics(
    *, session: Session, wins, unrecorded: list[MetricRow], now: datetime
) -> list[SuccessMetric]:
    """Return the four PRD metrics of the verified-wins subquery `wins` and the missed goals."""
    w, hours = wins, wins.c.doc_hours
    aged = now - timedelta(hours=WITHIN_HOURS)
    stale = and_(~w.c.documented, w.c.achieved_at <= aged)  # undocumented and out of time
    edges = [None, *(high for high, _ in DOC_BINS), None]
    t = session.execute(
        select(
            func.count().label("wins"),
            func.count().filter(w.c.documented).label("documented"),
            func.count().filter(w.c.emailed).label("emailed"),
            func.count().filter(w.c.used).label("used"),
            func.count().filter(hours <= WITHIN_HOURS).label("within"),
            func.count().filter(stale).label("stale"),
            func.percentile_cont(0.5).within_group(hours).label("p50"),
            func.percentile_cont(0.9).within_group(hours).label("p90"),
            *(
                func.count().filter(_between(hours, low, high)).label(f"bin{i}")
                for i, (low, high) in enumerate(pairwise(edges))
            ),
        )
    ).one()
    reached_late = [r for r in unrecorded if r.kind != "custom_overdue" and r.at <= aged]
    never = t.stale + len(reached_late)
    never_rows = _rows(session, w, "not_documented", stale, [w.c.achieved_at]) + reached_late
    slow_rows = _rows(session, w, "late", hours > WITHIN_HOURS, [hours.desc()])
    capture_rows = _rows(session, w, "not_documented", ~w.c.documented, [w.c.achieved_at.desc()])
    labels = [*(name for _, name in DOC_BINS), LAST_DOC_BIN]
    return [
        SuccessMetric(
            key="capture",
            numerator=t.documented,
            denominator=t.wins + len(unrecorded),
            target=TARGETS["capture"],
            gaps=_gaps(not_documented=t.wins - t.documented, **_counts(unrecorded)),
            rows=sorted(capture_rows + unrecorded, key=lambda r: r.at, reverse=True)[:ROWS],
        ),
        SuccessMetric(
            key="communication",
            numerator=t.emailed,
            denominator=t.wins,
            target=TARGETS["communication"],
            gaps=_gaps(not_emailed=t.wins - t.emailed),
            rows=_rows(session, w, "not_emailed", ~w.c.emailed, [w.c.achieved_at.desc()]),
        ),
        SuccessMetric(
            key="utilization",
            numerator=t.used,
            denominator=t.wins,
            target=TARGETS["utilization"],
            gaps=_gaps(used=t.used),
            rows=_rows(session, w, "used", w.c.used, [w.c.achieved_at.desc()]),
        ),
        SuccessMetric(
            key="documented_24h",
            numerator=t.within,
            denominator=t.documented + never,
            target=TARGETS["documented_24h"],
            gaps=_gaps(
                late=t.documented - t.within, not_documented=t.stale, **_counts(reached_late)
            ),
            rows=(sorted(never_rows, key=lambda r: r.at) + slow_rows)[:ROWS],
            bins=[
                *(Bin(label=name, count=t._mapping[f"bin{i}"]) for i, name in enumerate(labels)),
                Bin(label=NEVER, count=never),
            ],
            p50_hours=t.p50,
            p90_hours=t.p90,
        ),
    ]
