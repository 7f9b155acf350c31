"""Every page a sales or marketing person can open, rendered as them: no hidden customer's name.

The world (tests/core/repository/test_consent_layer.py) holds three documented wins: Lakewater
(internal only, renamed after its win), Brightline (anonymized) and Acme (full public, renamed).
Each page's whole element tree is searched (markdown, captions, links, tables, charts, expanders,
tabs), not only its prose. People's text with a Markdown link never renders as a live link.
"""

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.goals.models import Achievement
from tests.core.repository.test_consent_layer import LINK, leaks, world
from tests.pages import apptest

EXTERNAL = ("sales", "marketing")
ESCAPED_LINK = "\\[click\\]\\(https\\:"


@pytest.fixture
def seeded(scratch_db):
    with session_scope() as session:
        w = world(session)
        wins = dict(session.execute(select(Achievement.customer_id, Achievement.id)).all())
        return {
            "users": {role: w[role].id for role in (*EXTERNAL, "csm")},
            "customers": {name: w[name].id for name in ("lakewater", "brightline", "acme")},
            "wins": {name: wins[w[name].id] for name in ("lakewater", "brightline", "acme")},
        }


def everything(at) -> str:
    """Return every element of the rendered page as text (protobuf), expanders and tabs too."""
    return "\n".join(str(node.proto) for node in at._tree if getattr(node, "proto", None))


def pages_for(seeded, role: str) -> dict[str, dict]:
    """Every page `role` can reach, with the query parameters that open each customer and win."""
    found = {
        "home": {},
        "customers": {},
        "wins": {},
        "value_repository": {},
        **{f"customers?{k}": {"customer": str(v)} for k, v in seeded["customers"].items()},
        **{f"achievement?{k}": {"achievement": str(v)} for k, v in seeded["wins"].items()},
    }
    if role == "marketing":
        found["marketing"] = {}
    return found


@pytest.mark.parametrize("role", EXTERNAL)
def test_no_page_names_a_hidden_customer(seeded, role):
    user = seeded["users"][role]
    for name, query in pages_for(seeded, role).items():
        page = f"../pages/{name.split('?')[0]}.py"
        at = apptest.open_page(user, page, **query)
        shown = everything(at)
        assert not leaks(shown), f"{role} sees {leaks(shown)} on {name}"
        assert "Acme Health" not in shown, name  # the old name of a renamed customer
        sources = [m.value for m in at.markdown]
        assert not any(LINK in s for s in sources), name


def test_the_repository_names_the_customer_in_the_record_only_for_cs_staff(seeded):
    page = "../pages/value_repository.py"
    at = apptest.open_page(seeded["users"]["csm"], page)
    (record,) = [e for e in at.expander if "Lakewater" in everything_of(e)]
    assert record.label == "Success record (internal — may name the customer)"
    assert any(ESCAPED_LINK in m.value for m in record.markdown)
    sales = apptest.open_page(seeded["users"]["sales"], page)
    labels = {e.label for e in sales.expander}
    assert labels == {"Success record (as consent allows)"}
    assert any(ESCAPED_LINK in m.value for e in sales.expander for m in e.markdown)


def test_cs_staff_see_names_on_internal_pages(seeded):
    user = seeded["users"]["csm"]
    customers = everything(apptest.open_page(user, "../pages/customers.py"))
    assert "Lakewater Group" in customers and "Brightline Bank" in customers
    win = apptest.open_page(
        user, "../pages/achievement.py", achievement=str(seeded["wins"]["lakewater"])
    )
    assert win.title[0].value.startswith("Lakewater Group")
    assert not any(LINK in m.value for m in win.markdown)
    assert any(ESCAPED_LINK in m.value for m in win.markdown)


def everything_of(block) -> str:
    return "\n".join(str(node.proto) for node in block if getattr(node, "proto", None))
