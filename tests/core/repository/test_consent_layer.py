"""The consent-aware read layer: who sees which name, and every read that goes through it.

`world()` documents three real wins (internal only, anonymized, full public) through detection
and documentation, then renames two customers; the API and page tests reuse it.
"""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.accounts.models import User
from core.base import Consent, Direction, Role, Segment
from core.customers.models import Feedback, FeedbackKind, TimelineEvent
from core.documentation.detail import achievement_detail
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import Achievement
from core.marketing.queries import flag_board, list_candidates
from core.marketing.service import flag_candidate
from core.records.facts import Quote
from core.reporting.customers import customer_detail, list_customers
from core.reporting.wins import wins_overview
from core.repository import exports
from core.repository import queries as repo
from core.repository.consent import (
    PLACEHOLDER,
    RULES,
    Audience,
    audience,
    customer_view,
    customer_views,
    disclosure,
    stricter,
    templated,
)
from core.repository.models import RepositoryEntry
from core.repository.service import record_use
from tests import factories as f

RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]
LINK = "[click](https://evil.example)"
HIDDEN = ("Lakewater", "Brightline")  # never shown to sales or marketing (nor their speakers)
EXTERNAL = (Role.SALES, Role.MARKETING)


def add_win(session, owner, name, *, consent, industry="fintech"):
    """A customer whose goal (and its quote, goal text) names it; detection will find it won."""
    cust = f.customer(
        session,
        owner=owner,
        name=name,
        industry=industry,
        health=72,
        use_case="Support automation",
        customer_since=date(2023, 2, 1),
    )
    cust.consent_level = consent
    cust.website = f"https://{name.split()[0].lower()}.example"
    session.add(
        Feedback(
            customer_id=cust.id,
            kind=FeedbackKind.NPS,
            score=10,
            respondent_name=f"Dana {name.split()[0]}",
            respondent_title="VP Support",
            responded_at=f.NOW - timedelta(days=20),
            comment=f"{name} got a full day back every week thanks to the rules. {LINK}",
        )
    )
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name=f"Grow {name} weekly active users to 55",
        description=f"{name} wants more users, see {LINK}",
    )
    f.observe(session, cust, "weekly_active_users", RISING)
    return cust


def world(session) -> dict:
    """Three documented wins, then two renames; return the people, customers and names."""
    owner = f.csm(session)
    people = {
        role: User(email=f"{role.value}@outcomes.example", name=f"{role.value} user", role=role)
        for role in (Role.SALES, Role.MARKETING, Role.LEADER)
    }
    session.add_all(people.values())
    lakewater = add_win(session, owner, "Lakewater Technologies", consent=Consent.INTERNAL_ONLY)
    brightline = add_win(session, owner, "Brightline Bank", consent=Consent.ANONYMIZED)
    acme = add_win(session, owner, "Acme Health", consent=Consent.FULL_PUBLIC, industry="retail")
    detect(session=session, now=f.NOW)
    document_pending(session=session, now=f.NOW)
    lakewater.name = "Lakewater Group"  # renamed after its win was documented
    acme.name = "Acme Care"
    session.flush()
    return {
        "csm": owner,
        **{role.value: user for role, user in people.items()},
        "lakewater": lakewater,
        "brightline": brightline,
        "acme": acme,
    }


def leaks(text: str, *names: str) -> list[str]:
    """Return the names in `names` (default: the hidden ones) that `text` contains."""
    return [n for n in names or HIDDEN if n.lower() in text.lower()]


# The rules -------------------------------------------------------------------------------------


def test_the_rules_table():
    named = {c for c, rule in RULES.items() if rule.name}
    assert named == {Consent.LOGO, Consent.FULL_PUBLIC}
    assert {c for c, rule in RULES.items() if rule.quotes} == set(Consent) - {Consent.INTERNAL_ONLY}
    assert {c for c, rule in RULES.items() if rule.speaker} == {Consent.FULL_PUBLIC}
    assert {c for c, rule in RULES.items() if rule.logo} == named
    for consent in Consent:
        inside = disclosure(Audience.INTERNAL, consent)
        assert inside.name and inside.logo and inside.quotes and inside.speaker


@pytest.mark.parametrize(
    ("viewer", "reuse", "expected"),
    [
        (Role.CSM, False, Audience.INTERNAL),
        (Role.LEADER, False, Audience.INTERNAL),
        (Role.ADMIN, False, Audience.INTERNAL),
        (None, False, Audience.INTERNAL),
        (Role.SALES, False, Audience.EXTERNAL),
        (Role.MARKETING, False, Audience.EXTERNAL),
        (Role.LEADER, True, Audience.EXTERNAL),
    ],
)
def test_audience_by_role_and_surface(viewer, reuse, expected):
    assert audience(viewer, reuse=reuse) == expected


def test_the_stricter_consent_wins():
    assert stricter(Consent.FULL_PUBLIC, Consent.ANONYMIZED) == Consent.ANONYMIZED
    assert stricter("logo", None) == Consent.LOGO
    view = customer_view(
        Audience.EXTERNAL,
        name="Acme Health",
        consent=Consent.FULL_PUBLIC,
        entry_consent=Consent.INTERNAL_ONLY,
        segment=Segment.SMB,
        industry="Retail",
    )
    assert view.name is None and view.label == "An SMB retail company"
    assert view.consent == Consent.INTERNAL_ONLY


def test_texts_render_the_name_or_the_customer_and_scrub_former_names():
    text = f"{PLACEHOLDER}: grew. Old Name Inc. said so; Old Name Incorporated did not."
    hidden = customer_view(
        Audience.EXTERNAL, name="New Name", consent=Consent.ANONYMIZED, former=["old name inc."]
    )
    assert hidden.text(text) == (
        "The customer: grew. The customer said so; Old Name Incorporated did not."
    )
    assert hidden.text("Ask NEW NAME, not newname.") == "Ask the customer, not newname."
    named = customer_view(
        Audience.EXTERNAL, name="New Name", consent=Consent.LOGO, former=["Old Name Inc."]
    )
    assert named.text(text).startswith("New Name: grew. New Name said so")
    inside = customer_view(
        Audience.INTERNAL, name="New Name", consent=Consent.INTERNAL_ONLY, former=["Old Name Inc."]
    )
    assert inside.name == "New Name" and inside.text(text).startswith("New Name: grew.")
    assert templated("Acme Health (health) grew; acme health is happy.", "Acme Health") == (
        f"{PLACEHOLDER} (health) grew; {PLACEHOLDER} is happy."
    )


def test_quotes_follow_the_consent_level():
    said = Quote("Acme got a day back.", "Dana Ortiz", "VP Support", "nps", 10)
    shown = {}
    for consent in Consent:
        view = customer_view(Audience.EXTERNAL, name="Acme", consent=consent)
        quote = view.quote(said)
        shown[consent] = quote and (quote.text, view.quoted_by(quote))
    assert shown == {
        Consent.FULL_PUBLIC: ("Acme got a day back.", "Dana Ortiz, VP Support"),
        Consent.LOGO: ("Acme got a day back.", "VP Support"),
        Consent.ANONYMIZED: ("The customer got a day back.", "VP Support"),
        Consent.INTERNAL_ONLY: None,
    }


# Stored texts and the repository ----------------------------------------------------------------


def test_stored_repository_texts_name_no_customer(session):
    w = world(session)
    entries = session.scalars(select(RepositoryEntry)).all()
    assert len(entries) == 3
    for entry in entries:
        assert entry.title.startswith(f"{PLACEHOLDER}: Grow {PLACEHOLDER} weekly")
        assert entry.snippet.startswith(f"{PLACEHOLDER} (")
        assert not leaks(entry.title + entry.snippet, "Lakewater", "Brightline", "Acme")
    views = customer_views(
        session=session, seen_by=Audience.INTERNAL, customer_ids=[w["lakewater"].id]
    )
    assert views[w["lakewater"].id].names == ("Lakewater Group", "Lakewater Technologies")


def test_search_never_matches_or_highlights_a_hidden_name(session):
    w = world(session)
    # An entry filed before names became placeholders still holds the name in its texts.
    legacy = session.scalar(
        select(RepositoryEntry).where(RepositoryEntry.customer_id == w["brightline"].id)
    )
    legacy.title = "Brightline Bank: Grow Brightline Bank weekly active users to 55"
    legacy.snippet = "Brightline Bank (fintech, mid-market) raised weekly active users."
    session.flush()
    for q in ("Lakewater", "Brightline", '"Lakewater Technologies"', "Brightline users"):
        assert repo.search_entries(session=session, q=q).total == 0, q
    page = repo.search_entries(session=session, q="users")
    assert page.total == 3
    for item in page.items:
        shown = " ".join([item.title, item.snippet, item.headline, item.proof_point])
        assert not leaks(shown), shown
        assert "<mark>users</mark>" in item.headline
    hidden = {i.customer_id: i for i in page.items}[w["brightline"].id]
    assert hidden.headline.startswith("The customer (fintech, mid-market) raised weekly active")
    assert hidden.customer_name is None and hidden.customer_label == "A mid-market fintech company"
    # The renamed public customer is found, titled and quoted by its new name only.
    (acme,) = repo.search_entries(session=session, q="acme care").items
    assert acme.customer_name == "Acme Care" and acme.title.startswith("Acme Care: Grow Acme Care")
    assert "<mark>Acme</mark> <mark>Care</mark>" in acme.headline
    assert acme.proof_point.startswith("Acme Care — Acme Care: Grow Acme Care weekly")
    assert repo.search_entries(session=session, q="acme health").total == 0


def test_exports_and_snippets_never_name_a_hidden_customer(session):
    w = world(session)
    items = repo.search_entries(session=session).items
    text = exports.export_csv(items) + exports.export_markdown(items)
    assert not leaks(text) and "Acme Care" in text and "Acme Health" not in text
    rows = list(csv.DictReader(io.StringIO(exports.export_csv(items))))
    assert {r["Customer"] for r in rows} == {
        "Acme Care",
        "A mid-market fintech company",
    }
    # Counting a use writes the customer's own (internal) timeline with its current name.
    hidden = next(i for i in items if i.customer_id == w["lakewater"].id)
    record_use(session=session, entry_id=hidden.id, purpose="sales")
    line = session.scalar(select(TimelineEvent.title).where(TimelineEvent.kind == "repository_use"))
    assert (
        line == "Win used (sales): Lakewater Group: Grow Lakewater Group weekly active users to 55"
    )


def test_the_record_reads_by_role_and_escapes_peoples_text(session):
    w = world(session)
    ids = {i.customer_id: i.id for i in repo.search_entries(session=session).items}
    for role in EXTERNAL:
        records = repo.record_markdown(session=session, entry_ids=ids.values(), viewer=role)
        assert len(records) == 3
        assert not leaks("\n".join(records.values()))
        hidden = records[ids[w["lakewater"].id]]
        assert hidden.startswith("# A mid\\-market fintech company\\: Grow the customer weekly")
        assert "In the customer's words" in hidden and "No quote yet" not in hidden
        assert "consent keeps their words internal" in hidden  # internal only: a quote is held
        assert "the customer got a full day back" in records[ids[w["brightline"].id]].lower()
    inside = repo.record_markdown(session=session, entry_ids=ids.values(), viewer=Role.CSM)
    assert inside[ids[w["lakewater"].id]].startswith("# Lakewater Group\\: Grow Lakewater Group")
    assert "Dana Lakewater, VP Support" in inside[ids[w["lakewater"].id]]
    for markdown in inside.values():
        assert LINK not in markdown and "https://" not in markdown
        assert "\\[click\\]\\(https\\://evil\\.example\\)" in markdown


# Marketing, wins, customers and win details ---------------------------------------------------


def test_marketing_candidates_and_board_after_a_rename(session):
    w = world(session)
    items = list_candidates(session=session).items
    flag_candidate(
        session=session,
        achievement_id=next(i for i in items if i.customer_name is None).achievement_id,
        candidate_type="social_proof",
        actor_id=w["marketing"].id,
    )
    cards = [c for column in flag_board(session=session).values() for c in column]
    shown = " ".join([i.model_dump_json() for i in items] + [c.model_dump_json() for c in cards])
    assert not leaks(shown) and not leaks(shown, "Acme Health")
    assert "Acme Care" in shown


@pytest.mark.parametrize("role", EXTERNAL)
def test_the_wins_feed_and_its_rows_for_sales_and_marketing(session, role):
    world(session)
    overview = wins_overview(session=session, now=f.NOW, viewer=role)
    assert len(overview.recent) == 3
    assert not leaks(overview.model_dump_json())
    labels = {w.customer_name for w in overview.recent}
    assert labels == {"Acme Care", "A mid-market fintech company"}
    inside = wins_overview(session=session, now=f.NOW, viewer=Role.LEADER)
    assert {w.customer_name for w in inside.recent} == {
        "Acme Care",
        "Lakewater Group",
        "Brightline Bank",
    }


@pytest.mark.parametrize("role", EXTERNAL)
def test_the_customer_list_and_detail_for_sales_and_marketing(session, role):
    w = world(session)
    page = list_customers(session=session, viewer=role)
    assert not leaks(page.model_dump_json())
    assert [r.name for r in page.rows] == [
        "Acme Care",
        "A mid-market fintech company",
        "A mid-market fintech company",
    ]
    assert list_customers(session=session, search="lakewater", viewer=role).total == 0
    assert list_customers(session=session, search="acme", viewer=role).total == 1
    for hidden in (w["lakewater"], w["brightline"]):
        detail = customer_detail(session=session, customer_id=hidden.id, viewer=role)
        assert not leaks(detail.model_dump_json()), hidden.name
        assert detail.website is None
    lakewater = customer_detail(session=session, customer_id=w["lakewater"].id, viewer=role)
    assert lakewater.feedback[0].comment is None  # internal only: no quotes
    brightline = customer_detail(session=session, customer_id=w["brightline"].id, viewer=role)
    assert brightline.feedback[0].comment.startswith("The customer got a full day back")
    assert brightline.feedback[0].respondent_title == "VP Support"
    inside = list_customers(session=session, search="lakewater", viewer=Role.CSM)
    assert [r.name for r in inside.rows] == ["Lakewater Group"]
    detail = customer_detail(session=session, customer_id=w["lakewater"].id, viewer=Role.CSM)
    assert detail.website and "Lakewater Group" in detail.goals[0].name


@pytest.mark.parametrize("role", EXTERNAL)
def test_a_win_detail_for_sales_and_marketing(session, role):
    w = world(session)
    for cust in (w["lakewater"], w["brightline"]):
        achievement_id = session.scalar(
            select(Achievement.id).where(Achievement.customer_id == cust.id)
        )
        d = achievement_detail(session=session, achievement_id=achievement_id, viewer=role)
        assert not leaks(d.model_dump_json()), cust.name
        assert d.customer_name == "A mid-market fintech company"
        assert LINK not in d.record.markdown
    inside = achievement_detail(session=session, achievement_id=achievement_id, viewer=Role.CSM)
    assert inside.customer_name == "Brightline Bank" and inside.record.documented


def test_a_customer_without_records_has_no_former_names(session):
    cust = f.customer(session, name="Solo Inc", consent=Consent.FULL_PUBLIC)
    views = customer_views(session=session, seen_by=Audience.EXTERNAL, customer_ids=[cust.id])
    assert views[cust.id].names == ("Solo Inc",) and views[cust.id].name == "Solo Inc"
