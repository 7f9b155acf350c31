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
almost every entry costs what a narrow one does. A search is one statement (count, newest
matches, ranks, page and highlights), built once per set of filters in use and run unprepared,
so each search is planned for its own words at one round trip.
"""

import functools
import html
import uuid
from contextlib import contextmanager
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
    RepositoryFilters,
    RepositoryItem,
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
# this many (dense matches); sparser ones are looked up in the indexes and sorted. How many
# of the PROBE newest entries match tells dense words without counting.
WALK = 20 * CAP
PROBE = WALK // 20


def _visible(entry=E, consent: ColumnElement = Customer.consent_level) -> ColumnElement[bool]:
    """Say whether the repository may name the entry's customer, whose consent is `consent`."""
    return sa.and_(entry.consent_level.in_(NAMED_LEVELS), consent.in_(NAMED_LEVELS))


VISIBLE = _visible()


def validated(**kwargs) -> RepositoryFilters:
    try:
        return RepositoryFilters(**kwargs)
    except ValidationError as exc:
        raise Invalid(problems_text(exc)) from None


def _tsquery(q) -> ColumnElement:
    return func.websearch_to_tsquery(ENGLISH, q)


def _escaped(name: ColumnElement) -> ColumnElement[str]:
    """`name` as a regular expression (NULL for no name)."""
    return func.nullif(
        func.regexp_replace(func.trim(name), r"([][\\.^$*+?(){}|-])", r"\\\1", "g"), ""
    )


def _shown_snippet() -> ColumnElement[str]:
    """Return the entry's snippet with its customer's names and PLACEHOLDER as shown here."""
    # Over an entry joined to its customer and (outer) its success record. The names (current,
    # recorded) and PLACEHOLDER become the name when the repository may show it, else
    # PLACEHOLDER. Costly (regular expressions per row): only a page's rows are read through it.
    shown = case((VISIBLE, Customer.name), else_=literal(PLACEHOLDER))
    longest_first = func.length(RECORDED_NAME) >= func.length(Customer.name)
    names = case(
        (longest_first, func.concat_ws("|", _escaped(RECORDED_NAME), _escaped(Customer.name))),
        else_=func.concat_ws("|", _escaped(Customer.name), _escaped(RECORDED_NAME)),
    )
    pattern = literal(r"(?<!\w)(") + func.nullif(names, "") + literal(r")(?!\w)")
    replacement = func.replace(shown, "\\", "\\\\")  # a replacement's only special character
    filled = func.replace(E.snippet, PLACEHOLDER, shown)
    return func.coalesce(func.regexp_replace(filled, pattern, replacement, "gi"), filled)


def _document(visible: ColumnElement[bool], text, name, query) -> ColumnElement:
    """Return what search ranks: the name-free text, plus the name only when `visible`."""
    # A name holding no word of `query` leaves the rank as it is (cover density reads only the
    # query's words, and normalization 32 ignores length), so only such names are joined on.
    shares = name.bool_op("@@")(_any_word(query))
    return case((sa.and_(visible, shares), text.op("||")(name)), else_=text)


# A lexeme as tsquery's text output quotes it (a quote inside is doubled).
LEXEME = r"('(?:[^']|'')*')"


def _any_word(query: ColumnElement) -> ColumnElement:
    """Return a tsquery matching any lexeme of `query`, whatever its operators."""
    # Cast inside the subquery: the database then reads the query once, not once per row.
    found = func.regexp_matches(cast(query, Text), LEXEME, "g", type_=ARRAY(Text))
    words = func.string_agg(found.column_valued("m")[1], " | ")
    return select(cast(func.coalesce(words, ""), TSQUERY)).scalar_subquery()


def _matches(q, entry, consent: ColumnElement) -> ColumnElement[bool]:
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


@contextmanager
def planned_per_search(session: Session, f: RepositoryFilters):
    """Plan the statements run meanwhile for their own words, never from a cached plan."""
    # The best plan depends on how many entries the words match; a plan cached for other words
    # (psycopg prepares a statement run five times) can be many times slower. An unprepared
    # statement is planned for the values it is run with, at no extra round trip.
    driver = session.connection().connection.dbapi_connection
    threshold = driver.prepare_threshold
    if f.q:
        driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def from_entries(query, entry=E):
    """Join each entry's customer (its name, its consent)."""
    return query.join(Customer, Customer.id == entry.customer_id)


def bound_values(f: RepositoryFilters) -> dict:
    """Return each filter `f` sets as the value its condition compares (consent as ranks)."""
    values = {name: getattr(f, name) for name in RepositoryFilters.model_fields}
    values = {name: value for name, value in values.items() if value is not None}
    if "consent" in values:
        values["consent"] = [CONSENT_ORDER.index(c) for c in values["consent"]]
    return values


def conditions(
    values: dict, entry=E, consent: ColumnElement = Customer.consent_level
) -> list[ColumnElement[bool]]:
    """Return what an entry (its customer's consent `consent`) must meet to match `values`."""
    # A customer who withdrew consent after the win was filed wins over the entry's snapshot.
    stricter = func.least(_rank(entry.consent_level), _rank(consent))
    checks = {
        "q": lambda v: _matches(v, entry, consent),
        "industry": lambda v: entry.industry == v,
        "use_case": lambda v: entry.use_case == v,
        "product": lambda v: (
            (v if isinstance(v, ColumnElement) else literal(v, String)) == any_(entry.products)
        ),
        "goal_type": lambda v: entry.goal_type == v,
        "date_from": lambda v: entry.achieved_on >= v,
        "date_to": lambda v: entry.achieved_on <= v,
        "value_min": lambda v: entry.value_amount >= v,
        "value_max": lambda v: entry.value_amount <= v,
        "consent": lambda v: stricter.in_(v),
    }
    return [build(values[name]) for name, build in checks.items() if name in values]


# Bound parameters of the search statement, which is built once per set of filters in use
# (building it costs more than the database's answer) and run with each search's values.
_TYPES = {
    "q": String(),
    "industry": String(),
    "use_case": String(),
    "product": String(),
    "goal_type": E.goal_type.type,
    "date_from": sa.Date(),
    "date_to": sa.Date(),
    "value_min": E.value_amount.type,
    "value_max": E.value_amount.type,
}
_CAP = sa.bindparam("cap", type_=sa.Integer)
_COUNTED = sa.bindparam("counted", type_=sa.Integer)  # CAP + 1: enough to tell "more than CAP"
_WALK = sa.bindparam("walk", type_=sa.Integer)
_PROBE = sa.bindparam("probe", type_=sa.Integer)
_ROWS = sa.bindparam("rows", type_=sa.Integer)  # the page's rows and one more
_OFFSET = sa.bindparam("offset", type_=sa.Integer)


def _bound(names: tuple[str, ...]) -> dict:
    """Return a bound parameter for each filter named, as `conditions` compares it."""
    return {
        name: sa.bindparam(name, type_=sa.Integer, expanding=True)
        if name == "consent"
        else sa.bindparam(name, type_=_TYPES[name])
        for name in names
    }


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


def _recent(rows: ColumnElement[int]):
    """Return the `rows` newest entries (what a walk reads) and each one's customer's consent."""
    recent = select(*(getattr(E, c) for c in _WALKED)).order_by(*NEWEST_FIRST).limit(rows)
    r = aliased(E, recent.subquery())
    # Looked up per row, and only where the text alone does not decide: nothing is joined, so
    # a walk stops as soon as it has what it needs.
    consent = select(Customer.consent_level).where(Customer.id == r.customer_id)
    return r, consent.scalar_subquery()


def _newest(values: dict):
    """Return the CAP + 1 newest matches (every match when fewer), as a CTE."""
    # Dense words: walk the WALK newest entries in date order until CAP + 1 match. Words are
    # dense when the PROBE newest entries promise twice that many within WALK; else when more
    # than CAP match in all (a count, stopping at CAP + 1). Sparser words, or a walk that came
    # up short: the text indexes find every match, then a sort. Each branch runs only when its
    # condition holds (a one-time filter); whichever runs, the rows are the same.
    p, p_consent = _recent(_PROBE)
    hits = select(func.count()).select_from(
        select(p.id).where(*conditions(values, p, p_consent)).subquery()
    )
    counted = from_entries(select(E.id)).where(*conditions(values)).limit(_COUNTED)
    matched = select(func.count()).select_from(counted.subquery()).scalar_subquery()
    dense = hits.scalar_subquery() * _WALK >= 2 * _COUNTED * _PROBE
    walking = case((dense, sa.true()), else_=matched > _CAP)  # counts only when not dense
    r, consent = _recent(_WALK)
    walk = (
        select(
            r.id, r.achieved_on, r.search_text, r.search_name, _visible(r, consent).label("visible")
        )
        .where(walking, *conditions(values, r, consent))
        .order_by(r.achieved_on.desc(), r.id)
        .limit(_COUNTED)
        .cte("walk")
    )
    walked = select(func.count()).select_from(walk).scalar_subquery()
    columns = (E.id, E.achieved_on, E.search_text, E.search_name, _visible().label("visible"))
    every = (
        from_entries(select(*columns))
        .where(walked < _COUNTED, *conditions(values))
        .order_by(*NEWEST_FIRST)
        .limit(_COUNTED)
    )
    return sa.union_all(select(walk).where(walked == _COUNTED), select(every.subquery())).cte(
        "newest"
    )


NEWEST = "repository.newest"
BEST = "repository.best"
_NEWEST_KEY = (date.fromisoformat, uuid.UUID)
_BEST_KEY = (float, date.fromisoformat, uuid.UUID)
# A cursor's key, bound as its column is stored (the rank: a 4-byte float).
_AFTER_RANK = sa.bindparam("after_rank", type_=REAL)
_AFTER_DAY = sa.bindparam("after_day", type_=sa.Date)
_AFTER_ID = sa.bindparam("after_id", type_=sa.Uuid)


def _window(values: dict, *, keyed: bool):
    """Return the ids of the page (and one more) with their rank, in order, and the count."""
    # Without a query: every match, newest first. With one: the CAP newest matches ranked by
    # relevance; rank, then newest, then id break ties. The count stops at CAP + 1.
    if "q" not in values:
        counted = from_entries(select(E.id)).where(*conditions(values)).limit(_COUNTED)
        matched = select(func.count().label("n")).select_from(counted.subquery())
        order = ((E.achieved_on, True), (E.id, False))
        key = (_AFTER_DAY, _AFTER_ID)
        page = from_entries(select(E.id, cast(None, REAL).label("rank")))
        page = page.where(*conditions(values))
    else:
        newest = _newest(values)
        matched = select(func.count().label("n")).select_from(newest)
        day, entry = newest.c.achieved_on, newest.c.id
        bounded = select(newest).order_by(day.desc(), entry).limit(_CAP).subquery("bounded")
        # Ranked outside the bounded set, so only its rows are ever ranked.
        query = _tsquery(values["q"])
        document = _document(bounded.c.visible, bounded.c.search_text, bounded.c.search_name, query)
        rank = func.ts_rank_cd(document, query, 32)
        ranked = select(bounded.c.id, bounded.c.achieved_on, rank.label("rank")).subquery("ranked")
        order = ((ranked.c.rank, True), (ranked.c.achieved_on, True), (ranked.c.id, False))
        key = (cast(_AFTER_RANK, REAL), _AFTER_DAY, _AFTER_ID)
        page = select(ranked.c.id, ranked.c.rank)
    page = page.where(paging.after(order, key)) if keyed else page
    sort = [c.desc() if descending else c for c, descending in order]
    window = page.order_by(*sort).limit(_ROWS).offset(_OFFSET).subquery("window")
    return window, matched.cte("matched")


@functools.cache
def _statement(names: tuple[str, ...], *, keyed: bool) -> sa.Select:
    """Return the one statement a search with filters `names` (and a cursor when `keyed`) runs."""
    # A single row with the count and NULL columns when the page is empty, else one row per
    # entry of the page (and one more), each carrying the count of matches up to CAP + 1.
    values = _bound(names)
    window, matched = _window(values, keyed=keyed)
    snippet = _shown_snippet()
    # ts_headline is costly, so it runs on the page's rows only, over already-redacted text.
    q = values.get("q")
    headline = (
        snippet if q is None else func.ts_headline(ENGLISH, snippet, _tsquery(q), HEADLINE_OPTIONS)
    )
    page = (
        sa.join(E, Customer, Customer.id == E.customer_id)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == E.achievement_id)
        .join(window, window.c.id == E.id)
    )
    sort = NEWEST_FIRST if q is None else (window.c.rank.desc(), *NEWEST_FIRST)
    return (
        select(
            matched.c.n.label("matched"),
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
        .select_from(matched.outerjoin(page, sa.true()))
        .order_by(*sort)
    )


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
    # newest matches; `next_cursor` continues after the page. One statement, one round trip.
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
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise Invalid(f"limit must be 1-{MAX_LIMIT} and offset 0 or more.")
    paging.start(cursor=cursor, offset=offset)
    values = bound_values(f)
    params = {**values, "cap": CAP, "counted": CAP + 1, "walk": WALK, "probe": PROBE}
    params |= {"rows": limit + 1, "offset": offset}
    if cursor:
        key = (
            paging.decode(cursor, BEST, _BEST_KEY)
            if f.q
            else paging.decode(cursor, NEWEST, _NEWEST_KEY)
        )
        names = ("after_rank", "after_day", "after_id") if f.q else ("after_day", "after_id")
        params |= dict(zip(names, key, strict=True))
    statement = _statement(tuple(values), keyed=bool(cursor))
    with planned_per_search(session, f):
        rows = session.execute(statement, params).all()
    matched = rows[0].matched
    rows = [r for r in rows if r.id is not None]
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
