"""Schemathesis over the whole OpenAPI document: no server errors, no answer the schema denies.

Every operation gets a bounded number of generated requests (valid and invalid ones) sent to
`app.api:app` in-process with an admin key, against the test's rolled-back database session,
and every check schemathesis has runs on each answer. A few records with known ids are seeded and
mixed into the generated ids, emails and metric keys, so requests also reach existing customers,
goals and plans rather than only 404s. The seed is fixed so a failure reproduces
(`FUZZ_SEED=<n>` tries another one, `FUZZ_EXAMPLES=<n>` changes the budget per operation).
"""

import os
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from app.api import app
from app.deps import get_session
from core.base import Direction
from core.upsell.models import MeasurementStatus
from tests import factories as f

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("FUZZ_SEED", "20261129"))

CUSTOMER, GOAL, UPSELL = "fuzz-acme", "fuzz-goal", "fuzz-opp"
PERSON, METRIC = "fuzz.csm@outcomes.example", "weekly_active_users"


def known(dictionary: str) -> dict:
    return {"dictionary": dictionary, "probability": 0.5}


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "mode": "all"},
        "checks": {
            # Valid-looking data may still break a rule the schema cannot state (an unknown
            # person, a target on the wrong side of its baseline): that is a documented 422.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "413", "422"]
            },
        },
        "dictionaries": {
            "customers": {"values": [CUSTOMER]},
            "refs": {"values": [CUSTOMER, GOAL]},
            "goals": {"values": [GOAL]},
            "upsells": {"values": [UPSELL]},
            "people": {"values": [PERSON]},
            "metrics": {"values": [METRIC]},
        },
        "parameters": {
            "path.externalId": known("refs"),
            "path.customerId": known("customers"),
            "path.goalId": known("goals"),
            "path.id": known("upsells"),
            "query.customerId": known("customers"),
            "body.customerExternalId": known("customers"),
            "body.observations[*].customerId": known("customers"),
            "body.observations[*].metric": known("metrics"),
            "body.metric": known("metrics"),
            "body.successCriteria.metrics[*].metricKey": known("metrics"),
            **{
                f"body.{field}": known("people")
                for field in (
                    "verifiedBy",
                    "flaggedBy",
                    "recordedBy",
                    "reviewedBy",
                    "createdBy",
                    "ownerCsmEmail",
                )
            },
        },
    }
)

schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


def seed(session: Session) -> None:
    """A CSM, a customer with usage, a goal on it and an upsell with a plan, all with known ids."""
    csm = f.csm(session, email=PERSON)
    customer = f.customer(session, owner=csm)
    customer.external_id = CUSTOMER
    f.metric(session, METRIC, Direction.HIGHER, "users")
    f.observe(session, customer, METRIC, [40, 44, 47, 52])
    f.goal(session, customer, metric_key=METRIC, baseline=40, target=55, external_id=GOAL)
    upsell = f.upsell(
        session, customer, close=date(2026, 6, 1), arr=10_000, plan_status=MeasurementStatus.ACTIVE
    )
    upsell.opportunity_id = UPSELL
    session.flush()


@pytest.fixture
def served(session: Session, make_key) -> dict[str, str]:
    """Serve requests from the test's session, one savepoint each; return admin key headers."""

    def per_request():
        savepoint = session.begin_nested()
        try:
            yield session
        except BaseException:
            savepoint.rollback()
            raise
        if savepoint.is_active:
            savepoint.commit()

    seed(session)
    headers = make_key("admin")
    app.dependency_overrides[get_session] = per_request
    yield headers
    app.dependency_overrides.clear()


@schema.parametrize()
@settings(
    deadline=None,
    database=None,  # the seed alone decides the examples: a run reproduces anywhere
    # One session serves every example of an operation; each request has its own savepoint.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_contract(case, served):
    case.call_and_validate(headers=served)
