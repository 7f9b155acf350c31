"""Churn on expansion (year-1 churn of expanded ARR) and where churn comes from: API, Salesforce."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from core.customers.events import EventIn, record_events
from core.customers.models import CustomerEvent, CustomerEventKind, TimelineEvent
from core.integrations.salesforce import SalesforceCrm
from core.upsell.analysis import outcomes_analysis
from core.upsell.models import Outcome, OutcomeStatus, Upsell
from core.upsell.outcomes import propose_outcomes
from core.upsell.sources import apply_amendments, sync_salesforce, upsert_opportunities
from tests import factories as f
from tests.core.upsell.scenarios import amendment, opportunity

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ACCOUNT = "001000000000007AAA"


def closed(session, cust, on: date):
    """A plan whose upsell (24,000 ARR) closed on `on`."""
    return f.plan(session, cust, started_on=on, metrics=[f.manual("Savings", 0, 10, 5)])


def lost(session, cust, kind: str, on: date, arr: int, *, about=None, source_id=None):
    kind = CustomerEventKind(kind)
    event = EventIn(
        customer_id=cust.id,
        kind=kind,
        occurred_on=on,
        arr_change=Decimal(arr),
        source="test",
        source_id=source_id or f"{kind}-{cust.id}-{on}-{arr}",
        related_type="upsell" if about else None,
        related_id=about.upsell_id if about else None,
    )
    record_events(session=session, events=[event], now=NOW)


def churn_kpi(session, **filters):
    result = outcomes_analysis(session=session, today=TODAY, **filters)
    return result.overall, next(k for k in result.kpis if k.key == "churn")


def test_churn_within_twelve_months_counts_and_after_does_not(session):
    early, late, kept = f.customer(session), f.customer(session), f.customer(session)
    for cust in (early, late, kept):
        closed(session, cust, date(2025, 6, 1))
    lost(session, early, "churn", date(2026, 3, 1), -100_000)  # 9 months after the close
    lost(session, late, "churn", date(2026, 7, 1), -100_000)  # 13 months after: base ARR by then
    overall, kpi = churn_kpi(session)
    assert (overall.churn_known, overall.churn_unknown, overall.churned) == (3, 0, 1)
    assert (overall.expanded_arr, overall.churned_arr) == (72_000, 24_000)
    assert kpi.value == overall.churn_rate == pytest.approx(1 / 3, abs=1e-4)
    assert kpi.met is False  # the target is below 10 %
    assert "$24K of $72K expanded ARR lost" in kpi.detail
    assert kpi.detail.endswith("; none younger")


def test_plans_younger_than_twelve_months_are_not_yet_known(session):
    cust, old = f.customer(session), f.customer(session)
    closed(session, cust, date(2026, 6, 1))
    lost(session, cust, "churn", date(2026, 8, 1), -50_000)
    overall, kpi = churn_kpi(session)
    assert (overall.churn_known, overall.churn_unknown) == (0, 1)
    assert kpi.value is None and kpi.met is None  # not 0 %
    assert kpi.detail == "Not yet known: 1 expansion closed less than 12 months ago, none earlier"

    closed(session, old, date(2025, 1, 15))
    overall, kpi = churn_kpi(session)
    assert (overall.churn_known, overall.churn_unknown, kpi.value) == (1, 1, 0.0)
    assert kpi.met is True
    assert (
        "over 1 expansion closed 12 or more months ago; 1 expansion closed less than 12 "
        in kpi.detail
    )


def test_contractions_count_once_and_at_most_the_expansion(session):
    cust, shrunk = f.customer(session), f.customer(session)
    first = closed(session, cust, date(2025, 1, 10))
    closed(session, cust, date(2025, 5, 1))
    lost(session, cust, "contraction", date(2025, 3, 1), -10_000, about=first)
    # Account-wide: counts against the latest expansion before it (the second), not both.
    lost(session, cust, "contraction", date(2025, 8, 1), -6_000)
    lost(session, cust, "renewal", date(2025, 12, 1), 0)  # a renewal loses nothing
    other = closed(session, shrunk, date(2025, 1, 10))
    lost(session, shrunk, "contraction", date(2025, 2, 1), -30_000, about=other)  # capped: 24k
    overall, kpi = churn_kpi(session)
    assert (overall.churned_arr, overall.expanded_arr, overall.churned) == (40_000, 72_000, 3)
    assert kpi.value == pytest.approx(40 / 72, abs=1e-4)


def test_churn_rate_per_group_follows_the_filters(session):
    cust = f.customer(session)
    closed(session, cust, date(2025, 2, 1))
    support = f.plan(
        session,
        cust,
        started_on=date(2025, 2, 1),
        metrics=[f.manual("Savings", 0, 10, 5)],
        product=("SUPPORT", "Support"),
    )
    lost(session, cust, "contraction", date(2025, 4, 1), -5_000, about=support)
    products = {
        g.value: g for g in outcomes_analysis(session=session, today=TODAY).breakdowns["product"]
    }
    assert products["SUPPORT"].churn_rate == pytest.approx(5_000 / 24_000, abs=1e-4)
    assert products["ANALYTICS"].churn_rate == 0.0
    only, _ = churn_kpi(session, product="SUPPORT")
    assert only.churned_arr == 5_000


def test_a_churn_event_fails_the_plan_it_falls_in(session):
    cust = f.customer(session)
    plan = f.plan(
        session, cust, started_on=date(2026, 8, 1), metrics=[f.manual("Savings", 0, 10, 12)]
    )
    lost(session, cust, "renewal", date(2026, 9, 1), 0)  # a renewal is no shrink signal
    propose_outcomes(session=session, now=NOW, measurement_ids=[plan.id])
    kept = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    assert kept.proposed_status != OutcomeStatus.FAILED
    assert not any("Contraction signal" in r for r in kept.proposed_reasons)
    session.delete(kept)
    lost(session, cust, "churn", date(2026, 10, 1), -24_000)
    propose_outcomes(session=session, now=NOW, measurement_ids=[plan.id])
    outcome = session.scalar(select(Outcome).where(Outcome.measurement_id == plan.id))
    assert outcome.proposed_status == OutcomeStatus.FAILED
    assert "Customer churned: $24K ARR lost" in " ".join(outcome.proposed_reasons)


def test_a_negative_amendment_is_a_contraction_of_its_upsell(session):
    cust = f.customer(session, crm_id=ACCOUNT)
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    minus = amendment("800C", ACCOUNT, -4000.0, opportunity_id="006A", description="Fewer seats")
    apply_amendments(session=session, amendments=[minus])
    upsell = session.scalar(select(Upsell).where(Upsell.opportunity_id == "006A"))
    [event] = session.scalars(select(CustomerEvent))
    assert (event.kind, event.arr_change, event.source, event.source_id) == (
        CustomerEventKind.CONTRACTION,
        Decimal("-4000.00"),
        "salesforce",
        "800C",
    )
    assert (event.customer_id, event.related_type, event.related_id) == (
        cust.id,
        "upsell",
        upsell.id,
    )
    [line] = session.scalars(select(TimelineEvent))  # the amendment's own line, not a second one
    assert event.timeline_event_id == line.id and line.kind == "upsell_contracted"


@pytest.fixture
def crm(fake_salesforce):
    session = requests.Session()
    session.verify = fake_salesforce.ca_bundle
    return SalesforceCrm(
        instance_url=fake_salesforce.base_url,
        access_token=fake_salesforce.access_token,
        upsell_types=["Expansion"],
        session=session,
        timeout=5,
    )


def test_a_closed_lost_renewal_in_salesforce_is_a_churn_event(session, fake_salesforce, crm):
    cust = f.customer(session, crm_id=ACCOUNT, arr=90_000)
    sf = fake_salesforce

    def renewal(id, **fields):  # noqa: A002
        fields = {"type": "Renewal", "is_won": False, "IsClosed": True} | fields
        sf.opportunity(id, ACCOUNT, modified="2026-11-05T10:00:00.000+0000", **fields)

    renewal("006R1", amount=45000, close_date="2026-11-01", description="Chose a competitor")
    renewal("006R2", amount=None, close_date="2026-10-01")  # no amount: the customer's ARR
    renewal("006WON", is_won=True)  # renewed: no churn
    renewal("006OTHER", type="Expansion")  # a lost expansion is not churn
    sf.opportunity(
        "006X",
        "001UNKNOWN",
        modified="2026-11-05T10:00:00.000+0000",
        type="Renewal",
        is_won=False,
        IsClosed=True,
    )
    result = sync_salesforce(session=session, crm=crm, now=NOW)
    assert result["renewals"] == {
        "unknown_account": 1,
        "no_amount": 0,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "conflict": 0,
    }
    events = {e.source_id: e for e in session.scalars(select(CustomerEvent))}
    assert set(events) == {"006R1", "006R2"}
    assert (events["006R1"].kind, events["006R1"].arr_change) == ("churn", Decimal("-45000.00"))
    assert events["006R1"].occurred_on == date(2026, 11, 1)
    assert events["006R2"].arr_change == Decimal("-90000.00")
    assert all(e.customer_id == cust.id and e.source == "salesforce" for e in events.values())
    lines = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "churn")).all()
    assert sorted(line.title for line in lines) == [
        "Customer churned: $45K ARR lost",
        "Customer churned: $90K ARR lost",
    ]
    assert "IsWon = false" in sf.queries[-1] and "Type IN ('Renewal')" in sf.queries[-1]

    again = sync_salesforce(session=session, crm=crm, now=NOW)
    assert again["renewals"]["created"] == 0
    assert "LastModifiedDate > 2026-11-05T10:00:00Z" in sf.queries[-1]
    assert len(session.scalars(select(CustomerEvent)).all()) == 2
