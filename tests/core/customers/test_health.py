"""The combined health score: factors with weights and sources, the CRM factor, write-backs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.base import Direction
from core.customers.adoption import refresh_adoption
from core.customers.health import (
    combine,
    customer_health,
    pending,
    refresh_scores,
    set_crm_health,
    upsert_factor,
)
from core.customers.models import Customer, HealthFactor, MetricKind
from core.customers.schemas import CustomerIn, HealthBand
from core.customers.service import upsert_customer
from core.outbox.models import Channel, Delivery
from jobs.health import customer_health as health_job
from tests import factories as f

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ACCOUNT = "001000000000009AAA"


def factors(session, customer) -> dict[str, tuple[Decimal, Decimal, str]]:
    rows = session.scalars(
        select(HealthFactor)
        .where(HealthFactor.customer_id == customer.id)
        .execution_options(populate_existing=True)
    )
    return {r.factor: (r.score, r.weight, r.source) for r in rows}


def score_of(session, customer) -> Decimal | None:
    return session.scalar(select(Customer.health_score).where(Customer.id == customer.id))


def write_backs(session) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.channel == Channel.SALESFORCE)
    return list(session.scalars(stmt.order_by(Delivery.idempotency_key)))


def test_combine_is_the_weighted_mean_of_the_factors_present():
    assert combine([(Decimal(90), Decimal(1)), (Decimal(60), Decimal(2))]) == Decimal("70.00")
    assert combine([(Decimal(100), 1), (Decimal(60), 2)]) == Decimal("73.33")
    assert combine([(Decimal("50.005"), 1)]) == Decimal("50.01")
    assert combine([]) is None


def test_inbound_health_is_its_own_factor_and_never_overwrites_the_apps(session):
    body = {"name": "Acme", "industry": "retail", "segment": "smb", "region": "EMEA", "arr": 1000}
    created, _ = upsert_customer(
        session=session,
        external_id="acme",
        body=CustomerIn.model_validate(body | {"healthScore": 80}),
        actor="api:test",
    )
    cust = session.get(Customer, created.id)
    assert factors(session, cust) == {"crm_health": (Decimal(80), Decimal(2), "crm")}
    assert created.health_score == Decimal(80)

    upsert_factor(
        session=session, customer_id=cust.id, factor="goal_attainment", score=50, source="goals"
    )
    refresh_scores(session=session, customer_ids=[cust.id], now=NOW)
    assert score_of(session, cust) == Decimal("70.00")  # (80 × 2 + 50) ÷ 3

    updated, _ = upsert_customer(
        session=session,
        external_id="acme",
        body=CustomerIn.model_validate(body | {"healthScore": 20}),
        actor="api:test",
    )
    assert factors(session, cust)["goal_attainment"][0] == Decimal(50)  # the app's, untouched
    assert factors(session, cust)["crm_health"][0] == Decimal(20)
    assert updated.health_score == Decimal("30.00")  # (20 × 2 + 50) ÷ 3

    cleared, _ = upsert_customer(
        session=session,
        external_id="acme",
        body=CustomerIn.model_validate(body | {"healthScore": None}),
        actor="api:test",
    )
    assert set(factors(session, cust)) == {"goal_attainment"}
    assert cleared.health_score == Decimal(50)


def test_a_score_stored_before_the_app_computed_it_is_kept_as_the_crm_factor(session):
    cust = f.customer(session, health=60)  # written straight into the table, as seeds do
    upsert_factor(
        session=session,
        customer_id=cust.id,
        factor="upsell_realization",
        score=Decimal(90),
        source="upsell_tracking",
    )
    refresh_scores(session=session, customer_ids=[cust.id], now=NOW)
    assert factors(session, cust)["crm_health"] == (Decimal(60), Decimal(2), "crm")
    assert score_of(session, cust) == Decimal(70)
    set_crm_health(session=session, customer_id=cust.id, score=None, now=NOW)
    assert score_of(session, cust) == Decimal(90)  # not adopted a second time


def test_write_back_is_queued_once_per_change_and_only_with_a_crm_id(session):
    cust = f.customer(session, health=None)
    cust.crm_id = ACCOUNT
    quiet = f.customer(session, health=None)
    session.flush()
    for c in (cust, quiet):
        set_crm_health(session=session, customer_id=c.id, score=Decimal(70), now=NOW)
    [first] = write_backs(session)
    assert first.payload == {"accountId": ACCOUNT, "value": 70.0}
    assert first.related_type == "customer" and first.related_id == cust.id

    assert refresh_scores(session=session, now=NOW)["health_write_backs"] == 0
    set_crm_health(session=session, customer_id=cust.id, score=Decimal(70), now=NOW)
    assert len(write_backs(session)) == 1  # no change, no delivery

    set_crm_health(session=session, customer_id=cust.id, score=Decimal(40), now=NOW)
    set_crm_health(session=session, customer_id=cust.id, score=Decimal(70), now=NOW)
    sent = write_backs(session)
    assert [d.payload["value"] for d in sent] == [70.0, 40.0, 70.0]  # back to 70 is a change too
    assert len({d.idempotency_key for d in sent}) == 3
    assert sent[-1].idempotency_key == f"salesforce-health:{cust.id}:3:70.00"

    set_crm_health(session=session, customer_id=cust.id, score=None, now=NOW)
    assert score_of(session, cust) is None
    assert len(write_backs(session)) == 3  # a score that went away is not written back


def test_stored_weights_follow_the_known_weights(session):
    cust = f.customer(session, health=None)
    for name, value in (("crm_health", 40), ("adoption", 100)):
        f.add(
            session,
            HealthFactor(
                customer_id=cust.id, factor=name, score=Decimal(value), weight=1, source="x"
            ),
        )
    refresh_scores(session=session, now=NOW)
    assert factors(session, cust)["crm_health"][1] == Decimal(2)
    assert score_of(session, cust) == Decimal(60)  # (40 × 2 + 100) ÷ 3


def _adoption_metric(session, key, *, unit="%", direction=Direction.HIGHER):
    return f.metric(session, key, direction, unit, name=key, kind=MetricKind.ADOPTION)


def test_adoption_averages_each_metrics_latest_week_and_drops_stale_data(session):
    cust = f.customer(session, health=None)
    _adoption_metric(session, "feature_adoption")
    _adoption_metric(session, "onboarding_completion")
    _adoption_metric(session, "connected_systems", unit="integrations")
    for day in range(20):  # 20 days of feature adoption: 40 … 59, the last week is 53 … 59
        f.observe_at(session, cust, "feature_adoption", {NOW - timedelta(days=19 - day): 40 + day})
    f.observe_at(session, cust, "onboarding_completion", {NOW - timedelta(days=2): 130})  # → 100
    f.observe_at(session, cust, "onboarding_completion", {NOW - timedelta(days=40): 0})  # too old
    f.observe_at(session, cust, "connected_systems", {NOW - timedelta(days=1): 4})  # not a share
    assert refresh_adoption(session=session, now=NOW)["adoption_updated"] == 1
    score, weight, source = factors(session, cust)["adoption"]
    assert (score, weight, source) == (Decimal("78.00"), Decimal(1), "usage")  # (56 + 100) ÷ 2

    later = NOW + timedelta(days=31)
    assert refresh_adoption(session=session, now=later)["adoption_removed"] == 1
    assert "adoption" not in factors(session, cust)


def test_the_health_read_names_weights_shares_and_sources(session):
    cust = f.customer(session, health=None)
    set_crm_health(session=session, customer_id=cust.id, score=Decimal(80), now=NOW)
    upsert_factor(
        session=session,
        customer_id=cust.id,
        factor="goal_attainment",
        score=Decimal(35),
        source="goal_detection",
        details={"achieved": 1, "tracked": 3},
    )
    waiting = customer_health(session=session, customer_id=cust.id)
    # The stored score until the next refresh, which the read says is due.
    assert waiting.score == Decimal(80) and waiting.band == HealthBand.HEALTHY
    assert waiting.computed_at == NOW and pending(waiting)
    refresh_scores(session=session, customer_ids=[cust.id], now=NOW + timedelta(days=11))
    health = customer_health(session=session, customer_id=cust.id)
    assert health.score == Decimal(65) and health.band == HealthBand.WATCH  # (160 + 35) ÷ 3
    assert not pending(health)
    assert [(x.label, x.weight, x.share, x.source) for x in health.factors] == [
        ("CRM health score", Decimal(2), pytest.approx(0.6667), "CRM"),
        ("Goal attainment", Decimal(1), pytest.approx(0.3333), "Goal detection"),
    ]
    assert health.factors[1].details == {"achieved": 1, "tracked": 3}
    assert health.weights["crm_health"] == 2 and health.weights["adoption"] == 1
    assert "left out" in health.method


def test_the_job_refreshes_adoption_then_scores(session):
    cust = f.customer(session, health=50)
    cust.crm_id = ACCOUNT
    session.flush()
    _adoption_metric(session, "feature_adoption")
    f.observe_at(session, cust, "feature_adoption", {NOW - timedelta(days=1): 80})
    details = health_job(session=session, now=NOW)
    assert details["adoption_updated"] == 1 and details["health_changed"] == 1
    assert score_of(session, cust) == Decimal(60)  # (50 × 2 + 80) ÷ 3
    assert [d.payload["value"] for d in write_backs(session)] == [60.0]
    again = health_job(session=session, now=NOW)
    assert again["health_changed"] == again["health_write_backs"] == 0


def test_the_pass_notes_a_changed_factor_even_when_the_score_stays(session):
    cust = f.customer(session, health=None)
    set_crm_health(session=session, customer_id=cust.id, score=Decimal(60), now=NOW)
    later = NOW + timedelta(minutes=3)
    # 60 × 2 + 60 = 60 × 3: a new factor that leaves the number where it was.
    upsert_factor(
        session=session,
        customer_id=cust.id,
        factor="goal_attainment",
        score=Decimal(60),
        source="goal_detection",
        now=later,
    )
    assert pending(customer_health(session=session, customer_id=cust.id))
    details = health_job(session=session, now=later + timedelta(minutes=2))
    assert details["health_changed"] == 0 and details["health_write_backs"] == 0
    health = customer_health(session=session, customer_id=cust.id)
    assert health.score == Decimal(60) and not pending(health)
    assert health.computed_at == later + timedelta(minutes=2)
