"""A CSM adds a customer from the Customers page; the form names what is wrong in plain words."""

from sqlalchemy import select

from core.base import Role, Segment
from core.customers.models import Customer
from core.db import session_scope
from tests.factories import csm, user
from tests.pages import apptest

PAGE = "../pages/customers.py"


def _people():
    with session_scope() as session:
        return csm(session).id, user(session, role=Role.SALES).id


def _fill(at, **values):
    for label, value in values.items():
        widget = next(w for w in [*at.text_input, *at.number_input] if w.label.startswith(label))
        widget.set_value(value)


def _submit(at):
    next(b for b in at.button if b.key.startswith("FormSubmitter:add_customer")).click().run()


def test_a_csm_adds_a_customer_and_it_opens(scratch_db):
    csm_id, _ = _people()
    at = apptest.open_page(csm_id, PAGE)
    assert "No customers yet" in apptest.texts(at)
    _fill(at, Name="Blue Harbor Health", Industry="Healthcare", Region="EMEA", ARR=48000.0)
    next(s for s in at.selectbox if s.label == "Segment").set_value(Segment.MID_MARKET)
    _submit(at)
    assert not at.exception, at.exception
    assert "Added Blue Harbor Health (customer id `blue-harbor-health`)" in apptest.texts(at)
    with session_scope() as session:
        stored = session.scalar(
            select(Customer).where(Customer.external_id == "blue-harbor-health")
        )
        assert stored.owner_csm_id == csm_id
        assert str(stored.arr) == "48000.00"
    assert at.query_params["customer"] == str(stored.id)


def test_missing_fields_are_named_and_nothing_typed_is_lost(scratch_db):
    csm_id, _ = _people()
    at = apptest.open_page(csm_id, PAGE)
    _fill(at, Name="Half Done Inc", Industry="")
    _submit(at)
    errors = [e.value for e in at.error]
    assert "Industry: is required." in errors
    assert "Segment: choose one of the options." in errors
    assert next(w for w in at.text_input if w.label == "Name").value == "Half Done Inc"
    with session_scope() as session:
        assert session.scalar(select(Customer.id)) is None


def test_sales_gets_no_form(scratch_db):
    _, sales_id = _people()
    at = apptest.open_page(sales_id, PAGE)
    assert not any(e.label == "Add a customer" for e in at.expander)
