"""Search, count, export and reuse documented wins in the value repository.

The repository is a reuse surface: whoever looks, its entries show what the customer's consent
allows (`core.repository.consent`, audience EXTERNAL). Each entry stores a name-free search
vector (`search_text`: every name of its customer replaced) and its customer's name
(`search_name`), both kept current by database triggers (migration 0019) for every writer.
Search matches and ranks `search_text`, plus `search_name` only while consent allows naming the
customer (checked here, on every search), so a hidden customer's name never matches; highlights
are drawn on text whose hidden names are already replaced, so it never shows either.

A search that matches more than `CAP` entries ranks only the `CAP` newest of them (the cheap
pre-order an index gives) and reports its total as capped ("1,000+"), so a query matching
almost every entry costs what a narrow one does.
"""

import html
import uuid
from datetime import date

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy import (
    ARRAY,
    REAL,
    ColumnElement,
    String,
    Text,
    any_,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.orm import Session, aliased

from core import paging
from core.base import Role
from core.customers.models import Customer
from core.errors import Invalid
from core.formatting import MONEY_UNITS
from core.records import render
from core.records.facts import stored_facts
from core.records.models import SuccessRecord
from core.repository import headline as headlines
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
from core.schemas import problems_text

MAX_LIMIT = 500
CAP = 1000  # matches ranked and counted at most; a total beyond it reads "1,000+"
# Private-use characters mark matches, so escaping people's text cannot forge a highlight.
START, STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20"
ENGLISH = cast("english", REGCONFIG)


def _rank(column: ColumnElement) -> ColumnElement[int]:
    return case({c: i for i, c in enumerate(CONSENT_ORDER)}, value=column)


def _named_levels() -> list:
    """Return the consent levels whose customers the repository names, broadest last."""
    # The same for every viewer (it is a reuse surface). More consent must never name less:
    # then the stricter of two levels names the customer exactly when both do, two plain column
    # tests the planner estimates from statistics.
    named = [c for c in CONSENT_ORDER if c in named_levels(Audience.EXTERNAL)]
    if list(CONSENT_ORDER[len(CONSENT_ORDER) - len(named) :]) != named:
        raise RuntimeError("a consent level names the customer while a broader one does not")
    return named


NAMED_LEVELS = _named_levels()
# The name the entry's own success record was written under (older entries hold it in text).
RECORDED_NAME = SuccessRecord.sections["customer_name"].astext
NEWEST_FIRST = (E.achieved_on.desc(), E.id)
# A search matching more than CAP entries walks the newest entries until CAP match, at most
# this many (dense matches); sparser ones are looked up in the indexes and sorted.
WALK = 20 * CAP


def _visible(entry=E, consent: ColumnElement = Customer.consent_level) -> ColumnElement[bool]:
    """Say whether the repository may name the entry's customer, whose consent is `consent`."""
    return sa.and_(entry.consent_level.in_(NAMED_LEVELS), consent.in_(NAMED_LEVELS))


VISIBLE = _visible()


def _validated(**kwargs) -> RepositoryFilters:
    try:
        return RepositoryFilters(**kwargs)
    except ValidationError as exc:
        raise Invalid(problems_text(exc)) from None


def _tsquery(q: str) -> ColumnElement:
    return func.websearch_to_tsquery(ENGLISH, q)


def _escaped(name: ColumnElement) -> ColumnElement[str]:
    """`name` as a regular expression (NULL for no name)."""
    return func.nullif(
        func.regexp_replace(func.trim(name), r"([][\\.^$*+?(){}|-])", r"\\\1", "g"), ""
    )


def _texts():
    """Return each entry's snippet with its customer's names and PLACEHOLDER as shown here."""
    # The names (current, recorded) and PLACEHOLDER become the name when the repository may
    # show it, else PLACEHOLDER. Costly (regular expressions per row): only a page's rows are
    # read through it.
    shown = case((VISIBLE, Customer.name), else_=literal(PLACEHOLDER))
    longest_first = func.length(RECORDED_NAME) >= func.length(Customer.name)
    names = case(
        (longest_first, func.concat_ws("|", _escaped(RECORDED_NAME), _escaped(Customer.name))),
        else_=func.concat_ws("|", _escaped(Customer.name), _escaped(RECORDED_NAME)),
    )
    pattern = literal(r"(?<!\w)(") + func.nullif(names, "") + literal(r")(?!\w)")
    replacement = func.replace(shown, "\\", "\\\\")  # a replacement's only special character
    filled = func.replace(E.snippet, PLACEHOLDER, shown)
    snippet = func.coalesce(func.regexp_replace(filled, pattern, replacement, "gi"), filled)
    return (
        select(E.id, snippet.label("snippet"))
        .join(Customer, Customer.id == E.customer_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == E.achievement_id)
        .subquery("texts")
    )


TEXTS = _texts()


def _document(visible: ColumnElement[bool], text, name) -> ColumnElement:
    """Return what search ranks: the name-free text, plus the name only when `visible`."""
    return case((visible, text.op("||")(name)), else_=text)


# A lexeme as tsquery's text output quotes it (a quote inside is doubled).
LEXEME = r"('(?:[^']|'')*')"


def _any_word(query: ColumnElement) -> ColumnElement:
    """Return a tsquery matching any lexeme of `query`, whatever its operators."""
    found = func.regexp_matches(cast(query, Text), LEXEME, "g", type_=ARRAY(Text))
    words = select(func.string_agg(found.column_valued("m")[1], " | ")).scalar_subquery()
    return cast(func.coalesce(words, ""), TSQUERY)


def _matches(q: str, entry, consent: ColumnElement) -> ColumnElement[bool]:
    """Match the name-free text, plus the customer's name where the repository may name them."""
    # Only where the name holds a word of the query can it change the answer, so the stored
    # text alone decides everywhere else; each test has a GIN index (models.py).
    query = _tsquery(q)
    text = entry.search_text.bool_op("@@")(query)
    shares = entry.search_name.bool_op("@@")(_any_word(query))
    named = entry.search_text.op("||")(entry.search_name).bool_op("@@")(query)
    visible = _visible(entry, consent)
    return sa.or_(
        sa.and_(text, sa.or_(sa.not_(shares), sa.not_(visible))),
        sa.and_(shares, visible, named),
    )


def _planned_per_search(session: Session, f: RepositoryFilters) -> None:
    """Plan this transaction's statements for their own words, never from a cached plan."""
    # The best plan depends on how many entries the words match; a plan cached for other words
    # (psycopg prepares a statement run five times) can be many times slower.
    if f.q:
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _from_entries(query, entry=E):
    """Join each entry's customer (its name, its consent)."""
    return query.join(Customer, Customer.id == entry.customer_id)


def _conditions(
    f: RepositoryFilters, entry=E, consent: ColumnElement = Customer.consent_level
) -> list[ColumnElement[bool]]:
    """Return what an entry (its customer's consent `consent`) must meet to match `f`."""
    # A customer who withdrew consent after the win was filed wins over the entry's snapshot.
    stricter = func.least(_rank(entry.consent_level), _rank(consent))
    ranks = [CONSENT_ORDER.index(c) for c in f.consent or ()]
    checks = (
        (f.q, lambda: _matches(f.q, entry, consent)),
        (f.industry, lambda: entry.industry == f.industry),
        (f.use_case, lambda: entry.use_case == f.use_case),
        (f.product, lambda: literal(f.product, String) == any_(entry.products)),
        (f.goal_type, lambda: entry.goal_type == f.goal_type),
        (f.date_from, lambda: entry.achieved_on >= f.date_from),
        (f.date_to, lambda: entry.achieved_on <= f.date_to),
        (f.value_min, lambda: entry.value_amount >= f.value_min),
        (f.value_max, lambda: entry.value_amount <= f.value_max),
        (f.consent, lambda: stricter.in_(ranks)),
    )
    return [build() for value, build in checks if value is not None]


def _count(session: Session, f: RepositoryFilters) -> int:
    """Return how many entries match, counting no further than CAP + 1."""
    matching = _from_entries(select(E.id)).where(*_conditions(f)).limit(CAP + 1)
    return session.scalar(select(func.count()).select_from(matching.subquery())) or 0


# What a walk reads of each entry: what matching, filtering and ranking need.
_WALKED = (
    "id",
    "achieved_on",
    "customer_id",
    "consent_level",
    "search_text",
    "search_name",
    "industry",
    "use_case",
    "products",
    "goal_type",
    "value_amount",
)


def _bounded(f: RepositoryFilters, matched: int):
    """Return the entries a search ranks: every match, or the CAP newest when more match."""
    columns = (E.id, E.achieved_on, E.search_text, E.search_name, _visible().label("visible"))
    every = _from_entries(select(*columns)).where(*_conditions(f))
    if matched <= CAP:
        return every.subquery("bounded")
    # Dense words: walk the WALK newest entries in date order until CAP match. Nothing is
    # joined (the customer's consent is looked up per row, only where the text alone does not
    # decide), so the walk stops as soon as it has them.
    recent = select(*(getattr(E, c) for c in _WALKED)).order_by(*NEWEST_FIRST).limit(WALK)
    r = aliased(E, recent.subquery("recent"))
    consent = select(Customer.consent_level).where(Customer.id == r.customer_id)
    consent = consent.scalar_subquery()
    walk = (
        select(
            r.id, r.achieved_on, r.search_text, r.search_name, _visible(r, consent).label("visible")
        )
        .where(*_conditions(f, r, consent))
        .order_by(r.achieved_on.desc(), r.id)
        .limit(CAP)
        .cte("walk")
    )
    # Sparser words (the walk found fewer): the text indexes find them all, then a sort. One
    # statement either way; the fallback runs only when the walk came up short.
    walked = select(func.count()).select_from(walk).scalar_subquery()
    fallback = every.where(walked < CAP).order_by(*NEWEST_FIRST).limit(CAP).subquery()
    return sa.union_all(select(walk).where(walked == CAP), select(fallback)).subquery("bounded")


NEWEST = "repository.newest"
BEST = "repository.best"
_NEWEST_KEY = (date.fromisoformat, uuid.UUID)
_BEST_KEY = (float, date.fromisoformat, uuid.UUID)


def _window(f: RepositoryFilters, matched: int, *, limit: int, offset: int, cursor: str | None):
    """Return the ids of the page (and one more) with their rank, in order."""
    # Without a query: every match, newest first. With one: the bounded matches ranked by
    # relevance; rank, then newest, then id break ties.
    if not f.q:
        order = ((E.achieved_on, True), (E.id, False))
        key = paging.decode(cursor, NEWEST, _NEWEST_KEY) if cursor else None
        page = _from_entries(select(E.id, cast(None, REAL).label("rank"))).where(*_conditions(f))
    else:
        bounded = _bounded(f, matched)
        # Ranked outside the bounded set, so only its rows are ever ranked.
        rank = func.ts_rank_cd(
            _document(bounded.c.visible, bounded.c.search_text, bounded.c.search_name),
            _tsquery(f.q),
            32,
        )
        ranked = select(bounded.c.id, bounded.c.achieved_on, rank.label("rank")).subquery("ranked")
        order = ((ranked.c.rank, True), (ranked.c.achieved_on, True), (ranked.c.id, False))
        key = paging.decode(cursor, BEST, _BEST_KEY) if cursor else None
        if key:
            key = (cast(key[0], REAL), *key[1:])  # compared as stored: a 4-byte float
        page = select(ranked.c.id, ranked.c.rank)
    page = page.where(paging.after(order, key)) if key else page
    sort = [c.desc() if descending else c for c, descending in order]
    return page.order_by(*sort).limit(limit + 1).offset(offset).subquery("window")


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
    cursor: str | None = None,
) -> RepositoryPage:
    """Return one page of matching entries (best text match first, else newest) and the total."""
    # The total stops counting past CAP (`total_capped`), and a search then ranks the CAP
    # newest matches; `next_cursor` continues after the page.
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
    paging.start(cursor=cursor, offset=offset)
    _planned_per_search(session, f)
    matched = _count(session, f)
    if not matched:
        return RepositoryPage(total=0, items=[])
    window = _window(f, matched, limit=limit, offset=offset, cursor=cursor)
    # ts_headline is costly, so it runs on the page's rows only, over already-redacted text.
    snippet = TEXTS.c.snippet
    headline = (
        func.ts_headline(ENGLISH, snippet, _tsquery(f.q), HEADLINE_OPTIONS) if f.q else snippet
    )
    sort = (window.c.rank.desc(), *NEWEST_FIRST) if f.q else NEWEST_FIRST
    rows = session.execute(
        _from_entries(
            select(
                *(getattr(E, c) for c in _ENTRY_COLUMNS),
                Customer.name.label("customer"),
                Customer.segment,
                E.consent_level.label("entry_consent"),
                Customer.consent_level.label("customer_consent"),
                RECORDED_NAME.label("recorded_name"),
                window.c.rank,
                headline.label("raw_headline"),
                snippet.label("shown_snippet"),
            )
        )
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == E.achievement_id)
        .join(TEXTS, TEXTS.c.id == E.id)
        .join(window, window.c.id == E.id)
        .order_by(*sort)
    ).all()
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if more else None
    key = last and ((last.rank, last.achieved_on, last.id) if f.q else (last.achieved_on, last.id))
    return RepositoryPage(
        total=min(matched, CAP),
        total_capped=matched > CAP,
        next_cursor=paging.encode(BEST if f.q else NEWEST, key) if key else None,
        items=[_item(r) for r in rows],
    )


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
        headline=_headline_html(
            view.text(headlines.tidy(row.raw_headline, row.shown_snippet, marks=(START, STOP)))
        ),
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
    _planned_per_search(session, f)
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
            )
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
