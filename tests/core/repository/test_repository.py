"""The value repository: ranked search, filters, consent, exports, aggregates and usage."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Consent, Segment
from core.customers.models import TimelineEvent
from core.errors import Invalid, NotFound
from core.goals.models import GoalType
from core.records.models import SuccessRecord
from core.repository import exports, overview, service
from core.repository import queries as repo
from core.repository.consent import Audience, customer_view, proof_point
from core.repository.models import RepositoryEntry
from tests import factories as f


def titles(page) -> list[str]:
    return [item.title for item in page.items]


def test_title_match_outranks_use_case_match_and_stems(session):
    f.repository_entry(
        session,
        "Onboarding finished early",
        use_case="Workflow automation",
        achieved_on=date(2026, 6, 1),
    )
    f.repository_entry(
        session, "Support automation halves resolution time", achieved_on=date(2025, 1, 1)
    )
    f.repository_entry(session, "Adoption above 80%")
    page = repo.search_entries(session=session, q="automating")
    assert titles(page) == [
        "Support automation halves resolution time",
        "Onboarding finished early",
    ]
    assert page.total == 2
    assert page.items[0].rank > page.items[1].rank > 0


def test_recency_breaks_rank_ties_and_no_query_orders_by_date(session):
    f.repository_entry(session, "Old automation win", achieved_on=date(2024, 5, 1))
    f.repository_entry(session, "New automation win", achieved_on=date(2026, 5, 1))
    f.repository_entry(session, "Middle win", achieved_on=date(2025, 5, 1))
    assert titles(repo.search_entries(session=session, q="automation")) == [
        "New automation win",
        "Old automation win",
    ]
    page = repo.search_entries(session=session)
    assert titles(page) == ["New automation win", "Middle win", "Old automation win"]
    assert all(item.rank is None for item in page.items)


def test_web_search_syntax_and_escaped_highlights(session):
    f.repository_entry(session, "Faster tickets", "R&D tickets closed in 4 hours, p95 < 6 hours.")
    f.repository_entry(session, "Faster invoices", "Invoices closed in 2 days.")
    page = repo.search_entries(session=session, q="closed -invoices")
    assert titles(page) == ["Faster tickets"]
    headline = page.items[0].headline
    assert "<mark>closed</mark>" in headline
    assert "R&amp;D" in headline and "&lt; 6" in headline
    assert titles(repo.search_entries(session=session, q='"4 hours"')) == ["Faster tickets"]
    assert repo.search_entries(session=session, q="   ").total == 2


def test_a_cut_headline_starts_at_its_sentence_and_marks_the_cuts(session):
    opening = "Fourteen teams moved onto the new workspace over two quarters of steady work. "
    closing = " Renewal talks open next spring with a larger scope and a new executive sponsor."
    body = (
        "The customer (SaaS, SMB) completed every milestone of its automation plan, then went"
        " on to train every regional office, retire two legacy tools and cut tickets by half"
        " while keeping its new workflows running through the busiest season of the year."
    )
    f.repository_entry(session, "Rollout win", opening + body + closing)
    (item,) = repo.search_entries(session=session, q="automation").items
    assert item.headline.startswith("… The customer (SaaS, SMB) completed"), item.headline
    assert item.headline.endswith("…") and "<mark>automation</mark>" in item.headline
    f.repository_entry(session, "Short win", "Tickets closed in 4 hours.")
    (short,) = repo.search_entries(session=session, q="tickets closed").items
    assert short.headline == "<mark>Tickets</mark> <mark>closed</mark> in 4 hours."


def test_every_filter_narrows_and_they_combine(session):
    f.repository_entry(
        session,
        "A",
        industry="Retail",
        use_case="Support",
        products=["ai-assistant"],
        goal_type=GoalType.ROI,
        value_amount=Decimal("50000"),
        value_unit="USD",
        achieved_on=date(2026, 2, 1),
        consent=Consent.LOGO,
    )
    f.repository_entry(
        session,
        "B",
        industry="Fintech",
        use_case="Onboarding",
        products=["analytics-addon", "ai-assistant"],
        goal_type=GoalType.ONBOARDING,
        value_amount=Decimal("90"),
        value_unit="%",
        achieved_on=date(2025, 6, 1),
        consent=Consent.INTERNAL_ONLY,
    )
    f.repository_entry(session, "C", industry="Retail", products=[], achieved_on=date(2024, 1, 1))

    def found(**filters) -> list[str]:
        return sorted(titles(repo.search_entries(session=session, **filters)))

    assert found(industry="Retail") == ["A", "C"]
    assert found(use_case="Onboarding") == ["B"]
    assert found(product="ai-assistant") == ["A", "B"]
    assert found(product="analytics-addon") == ["B"]
    assert found(goal_type="roi") == ["A"]
    assert found(date_from=date(2025, 1, 1)) == ["A", "B"]
    assert found(date_to=date(2025, 6, 1)) == ["B", "C"]
    assert found(date_from=date(2025, 6, 1), date_to=date(2025, 6, 1)) == ["B"]
    assert found(value_min=100) == ["A"]
    assert found(value_max=100) == ["B"]
    assert found(consent=[Consent.LOGO, Consent.INTERNAL_ONLY]) == ["A", "B"]
    assert found(consent="full_public") == ["C"]
    assert found(industry="Retail", product="ai-assistant", goal_type=GoalType.ROI) == ["A"]
    assert found(industry="Retail", goal_type="onboarding") == []


def test_pagination_and_total(session):
    for day in range(1, 6):
        f.repository_entry(session, f"Win {day}", achieved_on=date(2026, 1, day))
    page = repo.search_entries(session=session, limit=2, offset=2)
    assert page.total == 5 and titles(page) == ["Win 3", "Win 2"]
    beyond = repo.search_entries(session=session, limit=2, offset=10)
    assert beyond.total == 5 and beyond.items == []


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"value_min": 10, "value_max": 5}, "valueMax"),
        ({"date_from": date(2026, 2, 1), "date_to": date(2026, 1, 1)}, "dateTo"),
        ({"goal_type": "nope"}, "goalType"),
        ({"consent": ["public"]}, "consent"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filters_are_invalid_and_name_the_field(session, filters, field):
    with pytest.raises(Invalid, match=field):
        repo.search_entries(session=session, **filters)
    with pytest.raises(Invalid, match=field):
        overview.aggregates(session=session, **filters)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (501, 0), (10, -1)])
def test_bad_paging_is_invalid(session, limit, offset):
    with pytest.raises(Invalid, match="limit"):
        repo.search_entries(session=session, limit=limit, offset=offset)


def test_consent_decides_whether_the_customer_is_named(session):
    public = f.customer(
        session, name="Globex Retail", consent=Consent.FULL_PUBLIC, industry="Retail"
    )
    private = f.customer(
        session, name="Initech", consent=Consent.FULL_PUBLIC, industry="Public Sector"
    )
    f.repository_entry(
        session,
        "Globex Retail cut churn",
        "Churn fell by a third.",
        cust=public,
        value_amount=Decimal("120000"),
        value_unit="USD",
        achieved_on=date(2026, 3, 4),
    )
    f.repository_entry(
        session,
        "Initech automated intake",
        "initech staff saved 12 hours a week",
        cust=private,
        consent=Consent.ANONYMIZED,
    )
    items = {i.industry: i for i in repo.search_entries(session=session).items}
    named = items["Retail"]
    assert named.customer_name == "Globex Retail" and named.customer_label == "Globex Retail"
    assert named.proof_point == (
        "Globex Retail — Globex Retail cut churn. Churn fell by a third. "
        "Result: $120K (achieved March 2026)."
    )
    hidden = items["Public Sector"]
    assert hidden.customer_name is None
    assert hidden.customer_label == "A mid-market public sector company"
    assert hidden.title == "The customer automated intake"
    assert "initech" not in hidden.proof_point.lower()
    assert hidden.proof_point == (
        "A mid-market public sector company — The customer automated intake. "
        "The customer staff saved 12 hours a week. Achieved March 2026."
    )


def test_a_withdrawn_customer_consent_overrides_the_entry(session):
    cust = f.customer(
        session, name="Umbrella", consent=Consent.INTERNAL_ONLY, industry="Healthcare"
    )
    f.repository_entry(session, "Umbrella win", cust=cust, consent=Consent.FULL_PUBLIC)
    (item,) = repo.search_entries(session=session).items
    assert item.consent_level == Consent.INTERNAL_ONLY and item.customer_name is None
    assert repo.search_entries(session=session, consent=["full_public"]).total == 0


def test_proof_point_for_each_consent_level():
    entry = RepositoryEntry(
        title="Acme Health halved wait times",
        snippet="Patients waited 50% less.",
        industry="SaaS",
        achieved_on=date(2025, 11, 2),
        value_amount=Decimal("3.50"),
        value_unit="hours",
    )

    def snippet_text(name, consent, segment=None):
        view = customer_view(
            Audience.EXTERNAL, name=name, consent=consent, segment=segment, industry="SaaS"
        )
        return proof_point(entry, view)

    for consent in (Consent.LOGO, Consent.FULL_PUBLIC):
        text = snippet_text("Acme Health", consent)
        assert text.startswith("Acme Health — Acme Health halved wait times.")
        assert text.endswith("Result: 3.5 hours (achieved November 2025).")
    for consent in (Consent.INTERNAL_ONLY, Consent.ANONYMIZED):
        text = snippet_text("Acme Health", consent, segment=Segment.ENTERPRISE)
        assert "Acme" not in text
        assert text.startswith("An enterprise SaaS company — The customer halved wait times.")
    assert snippet_text(None, "anonymized").startswith("A SaaS company — ")


def test_csv_export_defuses_formulas(session):
    f.repository_entry(
        session,
        '=HYPERLINK("http://evil")',
        "@SUM(A1)",
        use_case="+cmd",
        value_amount=Decimal("-5.5000"),
        value_unit="hours",
    )
    rows = list(
        csv.reader(io.StringIO(exports.export_csv(repo.search_entries(session=session).items)))
    )
    header, row = rows
    cells = dict(zip(header, row, strict=True))
    assert cells["Title"] == '\'=HYPERLINK("http://evil")'
    assert cells["Use case"] == "'+cmd"
    assert cells["Value"] == "-5.5" and cells["Unit"] == "hours"
    assert cells["Goal type"] == "KPI" and cells["Consent"] == "Full public"
    assert cells["Proof point"].startswith("Customer ")


def test_markdown_export_is_copy_ready(session):
    f.repository_entry(
        session,
        "Cut *costs* by [half]",
        "Saved money.",
        products=["ai-assistant"],
        value_amount=Decimal("25000"),
        value_unit="USD",
    )
    text = exports.export_markdown(repo.search_entries(session=session).items)
    assert text.startswith("# Value repository — 1 win\n")
    assert "## Cut \\*costs\\* by \\[half\\]" in text
    assert "- **Value:** $25K" in text and "- **Products:** ai-assistant" in text
    assert exports.export_markdown([]).startswith("# Value repository — 0 wins")


def test_aggregates_group_by_industry_quarter_and_goal_type(session):
    f.repository_entry(
        session,
        "a",
        industry="Retail",
        goal_type=GoalType.ROI,
        value_amount=Decimal(1000),
        value_unit="USD",
        achieved_on=date(2025, 1, 15),
    )
    f.repository_entry(
        session,
        "b",
        industry="Retail",
        value_amount=Decimal(40),
        value_unit="hours",
        achieved_on=date(2025, 2, 1),
    )
    f.repository_entry(
        session,
        "c",
        industry="Fintech",
        goal_type=GoalType.ROI,
        value_amount=Decimal(500),
        value_unit="usd",
        achieved_on=date(2025, 10, 1),
    )
    result = overview.aggregates(session=session)
    assert result.total == 3
    assert [(r.label, r.count, r.value_total) for r in result.by_industry] == [
        ("Retail", 2, 1000),
        ("Fintech", 1, 500),
    ]
    assert [(r.label, r.count) for r in result.by_quarter] == [
        ("2025 Q1", 2),
        ("2025 Q2", 0),
        ("2025 Q3", 0),
        ("2025 Q4", 1),
    ]
    assert result.by_quarter[0].quarter == date(2025, 1, 1)
    assert [(r.label, r.count, r.value_total) for r in result.by_goal_type] == [
        ("roi", 2, 1500),
        ("kpi", 1, 0),
    ]
    only = overview.aggregates(session=session, industry="Fintech")
    assert only.total == 1 and [r.label for r in only.by_quarter] == ["2025 Q4"]
    assert overview.aggregates(session=session, q="nothing-matches").by_quarter == []


def test_record_use_counts_and_leaves_a_trail(session):
    entry = f.repository_entry(session, "Reusable win")
    assert service.record_use(session=session, entry_id=entry.id, purpose="qbr", actor="casey") == 1
    assert service.record_use(session=session, entry_id=entry.id, purpose="renewal") == 2
    session.refresh(entry)
    assert entry.usage_count == 2 and entry.last_used_at is not None
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(entry.id)).order_by(AuditEntry.actor)
    ).all()
    assert [(a.action, a.actor, a.changes["purpose"]) for a in audit] == [
        ("repository.use", "app", "renewal"),
        ("repository.use", "casey", "qbr"),
    ]
    events = session.scalars(select(TimelineEvent).where(TimelineEvent.related_id == entry.id))
    assert {e.title for e in events} == {
        "Win used (qbr): Reusable win",
        "Win used (renewal): Reusable win",
    }


def test_record_use_rejects_unknown_entries_and_purposes_and_counts_exports_once(session):
    entry = f.repository_entry(session, "Win")
    with pytest.raises(NotFound):
        service.record_use(
            session=session, entry_id="00000000-0000-0000-0000-000000000000", purpose="qbr"
        )
    with pytest.raises(Invalid, match="purpose"):
        service.record_use(session=session, entry_id=entry.id, purpose="fun")
    other = f.repository_entry(session, "Two")
    counts = service.record_uses(
        session=session, entry_ids=[entry.id, other.id, entry.id], purpose="marketing"
    )
    assert counts == {entry.id: 1, other.id: 1}


def test_filter_options_and_record_markdown(session):
    assert overview.filter_options(session=session).entries == 0
    entry = f.repository_entry(
        session, "A", industry="Retail", use_case="Support", products=["b-product", "a-product"]
    )
    f.repository_entry(
        session, "B", industry="Fintech", goal_type=GoalType.ROI, products=["a-product"]
    )
    options = overview.filter_options(session=session)
    assert options.entries == 2
    assert options.industries == ["Fintech", "Retail"] and options.use_cases == ["Support"]
    assert options.products == ["a-product", "b-product"]
    assert set(options.goal_types) == {GoalType.KPI, GoalType.ROI}
    session.add(
        SuccessRecord(
            achievement_id=entry.achievement_id, title="A", summary="s", markdown="# A\n\nDone."
        )
    )
    session.flush()
    # Too old to have its facts: not rendered (tests/core/repository/test_consent_layer.py).
    assert repo.record_markdown(session=session, entry_ids=[entry.id]) == {}
