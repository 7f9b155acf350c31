"""The customer page shows the health score's factors with their weights, shares and sources."""

from decimal import Decimal

from core.base import Role
from core.customers.health import set_crm_health, upsert_factor
from core.db import session_scope
from tests import factories as f
from tests.pages import apptest

PAGE = "../pages/customers.py"


def test_health_tab_lists_factors_with_weights_and_sources(scratch_db):
    with session_scope() as session:
        leader = f.user(session, Role.LEADER, "Lee", email="lee@outcomes.example")
        cust = f.customer(session, name="Acme", health=None)
        set_crm_health(session=session, customer_id=cust.id, score=Decimal(80))
        upsert_factor(
            session=session,
            customer_id=cust.id,
            factor="goal_attainment",
            score=Decimal(35),
            source="goal_detection",
        )
        leader_id, customer_id = leader.id, cust.id
    at = apptest.open_page(leader_id, PAGE, customer=str(customer_id))
    [health] = [t for t in at.tabs if t.label.startswith("Health")]
    assert health.label == "Health (2 factors)"
    assert "**65 · Watch (40-69)**" in apptest.texts(at)  # (80 × 2 + 35) ÷ 3, the card
    frame = health.dataframe[0].value
    assert list(frame["Factor"]) == ["CRM health score", "Goal attainment"]
    assert list(frame["Weight"]) == ["2", "1"]
    assert list(frame["Share of the score"]) == ["67%", "33%"]
    assert list(frame["Source"]) == ["CRM", "Goal detection"]
    assert "weighted mean" in " ".join(c.value for c in health.caption)
