"""Repository search in one statement agrees with the plain reading of its rules: the same
entries in the same order, the same ranks, totals, headlines and pages, whichever way the
statement finds the newest matches (counted, probed, walked or looked up in the indexes)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import case, func, select

from core.base import Consent
from core.customers.models import Customer
from core.repository import queries as repo
from core.repository.models import RepositoryEntry as E
from tests import factories as f

TITLES = (
    "Weekly active users grew by a third",
    "Cost savings of 20% on support",
    "Users doubled after the cost review",
    "Tickets fell, savings followed",
    "Active users up, cost down",
    "Savings from fewer weekly reports",
)
QUERIES = (
    "users",
    "cost savings",
    '"cost savings"',
    "users -savings",
    "weekly active users",
    "guild",  # only in a customer's name
    "users guild",
    "zzunmatched",
    None,
)
FILTERS = ({}, {"industry": "Retail"}, {"consent": ["logo", "full_public"]}, {"value_min": 10})
# (CAP, WALK, PROBE): every match ranked; counted then walked (or looked up when the walk comes
# up short); probed as dense (a match among the PROBE newest) then walked (or looked up).
SETTINGS = ((1000, 20000, 1000), (3, 4, 1000), (5, 40, 2), (3, 16, 1), (2, 6, 1))


@pytest.fixture
def entries(session):
    """Forty entries over five customers, three named with search words, some hidden."""
    customers = [
        f.customer(session, name="Users Guild", consent=Consent.FULL_PUBLIC, industry="Retail"),
        f.customer(session, name="Savings Guild Bank", consent=Consent.LOGO),
        f.customer(session, name="Quiet Users Guild", consent=Consent.INTERNAL_ONLY),
        f.customer(session, name="Orchard Labs", consent=Consent.ANONYMIZED, industry="Retail"),
        f.customer(session, name="Harbor Trust", consent=Consent.FULL_PUBLIC),
    ]
    consents = (Consent.FULL_PUBLIC, Consent.LOGO, Consent.ANONYMIZED, Consent.INTERNAL_ONLY)
    made = []
    for i in range(40):
        cust = customers[i % 5]
        made.append(
            f.repository_entry(
                session,
                TITLES[i % 6] + ("" if i % 7 else f" at {cust.name}"),
                f"{cust.name} reported it. " + TITLES[(i + 2) % 6] + ".",
                cust=cust,
                achieved_on=date(2026, 6, 1) - timedelta(days=(i * 5) % 23),  # ties on days
                consent=consents[i % 3 if i % 4 else 0],
                value_amount=Decimal(i),
            )
        )
    return made


def reference(session, *, limit, offset=0, **filters):
    """The page, ranks, total and headlines as the rules read, one step at a time."""
    values = repo.bound_values(repo.validated(**filters))
    found = session.execute(
        select(E.id, E.achieved_on)
        .join(Customer, Customer.id == E.customer_id)
        .where(*repo.conditions(values))
    ).all()
    found.sort(key=lambda r: (-r.achieved_on.toordinal(), r.id))
    q = values.get("q")
    bounded = found[: repo.CAP] if q else found
    ranks = {r.id: None for r in bounded}
    texts = {}
    if q and bounded:
        query = func.websearch_to_tsquery("english", q)
        snippet = repo._shown_snippet()
        document = case((repo.VISIBLE, E.search_text.op("||")(E.search_name)), else_=E.search_text)
        rows = session.execute(
            select(
                E.id,
                func.ts_rank_cd(document, query, 32),
                func.ts_headline(repo.ENGLISH, snippet, query, repo.HEADLINE_OPTIONS),
                snippet,
            )
            .join(Customer, Customer.id == E.customer_id)
            .outerjoin(repo.SuccessRecord, repo.SuccessRecord.achievement_id == E.achievement_id)
            .where(E.id.in_(list(ranks)))
        ).all()
        ranks = {r[0]: r[1] for r in rows}
        texts = {r[0]: (r[2], r[3]) for r in rows}
        bounded.sort(key=lambda r: (-ranks[r.id], -r.achieved_on.toordinal(), r.id))
    page = bounded[offset : offset + limit]
    return {
        "ids": [r.id for r in page],
        "ranks": [ranks[r.id] for r in page],
        "texts": [texts.get(r.id) for r in page],
        "total": min(len(found), repo.CAP),
        "capped": len(found) > repo.CAP,
    }


def shown(page) -> dict:
    return {
        "ids": [i.id for i in page.items],
        "ranks": [i.rank for i in page.items],
        "total": page.total,
        "capped": page.total_capped,
    }


def every_page(session, **filters) -> list:
    """Every entry a search lists, page by page through its cursors."""
    seen, cursor = [], None
    while True:
        page = repo.search_entries(session=session, limit=3, cursor=cursor, **filters)
        seen += [i.id for i in page.items]
        if not (cursor := page.next_cursor):
            return seen


@pytest.fixture
def drawn(monkeypatch):
    """Collect the raw headline and shown snippet of each item a search builds."""
    seen = []
    build = repo._item

    def item(row):
        seen.append((row.raw_headline, row.shown_snippet))
        return build(row)

    monkeypatch.setattr(repo, "_item", item)
    return seen


@pytest.mark.parametrize("cap,walk,probe", SETTINGS)
def test_one_statement_agrees_with_the_rules(
    session, entries, drawn, monkeypatch, cap, walk, probe
):
    monkeypatch.setattr(repo, "CAP", cap)
    monkeypatch.setattr(repo, "WALK", walk)
    monkeypatch.setattr(repo, "PROBE", probe)
    for q in QUERIES:
        for filters in FILTERS:
            for offset in (0, 3):
                expected = reference(session, limit=4, offset=offset, q=q, **filters)
                drawn.clear()
                page = repo.search_entries(session=session, q=q, limit=4, offset=offset, **filters)
                assert shown(page) == {k: v for k, v in expected.items() if k != "texts"}, (
                    q,
                    filters,
                )
                if q:
                    assert drawn == expected["texts"]
            whole = reference(session, limit=10_000, q=q, **filters)["ids"]
            assert every_page(session, q=q, **filters) == whole, (q, filters)
    assert repo.search_entries(session=session, q="guild").total > 0  # the names count


def test_a_page_past_the_end_still_counts(session, entries):
    page = repo.search_entries(session=session, q="users", offset=500)
    assert page.items == [] and page.total == reference(session, limit=1, q="users")["total"]
    assert page.next_cursor is None and page.total > 0
    assert repo.search_entries(session=session, q="zzunmatched").total == 0
