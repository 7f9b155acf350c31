"""The value repository at a glance: wins and dollars by industry, quarter and goal type, and
the values its filters can offer."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session

from core.formatting import MONEY_UNITS
from core.repository.models import RepositoryEntry as E
from core.repository.queries import (
    bound_values,
    conditions,
    from_entries,
    planned_per_search,
    validated,
)
from core.repository.schemas import (
    AggregateRow,
    QuarterRow,
    RepositoryAggregates,
    RepositoryOptions,
)


def aggregates(
    *,
    session: Session,
    q=None,
    industry=None,
    use_case=None,
    product=None,
    goal_type=None,
    date_from=None,
    date_to=None,
    value_min=None,
    value_max=None,
    consent=None,
) -> RepositoryAggregates:
    """Count wins and sum their dollar value by industry, by quarter and by goal type."""
    f = validated(
        q=q,
        industry=industry,
        use_case=use_case,
        product=product,
        goal_type=goal_type,
        date_from=date_from,
        date_to=date_to,
        value_min=value_min,
        value_max=value_max,
        consent=consent,
    )
    start = func.date_trunc(sa.literal_column("'quarter'"), cast(E.achieved_on, sa.DateTime))
    quarter = cast(start, sa.Date)
    dollars = func.upper(func.coalesce(E.value_unit, "")).in_(MONEY_UNITS)
    with planned_per_search(session, f):
        rows = session.execute(
            from_entries(
                select(
                    E.industry,
                    quarter.label("quarter"),
                    E.goal_type,
                    func.count().label("count"),
                    func.coalesce(func.sum(E.value_amount).filter(dollars), 0).label("value"),
                    func.grouping(E.industry, quarter, E.goal_type).label("grouping"),
                )
            )
            .where(*conditions(bound_values(f)))
            .group_by(func.grouping_sets(E.industry, quarter, E.goal_type))
        ).all()
    # grouping() sets a bit per column *not* grouped: industry=4, quarter=2, goal type=1.
    sets = {3: [], 5: [], 6: []}
    for row in rows:
        sets[row.grouping].append(row)
    by_count = lambda r: (-r.count, str(r.label))  # noqa: E731
    return RepositoryAggregates(
        total=sum(r.count for r in sets[3]),
        by_industry=sorted((_agg(r.industry, r) for r in sets[3]), key=by_count),
        by_quarter=_quarters({r.quarter: r for r in sets[5]}),
        by_goal_type=sorted((_agg(r.goal_type.value, r) for r in sets[6]), key=by_count),
    )


def _agg(label: str, row) -> AggregateRow:
    return AggregateRow(label=label, count=row.count, value_total=row.value)


def _quarters(found: dict) -> list[QuarterRow]:
    """Return one row per quarter from the first to the last found, zero where nothing was won."""
    if not found:
        return []
    day, last, out = min(found), max(found), []
    while day <= last:
        row = found.get(day)
        out.append(
            QuarterRow(
                quarter=day,
                label=f"{day.year} Q{(day.month - 1) // 3 + 1}",
                count=row.count if row else 0,
                value_total=row.value if row else 0,
            )
        )
        day = date(day.year + (day.month == 10), (day.month + 2) % 12 + 1, 1)
    return out


def filter_options(*, session: Session) -> RepositoryOptions:
    """Return how many entries exist and the industries, use cases, products, goal types present."""
    product = func.unnest(E.products).label("product")
    return RepositoryOptions(
        entries=session.scalar(select(func.count()).select_from(E)) or 0,
        industries=session.scalars(select(E.industry).distinct().order_by(E.industry)).all(),
        use_cases=session.scalars(
            select(E.use_case).where(E.use_case.is_not(None)).distinct().order_by(E.use_case)
        ).all(),
        products=session.scalars(select(product).distinct().order_by(product)).all(),
        goal_types=session.scalars(select(E.goal_type).distinct().order_by(E.goal_type)).all(),
    )
