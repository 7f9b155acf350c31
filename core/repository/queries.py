"""Search, count, export and reuse documented wins in the value repository."""

import html
import uuid
from datetime import date

import sqlalchemy as sa
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy import ColumnElement, String, any_, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from core.base import Consent
from core.customers.models import Customer
from core.errors import Invalid
from core.formatting import MONEY_UNITS
from core.records.models import SuccessRecord
from core.repository.consent import NAMED, customer_label, scrub_name, snippet_text
from core.repository.models import RepositoryEntry as E
from core.repository.schemas import (
    AggregateRow,
    QuarterRow,
    RepositoryAggregates,
    RepositoryFilters,
    RepositoryItem,
    RepositoryOptions,
    RepositoryPage,
)

MAX_LIMIT = 500
CONSENT_ORDER = (Consent.INTERNAL_ONLY, Consent.ANONYMIZED, Consent.LOGO, Consent.FULL_PUBLIC)
# Private-use characters mark matches, so escaping people's text cannot forge a highlight.
START, STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20"


def _rank(column: ColumnElement) -> ColumnElement[int]:
    return case({c: i for i, c in enumerate(CONSENT_ORDER)}, value=column)


# A customer who withdrew consent after the win was filed wins over the entry's snapshot.
CONSENT_RANK = func.least(_rank(E.consent_level), _rank(Customer.consent_level))


def _validated(**kwargs) -> RepositoryFilters:
    try:
        return RepositoryFilters(**kwargs)
    except ValidationError as exc:
        problems = [
            f"{to_camel(str(e['loc'][0]))}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise Invalid("; ".join(problems)) from None


def _tsquery(q: str) -> ColumnElement:
    return func.websearch_to_tsquery(cast("english", REGCONFIG), q)


def _conditions(f: RepositoryFilters) -> list[ColumnElement[bool]]:
    ranks = [CONSENT_ORDER.index(c) for c in f.consent or ()]
    checks = (
        (f.q, lambda: E.search.bool_op("@@")(_tsquery(f.q))),
        (f.industry, lambda: E.industry == f.industry),
        (f.use_case, lambda: E.use_case == f.use_case),
        (f.product, lambda: literal(f.product, String) == any_(E.products)),
        (f.goal_type, lambda: E.goal_type == f.goal_type),
        (f.date_from, lambda: E.achieved_on >= f.date_from),
        (f.date_to, lambda: E.achieved_on <= f.date_to),
        (f.value_min, lambda: E.value_amount >= f.value_min),
        (f.value_max, lambda: E.value_amount <= f.value_max),
        (f.consent, lambda: CONSENT_RANK.in_(ranks)),
    )
    return [build() for value, build in checks if value is not None]


def search_entries(
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
    limit: int = 20,
    offset: int = 0,
) -> RepositoryPage:
    """Return one page of matching entries (best text match first, else newest) and the total."""
    f = _validated(
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
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise Invalid(f"limit must be 1-{MAX_LIMIT} and offset 0 or more.")
    rank = func.ts_rank_cd(E.search, _tsquery(f.q), 32) if f.q else cast(None, E.usage_count.type)
    order = (rank.desc(), E.achieved_on.desc(), E.id) if f.q else (E.achieved_on.desc(), E.id)
    page = (
        select(E.id, rank.label("rank"), func.count().over().label("total"))
        .join(Customer, Customer.id == E.customer_id)
        .where(*_conditions(f))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    # ts_headline is costly, so it runs on the page's rows only, not on every match.
    headline = (
        func.ts_headline(cast("english", REGCONFIG), E.snippet, _tsquery(f.q), HEADLINE_OPTIONS)
        if f.q
        else E.snippet
    )
    rows = session.execute(
        select(
            *(getattr(E, c) for c in _ENTRY_COLUMNS),
            Customer.name.label("customer"),
            Customer.segment,
            CONSENT_RANK.label("consent_rank"),
            page.c.rank,
            page.c.total,
            headline.label("raw_headline"),
        )
        .join(page, page.c.id == E.id)
        .join(Customer, Customer.id == E.customer_id)
        .order_by(*((page.c.rank.desc().nulls_last(),) if f.q else ()), *order[-2:])
    ).all()
    if rows:
        total = rows[0].total
    else:
        count = select(func.count()).select_from(E).join(Customer, Customer.id == E.customer_id)
        total = session.scalar(count.where(*_conditions(f))) if offset else 0
    return RepositoryPage(total=total or 0, items=[_item(r) for r in rows])


_ENTRY_COLUMNS = (
    "id",
    "achievement_id",
    "customer_id",
    "title",
    "snippet",
    "industry",
    "use_case",
    "products",
    "goal_type",
    "value_amount",
    "value_unit",
    "achieved_on",
    "usage_count",
    "last_used_at",
)


def _item(row) -> RepositoryItem:
    consent = CONSENT_ORDER[row.consent_rank]
    named = consent in NAMED
    hide = None if named else row.customer
    fields = {c: getattr(row, c) for c in _ENTRY_COLUMNS}
    fields |= {"title": scrub_name(row.title, hide), "snippet": scrub_name(row.snippet, hide)}
    label = customer_label(row.customer, consent, segment=row.segment, industry=row.industry)
    return RepositoryItem(
        **fields,
        customer_name=row.customer if named else None,
        customer_label=label,
        headline=_headline_html(scrub_name(row.raw_headline, hide)),
        proof_point=snippet_text(row, row.customer, consent, segment=row.segment),
        consent_level=consent,
        rank=None if row.rank is None else float(row.rank),
    )


def _headline_html(raw: str) -> str:
    return html.escape(raw).replace(START, "<mark>").replace(STOP, "</mark>")


def record_markdown(*, session: Session, entry_ids) -> dict[uuid.UUID, str]:
    """Return the success record's markdown of each entry that has one."""
    rows = session.execute(
        select(E.id, SuccessRecord.markdown)
        .join(SuccessRecord, SuccessRecord.achievement_id == E.achievement_id)
        .where(E.id.in_(list(entry_ids)))
    )
    return {row.id: row.markdown for row in rows}


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
    f = _validated(
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
    rows = session.execute(
        select(
            E.industry,
            quarter.label("quarter"),
            E.goal_type,
            func.count().label("count"),
            func.coalesce(func.sum(E.value_amount).filter(dollars), 0).label("value"),
            func.grouping(E.industry, quarter, E.goal_type).label("grouping"),
        )
        .join(Customer, Customer.id == E.customer_id)
        .where(*_conditions(f))
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
