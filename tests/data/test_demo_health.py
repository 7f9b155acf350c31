"""A fresh demo shows one health number: the stored score is what the factors combine to."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from core.customers.health import combine, customer_health, pending
from core.reporting.customers import list_customers
from data import demo
from tests.data.helpers import AS_OF, CUSTOMERS, one, rows

SCORES = """
    SELECT c.id, c.health_score, c.health_refreshed_at,
           coalesce(array_agg(f.score) FILTER (WHERE f.id IS NOT NULL), '{}') AS scores,
           coalesce(array_agg(f.weight) FILTER (WHERE f.id IS NOT NULL), '{}') AS weights
      FROM customers c LEFT JOIN health_factors f ON f.customer_id = c.id
     GROUP BY c.id
"""


def test_every_stored_score_is_what_its_factors_combine_to(connection):
    demo.generate(connection, customers=CUSTOMERS, seed=4, as_of=AS_OF)
    seeded = rows(connection, SCORES)
    assert len(seeded) == CUSTOMERS
    differ = [
        r.id for r in seeded if r.health_score != combine(zip(r.scores, r.weights, strict=True))
    ]
    assert differ == []
    computed = datetime.combine(AS_OF, time(), UTC) - timedelta(seconds=1)
    assert all(r.health_refreshed_at == computed for r in seeded)
    # Customers with more than the CRM's factor are where the two numbers used to part.
    assert sum(len(r.scores) > 1 for r in seeded) >= CUSTOMERS // 4
    assert one(connection, "SELECT count(*) FROM outbox_deliveries") == 0  # nothing for the CRM


def test_the_customer_page_and_the_list_show_the_same_score(connection):
    demo.generate(connection, customers=CUSTOMERS, seed=4, as_of=AS_OF)
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    listed = list_customers(session=session, limit=CUSTOMERS)
    assert len(listed.rows) == CUSTOMERS
    for row in listed.rows:
        health = customer_health(session=session, customer_id=row.id)
        assert (health.score, health.band) == (row.health_score, row.health_band), row.name
        assert not pending(health), row.name
    session.close()
