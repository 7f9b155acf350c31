"""The customer page's "Contacts & feedback" section: a CSM adds a contact and logs a quote."""

from sqlalchemy import select

from core.base import Role
from core.customers.models import Contact, Feedback, FeedbackKind
from core.db import session_scope
from tests import factories as f
from tests.pages import apptest

PAGE = "../pages/customers.py"
SECTION = "people"
WORDS = "Onboarding took two weeks instead of two months; the team was impressed."


def _setup(role: Role = Role.CSM):
    with session_scope() as session:
        person = f.user(session, role, "Casey Rivera")
        cust = f.customer(session, name="Acme", owner=person, contacts=["Dana Ortiz"])
        f.feedback(session, cust, score=9, comment="Great support, every time we call them.")
        return person.id, cust.id


def _tab(at):
    return at.get_by_key(f"customer_{SECTION}")


def _fill(scope, **values):
    for label, value in values.items():
        widget = next(w for w in [*scope.text_input, *scope.text_area] if w.label.startswith(label))
        widget.set_value(value)


def _submit(scope, form: str):
    next(b for b in scope.button if b.key.startswith(f"FormSubmitter:{form}_")).click().run()


def test_a_csm_adds_a_contact_and_it_becomes_primary(scratch_db):
    csm_id, customer_id = _setup()
    at = apptest.open_page(csm_id, PAGE, customer=str(customer_id), section=SECTION)
    tab = _tab(at)
    table = tab.dataframe[0].value
    assert list(table["Name"]) == ["Dana Ortiz"]
    assert list(table["Primary contact"]) == ["Primary contact"]
    assert "NPS 9 · promoter" in apptest.texts(at)

    _fill(tab, Name="Lee Park", Email="Lee.Park@Acme.example", **{"Job title": "COO"})
    next(c for c in tab.checkbox if c.label == "Primary contact").check()
    _submit(tab, "contact")
    assert not at.exception, at.exception
    assert "Added Lee Park (lee.park@acme.example)." in apptest.texts(at)
    table = _tab(at).dataframe[0].value
    assert list(table["Name"]) == ["Lee Park", "Dana Ortiz"]
    assert list(table["Primary contact"]) == ["Primary contact", ""]
    with session_scope() as session:
        lee = session.scalar(select(Contact).where(Contact.email == "lee.park@acme.example"))
        assert (lee.title, lee.is_primary, lee.external_id) == ("COO", True, None)


def test_a_bad_email_is_named_and_nothing_typed_is_lost(scratch_db):
    csm_id, customer_id = _setup()
    at = apptest.open_page(csm_id, PAGE, customer=str(customer_id), section=SECTION)
    tab = _tab(at)
    _fill(tab, Name="Lee Park", Email="lee at acme")
    _submit(tab, "contact")
    assert not at.exception, at.exception
    errors = [e.value.replace("\\", "") for e in _tab(at).error]
    assert any(e.startswith("Email: must be an email address") for e in errors), errors
    assert next(w for w in _tab(at).text_input if w.label == "Name").value == "Lee Park"
    assert next(w for w in _tab(at).text_input if w.label == "Email").value == "lee at acme"
    with session_scope() as session:
        assert session.scalar(select(Contact).where(Contact.name == "Lee Park")) is None


def test_a_csm_logs_a_quote_from_a_call(scratch_db):
    csm_id, customer_id = _setup()
    at = apptest.open_page(csm_id, PAGE, customer=str(customer_id), section=SECTION)
    tab = _tab(at)
    _fill(tab, Quote=WORDS, **{"Who said it": "Dana Ortiz", "Their title": "VP Support"})
    _submit(tab, "quote")
    assert not at.exception, at.exception
    shown = apptest.texts(at)
    assert "Logged the quote from Dana Ortiz; it will be quoted in success records." in shown
    assert "Quote · no score" in shown and "Logged from a call" in shown
    with session_scope() as session:
        said = session.scalar(select(Feedback).where(Feedback.source == "call"))
        dana = session.scalar(select(Contact).where(Contact.name == "Dana Ortiz"))
        assert (said.kind, said.score, said.comment) == (FeedbackKind.QUOTE, None, WORDS)
        assert said.contact_id == dana.id  # the only contact of that name


def test_a_short_quote_is_refused_in_plain_words(scratch_db):
    csm_id, customer_id = _setup()
    at = apptest.open_page(csm_id, PAGE, customer=str(customer_id), section=SECTION)
    tab = _tab(at)
    _fill(tab, Quote="Love it", **{"Who said it": "Dana Ortiz"})
    _submit(tab, "quote")
    errors = [e.value.replace("\\", "") for e in _tab(at).error]
    assert any(e.startswith("Quote: must be at least 30 characters") for e in errors), errors
    assert next(w for w in _tab(at).text_area if w.label == "Quote").value == "Love it"


def test_sales_sees_feedback_but_no_contacts_or_forms(scratch_db):
    sales_id, customer_id = _setup(Role.SALES)
    at = apptest.open_page(sales_id, PAGE, customer=str(customer_id), section=SECTION)
    tab = _tab(at)
    assert not tab.dataframe and not tab.text_input
    assert "NPS 9 · promoter" in apptest.texts(at)
    assert "Dana Ortiz" not in apptest.texts(at)
