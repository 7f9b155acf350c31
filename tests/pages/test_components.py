"""UI helpers that need no running app: formatting, CSV export and the page registry."""

import uuid
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from components.customer_table import to_csv
from components.format import escape_md, label, money
from components.navigation import PAGES, SECTIONS, allowed, landing, specs_for
from core.base import Consent, Role, Segment
from core.customers.schemas import HealthBand
from core.reporting.schemas import CustomerRow


def row(**changes) -> CustomerRow:
    values = {
        "id": uuid.uuid4(),
        "name": "Acme",
        "industry": "Retail",
        "segment": Segment.MID_MARKET,
        "region": "EMEA",
        "arr": Decimal("1234.50"),
        "health_score": None,
        "health_band": HealthBand.UNKNOWN,
        "owner_csm_id": None,
        "csm_name": None,
        "consent_level": Consent.LOGO,
        "active_goals": 2,
    }
    return CustomerRow(**{**values, **changes})


def test_money_and_labels_read_naturally():
    assert [money(v) for v in (950, 12_400, 545_000, 3_100_000, None)] == [
        "$950",
        "$12.4K",
        "$545K",
        "$3.1M",
        "—",
    ]
    assert label(Segment.MID_MARKET) == "Mid-market"
    assert label("kpi") == "KPI"
    assert label("success_plan") == "Success plan"


def test_an_outcome_at_risk_is_not_read_as_a_health_band():
    assert label("at_risk") == "At risk"
    assert label(HealthBand.AT_RISK) == "At risk (<40)"


def test_escape_md_keeps_peoples_text_literal():
    assert escape_md("**bold** [link](x) :red[y]") == (
        "\\*\\*bold\\*\\* \\[link\\]\\(x\\) \\:red\\[y\\]"
    )
    assert escape_md(None) == ""


def test_csv_has_readable_headers_exact_amounts_and_no_formulas():
    text = to_csv([row(), row(name="=HYPERLINK(1)", csm_name="Ava")]).decode().splitlines()
    assert text[0].startswith("Customer,Industry,Segment,ARR,Health,Health band,CSM")
    assert text[1].startswith("Acme,Retail,Mid-market,1234.50,,No score,Unassigned,2")
    assert text[2].startswith("'=HYPERLINK(1),")


def test_registry_gives_everyone_customers_and_only_admins_system():
    for role in Role:
        paths = [spec.path for spec in specs_for(role)]
        assert "pages/customers.py" in paths
        assert ("pages/home.py" in paths) == (role in {Role.CSM, Role.LEADER, Role.ADMIN})
        assert allowed("pages/system.py", role) == (role == Role.ADMIN)
        assert allowed(landing(role).path, role)
    assert sum(spec.default for spec in PAGES) == 1
    assert all(spec.section in SECTIONS for spec in PAGES)


def _navigation_app():
    import streamlit as st

    from components import navigation
    from core.base import Role

    found = {}
    for role in Role:
        pages = [p for section in navigation.navigation_for(role).values() for p in section]
        found[role.value] = [(p.url_path, p.title, p.visibility) for p in pages]
    st.session_state["pages"] = found


def test_navigation_serves_the_landing_at_the_root_and_hides_what_the_role_lacks():
    at = AppTest.from_function(_navigation_app).run()
    assert not at.exception
    for role in Role:
        pages = at.session_state["pages"][role.value]
        (root,) = [p for p in pages if p[0] == ""]
        assert root[1:] == (landing(role).title, "visible")
        # Every registered page resolves by its own path, the landing too (its hidden twin).
        assert sorted(p[0] for p in pages if p[0]) == sorted(spec.url_path for spec in PAGES)
        lacked = {spec.url_path for spec in PAGES if role not in spec.roles}
        hidden = {p[0] for p in pages if p[2] == "hidden"}
        assert lacked | {landing(role).url_path} <= hidden
        # st.page_link takes a file's first page: links to the landing go to the root.
        assert next(p for p in pages if p[0] in ("", landing(role).url_path)) == root


def test_counts_read_with_thousands_separators_in_cards_and_metric_sentences():
    from components.cards import shown
    from components.wins_metrics import summary
    from core.reporting.schemas import SuccessMetric

    assert (shown(12480), shown(7), shown("$1.2M"), shown(True)) == ("12,480", "7", "$1.2M", True)
    capture = SuccessMetric(key="capture", numerator=8031, denominator=11330, target=0.9)
    assert summary(capture) == "8,031 of 11,330 wins documented; 3,299 missed"


def test_a_count_against_the_period_before_reads_with_separators():
    from datetime import date

    from components.deltas import count_vs_previous
    from core.reporting.landing_schemas import Window

    before = Window(first=date(2026, 10, 2), last=date(2026, 10, 31))
    assert count_vs_previous(79, 1696, before).startswith("-1,617 vs 1,696 in ")
