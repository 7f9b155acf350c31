"""The Value repository page: empty state, search and filters, copy snippet, insights."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Consent, Role
from core.db import session_scope
from core.goals.models import GoalType
from core.repository import queries
from core.repository.models import RepositoryEntry
from tests import factories as f
from tests.pages import apptest
from tests.pages.apptest import texts

PAGE = "../pages/value_repository.py"


def open_page(user_id):
    return apptest.open_page(user_id, PAGE)


def test_empty_repository_explains_where_wins_come_from(scratch_db):
    # (the demo book has wins from before its first run: an empty database has none)
    with session_scope() as session:
        user_id = f.user(session, Role.SALES).id
    at = open_page(user_id)
    assert at.title[0].value == "Value repository"
    (info,) = at.info
    assert "No wins in the repository yet" in info.value and "detection job" in info.value
    assert not at.tabs and not at.text_input


@pytest.fixture
def seeded(scratch_db):
    with session_scope() as session:
        user = f.user(session, Role.SALES, "Sam Sales", email="sam@outcomes.example")
        acme = f.customer(
            session, name="Acme Health", consent=Consent.FULL_PUBLIC, industry="Healthcare"
        )
        hidden = f.customer(session, name="Initech", consent=Consent.ANONYMIZED, industry="Fintech")
        automation = f.repository_entry(
            session,
            "Support automation halved resolution time",
            "Tickets closed in 4 hours.",
            cust=acme,
            products=["ai-assistant"],
            goal_type=GoalType.ROI,
            use_case="Support",
            value_amount=Decimal("120000"),
            value_unit="USD",
            achieved_on=date(2026, 3, 1),
        )
        onboarding = f.repository_entry(
            session,
            "Initech finished onboarding",
            "All 40 teams live in 30 days.",
            cust=hidden,
            consent=Consent.ANONYMIZED,
            goal_type=GoalType.ONBOARDING,
            value_amount=Decimal("95"),
            value_unit="%",
            achieved_on=date(2025, 11, 5),
        )
        f.repository_entry(
            session, "Adoption above target", cust=acme, achieved_on=date(2025, 7, 1)
        )
        session.flush()
        return {"user": user.id, "automation": automation.id, "onboarding": onboarding.id}


def test_results_filters_and_copy_snippet(seeded):
    at = open_page(seeded["user"])
    assert [t.label for t in at.tabs] == ["Results (3)", "Insights"]
    shown = texts(at)
    assert "Support automation halved resolution time" in shown
    assert "The customer finished onboarding" in shown and "Initech" not in shown
    assert "A mid-market fintech company" in shown
    assert at.segmented_control(key="rf_purpose").value == "sales"
    assert len(at.get("plotly_chart")) == 4

    at.selectbox(key="rf_industry").select("Fintech").run()
    assert [t.label for t in at.tabs][0] == "Results (1)"
    at.button(key=f"copy_{seeded['onboarding']}").click().run()
    assert not at.exception
    (code,) = at.code
    assert code.value == (
        "A mid-market fintech company — The customer finished onboarding. "
        "All 40 teams live in 30 days. Result: 95% (achieved November 2025)."
    )
    assert "used 1×" in texts(at)
    with session_scope() as session:
        entry = session.get(RepositoryEntry, seeded["onboarding"])
        assert entry.usage_count == 1
        audit = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(entry.id)))
        assert audit.actor == "sam@outcomes.example" and audit.changes["purpose"] == "sales"


def test_search_ranks_and_no_results_guide(seeded):
    at = open_page(seeded["user"])
    at.text_input(key="rf_q").input("automating").run()
    assert [t.label for t in at.tabs][0] == "Results (1)"
    assert "best match first" in texts(at)
    at.text_input(key="rf_q").input("submarine").run()
    assert any("No wins match these filters" in i.value for i in at.info)
    at.button(key="rf_clear").click().run()
    assert at.text_input(key="rf_q").value == ""
    assert [t.label for t in at.tabs][0] == "Results (3)"


def test_date_range_product_and_goal_type_filters(seeded):
    at = open_page(seeded["user"])
    at.date_input(key="rf_dates").set_value((date(2025, 7, 1), date(2025, 12, 31))).run()
    assert [t.label for t in at.tabs][0] == "Results (2)"
    at.selectbox(key="rf_goal_type").select(GoalType.ONBOARDING).run()
    assert [t.label for t in at.tabs][0] == "Results (1)"
    at.selectbox(key="rf_product").select("ai-assistant").run()
    assert [t.label for t in at.tabs][0] == "Results (0)"
    assert "Nothing to chart" in texts(at)


def test_an_inverted_value_range_says_what_to_fix(seeded):
    at = open_page(seeded["user"])
    at.number_input(key="rf_value_min").set_value(500).run()
    at.number_input(key="rf_value_max").set_value(100).run()
    assert not at.exception
    shown = [w.value.replace("\\", "") for w in at.warning]
    assert any("Value to: must not be less than value from" in w for w in shown)
    assert not at.tabs


def test_a_capped_count_reads_as_a_floor_and_says_why(seeded, monkeypatch):
    with session_scope() as session:
        cust = f.customer(session, name="Orchard Labs", consent=Consent.FULL_PUBLIC)
        for i in range(9):
            f.repository_entry(session, f"Adoption grew {i}", cust=cust)
    monkeypatch.setattr(queries, "CAP", 10)
    at = open_page(seeded["user"])
    assert [t.label for t in at.tabs][0] == "Results (10+)"
    shown = texts(at)
    assert "More than 10 wins match, so the 10 most recent of them are listed" in shown
    assert "Showing 1–10 of 10+ wins · newest first" in shown
    at.text_input(key="rf_q").input("automation OR adoption OR onboarding").run()
    assert [t.label for t in at.tabs][0] == "Results (10+)"
    assert "the 10 most recent of them are ranked here" in texts(at)
