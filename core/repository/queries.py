"""Search, count, export and reuse documented wins in the value repository.

The repository is a reuse surface: whoever looks, its entries show what the customer's consent
allows (`core.repository.consent`, audience EXTERNAL). Search matches and highlights text whose
hidden names are already replaced, so a hidden customer's name neither matches nor shows.
"""

import html
import uuid
from datetime import date

import sqlalchemy as sa
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy import ColumnElement, String, any_, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from core.base import Role
from core.customers.models import Customer
from core.errors import Invalid
from core.formatting import MONEY_UNITS
from core.records import render
from core.records.facts import stored_facts
from core.records.models import SuccessRecord
from core.repository.consent import (
    CONSENT_ORDER,
    PLACEHOLDER,
    Audience,
    audience,
    customer_view,
    named_levels,
    proof_point,
)
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
# Private-use characters mark matches, so escaping people's text cannot forge a highlight.
START, STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20"
ENGLISH = cast("english", REGCONFIG)


def _rank(column: ColumnElement) -> ColumnElement[int]:
    return case({c: i for i, c in enumerate(CONSENT_ORDER)}, value=column)


# A customer who withdrew consent after the win was filed wins over the entry's snapshot.
CONSENT_RANK = func.least(_rank(E.consent_level), _rank(Customer.consent_level))
# Whom the repository may name: the same for every viewer (it is a reuse surface).
NAMED_RANKS = sorted(CONSENT_ORDER.index(c) for c in named_levels(Audience.EXTERNAL))
VISIBLE = CONSENT_RANK.in_(NAMED_RANKS)
# The name the entry's own success record was written under (older entries hold it in text).
RECORDED_NAME = SuccessRecord.sections["customer_name"].astext


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
    return func.websearch_to_tsquery(ENGLISH, q)


def _escaped(name: ColumnElement) -> ColumnElement[str]:
    """`name` as a regular expression (NULL for no name)."""
    return func.nullif(
        func.regexp_replace(func.trim(name), r"([][\\.^$*+?(){}|-])", r"\\\1", "g"), ""
    )


def _texts():
    """Each entry's title and snippet with its customer's names (current, recorded) and
    PLACEHOLDER replaced by the name when the repository may show it, else by PLACEHOLDER."""
    shown = case((VISIBLE, Customer.name), else_=literal(PLACEHOLDER))
    longest_first = func.length(RECORDED_NAME) >= func.length(Customer.name)
    names = case(
        (longest_first, func.concat_ws("|", _escaped(RECORDED_NAME), _escaped(Customer.name))),
        else_=func.concat_ws("|", _escaped(Customer.name), _escaped(RECORDED_NAME)),
    )
    pattern = literal(r"(?<!\w)(") + func.nullif(names, "") + literal(r")(?!\w)")
    replacement = func.replace(shown, "\\", "\\\\")  # a replacement's only special character

    def rendered(column):
        filled = func.replace(column, PLACEHOLDER, shown)
        return func.coalesce(func.regexp_replace(filled, pattern, replacement, "gi"), filled)

    # Entries written before names became placeholders may still name the customer (every
    # title and snippet written since starts with the placeholder).
    legacy = sa.or_(*(func.strpos(c, PLACEHOLDER) == 0 for c in (E.title, E.snippet)))
    return (
        select(
            E.id,
            VISIBLE.label("visible"),
            legacy.label("legacy"),
            rendered(E.title).label("title"),
            rendered(E.snippet).label("snippet"),
        )
        .join(Customer, Customer.id == E.customer_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == E.achievement_id)
        .subquery("texts")
    )


TEXTS = _texts()


def _weighted(text: ColumnElement, weight: str) -> ColumnElement:
    return func.setweight(func.to_tsvector(ENGLISH, text), sa.literal_column(f"'{weight}'"))


def _document() -> ColumnElement:
    """What search matches and ranks: no hidden customer's name is in it."""
    about = func.coalesce(E.industry, "") + " " + func.coalesce(E.use_case, "")
    redacted = (
        _weighted(TEXTS.c.title, "A")
        .op("||")(_weighted(TEXTS.c.snippet, "B"))
        .op("||")(_weighted(about, "C"))
    )
    named = E.search.op("||")(_weighted(Customer.name, "A"))
    return case((TEXTS.c.visible, named), (TEXTS.c.legacy, redacted), else_=E.search)


def _from_entries(query, *, texts: bool = True):
    """Join each entry's customer, its success record and (for text search) its rendered texts."""
    query = query.join(Customer, Customer.id == E.customer_id).outerjoin(
        SuccessRecord, SuccessRecord.achievement_id == E.achievement_id
    )
    return query.join(TEXTS, TEXTS.c.id == E.id) if texts else query


def _conditions(f: RepositoryFilters) -> list[ColumnElement[bool]]:
    ranks = [CONSENT_ORDER.index(c) for c in f.consent or ()]
    checks = (
        (f.q, lambda: _document().bool_op("@@")(_tsquery(f.q))),
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
    rank = (
        func.ts_rank_cd(_document(), _tsquery(f.q), 32) if f.q else cast(None, E.usage_count.type)
    )
    order = (rank.desc(), E.achieved_on.desc(), E.id) if f.q else (E.achieved_on.desc(), E.id)
    page = (
        _from_entries(
            select(E.id, rank.label("rank"), func.count().over().label("total")), texts=bool(f.q)
        )
        .where(*_conditions(f))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    # ts_headline is costly, so it runs on the page's rows only, over already-redacted text.
    snippet = TEXTS.c.snippet
    headline = (
        func.ts_headline(ENGLISH, snippet, _tsquery(f.q), HEADLINE_OPTIONS) if f.q else snippet
    )
    rows = session.execute(
        _from_entries(
            select(
                *(getattr(E, c) for c in _ENTRY_COLUMNS),
                Customer.name.label("customer"),
                Customer.segment,
                E.consent_level.label("entry_consent"),
                Customer.consent_level.label("customer_consent"),
                RECORDED_NAME.label("recorded_name"),
                page.c.rank,
                page.c.total,
                headline.label("raw_headline"),
            )
        )
        .join(page, page.c.id == E.id)
        .order_by(*((page.c.rank.desc().nulls_last(),) if f.q else ()), *order[-2:])
    ).all()
    if rows:
        total = rows[0].total
    else:
        count = _from_entries(select(func.count()).select_from(E), texts=bool(f.q))
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
    view = customer_view(
        Audience.EXTERNAL,
        name=row.customer,
        consent=row.customer_consent,
        entry_consent=row.entry_consent,
        segment=row.segment,
        industry=row.industry,
        former=[row.recorded_name] if row.recorded_name else (),
        customer_id=row.customer_id,
    )
    fields = {c: getattr(row, c) for c in _ENTRY_COLUMNS}
    fields |= {"title": view.text(row.title), "snippet": view.text(row.snippet)}
    return RepositoryItem(
        **fields,
        customer_name=view.name,
        customer_label=view.label,
        headline=_headline_html(view.text(row.raw_headline)),
        proof_point=proof_point(row, view),
        consent_level=view.consent,
        rank=None if row.rank is None else float(row.rank),
    )


def _headline_html(raw: str) -> str:
    return html.escape(raw).replace(START, "<mark>").replace(STOP, "</mark>")


def record_markdown(
    *, session: Session, entry_ids, viewer: Role | None = None
) -> dict[uuid.UUID, str]:
    """Return the success record of each entry that has one, as Markdown `viewer` may read.

    CS staff read the whole record (the customer's current name); sales and marketing read it
    with consent applied (`viewer` None: an internal caller). The record is rendered afresh from
    the facts it was written from, so people's text in it is escaped; a record too old to have
    its facts is left out.
    """
    seen_by = audience(viewer)
    rows = session.execute(
        select(
            E.id,
            SuccessRecord.sections,
            Customer.name,
            Customer.segment,
            Customer.industry,
            Customer.consent_level,
            E.consent_level.label("entry_consent"),
        )
        .join(SuccessRecord, SuccessRecord.achievement_id == E.achievement_id)
        .join(Customer, Customer.id == E.customer_id)
        .where(E.id.in_(list(entry_ids)))
    )
    found = {}
    for row in rows:
        try:
            facts = stored_facts(row.sections)
        except (KeyError, TypeError, ValueError):
            continue
        view = customer_view(
            seen_by,
            name=row.name,
            consent=row.consent_level,
            entry_consent=row.entry_consent,
            segment=row.segment,
            industry=row.industry,
            former=[facts.customer_name],
        )
        found[row.id] = render.markdown(view.facts(facts))
    return found


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
        _from_entries(
            select(
                E.industry,
                quarter.label("quarter"),
                E.goal_type,
                func.count().label("count"),
                func.coalesce(func.sum(E.value_amount).filter(dollars), 0).label("value"),
                func.grouping(E.industry, quarter, E.goal_type).label("grouping"),
            ),
            texts=bool(f.q),
        )
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
