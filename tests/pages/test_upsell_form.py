"""A CSM records an upsell by hand on the customer page and opens the plan it got."""

import pytest
from sqlalchemy import select

from core.base import Role
from core.db import session_scope
from core.upsell.models import Measurement, Upsell, UpsellSource
from tests import factories as f
from tests.core.upsell.scenarios import catalog
from tests.pages import apptest

PAGE = "../pages/customers.py"
FORM = "upsell_new_0"
SUBMIT = f"FormSubmitter:{FORM}-Record upsell"


@pytest.fixture
def acme(scratch_db):
    """A CSM and their customer, with the products catalogue; returns their ids."""
    with session_scope() as session:
        catalog(session)
        owner = f.csm(session)
        cust = f.customer(session, name="Acme", owner=owner)
        return owner.id, cust.id


def errors(at) -> list[str]:
    return [str(e.value).replace("\\", "") for e in at.error]


def test_a_csm_records_an_upsell_and_gets_a_link_to_its_plan(acme):
    owner_id, customer_id = acme
    at = apptest.open_page(owner_id, PAGE, customer=str(customer_id), section="upsells")
    products = at.multiselect(key=f"{FORM}_products")
    assert products.options == ["Analytics", "Automation", "No template", "Support"]  # by name
    at.text_input(key=f"{FORM}_name").input("Analytics for the EU team")
    products.select("analytics")
    at.number_input(key=f"{FORM}_arr").set_value(24000.0)
    at.text_area(key=f"{FORM}_notes").input("Reach 70% adoption by day 90")
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception

    with session_scope() as session:
        upsell = session.scalar(select(Upsell).where(Upsell.customer_id == customer_id))
        plan = session.scalar(select(Measurement).where(Measurement.upsell_id == upsell.id))
        assert (upsell.name, upsell.source, upsell.arr_increase) == (
            "Analytics for the EU team",
            UpsellSource.MANUAL,
            24000,
        )
        assert upsell.stated_criteria == "Reach 70% adoption by day 90"
        plan_id = plan.id
    assert "Recorded “Analytics for the EU team” ($24K added ARR)" in apptest.texts(at)
    [link] = [p for p in at.get("page_link") if p.proto.label == "Open its measurement plan"]
    assert (link.proto.page, link.proto.query_string) == ("upsells", f"plan={plan_id}")
    assert at.text_input(key="upsell_new_1_name").value == ""  # a fresh form for the next one


def test_a_refused_entry_names_the_field_and_keeps_what_was_typed(acme):
    owner_id, customer_id = acme
    at = apptest.open_page(owner_id, PAGE, customer=str(customer_id), section="upsells")
    at.number_input(key=f"{FORM}_arr").set_value(5000.0)
    at.text_input(key=f"{FORM}_rep").input("Sam")
    at.button(key=SUBMIT).click().run()
    assert errors(at) == ["Opportunity name: is required."]
    assert at.number_input(key=f"{FORM}_arr").value == 5000.0
    assert at.text_input(key=f"{FORM}_rep").value == "Sam"
    with session_scope() as session:
        assert session.scalar(select(Upsell.id).where(Upsell.customer_id == customer_id)) is None


def test_a_sales_user_sees_no_upsell_form(scratch_db):
    with session_scope() as session:
        seller = f.user(session, Role.SALES)
        cust = f.customer(session, name="Acme")
        ids = seller.id, cust.id
    at = apptest.open_page(ids[0], PAGE, customer=str(ids[1]), section="upsells")
    assert "Record a manual upsell" not in [e.label for e in at.expander]
    assert not [b for b in at.button if b.key and b.key.startswith("FormSubmitter:upsell")]
