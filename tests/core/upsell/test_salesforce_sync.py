"""The Salesforce upsell sync end to end: the real client against the fake, committed state."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import db
from core.audit.models import Watermark
from core.customers.models import Customer
from core.db import session_scope
from core.integrations import dispatch
from core.upsell.models import Measurement, Upsell, UpsellAmendment
from core.upsell.sources import sync_salesforce
from jobs.registry import load_all, run_job
from tests import factories as f
from tests.core.upsell.scenarios import catalog

A, B = "001000000000001AAA", "001000000000002AAA"


@pytest.fixture
def wired(scratch_db, fake_salesforce, monkeypatch):
    """The app's settings point simple_salesforce at the fake; two known accounts exist."""
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", fake_salesforce.base_url)
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", fake_salesforce.access_token)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_salesforce.ca_bundle))
    db.reset()
    dispatch.clear_cache()
    with session_scope() as session:
        catalog(session)
        f.customer(session, crm_id=A)
        f.customer(session, crm_id=B)
    yield fake_salesforce
    dispatch.clear_cache()


def _seed(sf):
    line = [("analytics", "Analytics", 1, 20000.0)]
    sf.opportunity(
        "006A",
        A,
        modified="2026-11-01T10:00:00.000+0000",
        products=line,
        amount=20000,
        description="Reach 80% adoption of the new dashboards",
    )
    sf.opportunity(
        "006B",
        B,
        modified="2026-11-02T10:00:00.000+0000",
        type="Upsell",
        products=[("automation", "Automation", 1, 30000.0)],
        amount=30000,
    )
    sf.opportunity("006C", "001UNKNOWN", modified="2026-11-03T10:00:00.500+0000")
    sf.opportunity("006N", A, modified="2026-11-04T10:00:00.000+0000", type="New Business")
    sf.amendment(
        "800P",
        A,
        modified="2026-11-05T10:00:00.000+0000",
        Opportunity__c="006A",
        ARR_Change__c=5000.0,
        CustomerSignedDate="2026-11-05",
    )
    sf.amendment(
        "800M",
        B,
        modified="2026-11-06T10:00:00.000+0000",
        Opportunity__c="006B",
        ARR_Change__c=-2500.0,
        Description="Dropped a team",
    )


def _state():
    with session_scope() as session:
        upsells = {
            u.opportunity_id: (u.arr_increase, u.updated_at, u.contracted_at is not None)
            for u in session.scalars(select(Upsell))
        }
        marks = {w.key: w.value for w in session.scalars(select(Watermark))}
        ledger = session.scalar(select(func.count()).select_from(UpsellAmendment))
        return upsells, marks, ledger


def test_sync_reads_every_page_applies_and_advances_the_watermarks(wired):
    _seed(wired)
    with session_scope() as session:
        result = sync_salesforce(session=session)
    assert result["status"] == "ok"
    assert result["opportunities"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "unknown_account": 1,
        "replan": 0,
    }
    assert (result["amendments"]["expanded"], result["amendments"]["contracted"]) == (1, 1)
    assert wired.calls("queryMore")  # three opportunities, pages of two
    upsells, marks, ledger = _state()
    assert {k: v[0] for k, v in upsells.items()} == {
        "006A": Decimal("25000.00"),
        "006B": Decimal("30000.00"),
    }
    assert upsells["006B"][2] and ledger == 2
    assert marks == {
        "salesforce_opportunities": "2026-11-03T10:00:00.500000+00:00",
        "salesforce_amendments": "2026-11-06T10:00:00+00:00",
    }

    before = len(wired.queries)
    with session_scope() as session:
        again = sync_salesforce(session=session)
    assert again["opportunities"]["created"] == again["opportunities"]["updated"] == 0
    assert again["amendments"]["expanded"] == 0
    assert "LastModifiedDate > 2026-11-03T10:00:00Z" in wired.queries[before]
    assert "LastModifiedDate > 2026-11-06T10:00:00Z" in wired.queries[before + 1]
    assert _state() == (upsells, marks, ledger)  # the same-second re-read changed nothing

    wired.opportunity("006E", B, modified="2026-11-07T09:00:00.000+0000", amount=100)
    with session_scope() as session:
        third = sync_salesforce(session=session)
    assert third["opportunities"]["created"] == 1
    assert _state()[1]["salesforce_opportunities"] == "2026-11-07T09:00:00+00:00"


def test_the_job_plans_everything_synced_and_a_rerun_is_a_no_op(wired):
    _seed(wired)
    load_all()
    first = run_job("upsell_sync")
    assert first.status == "ok", first.error
    assert first.details["salesforce"] == "ok"
    assert first.details["opportunities_created"] == 2
    assert first.details["plans_created"] == first.details["predicted"] == 2
    with session_scope() as session:
        plans = session.scalars(select(Measurement)).all()
        assert all(p.predicted_success == Decimal("60.00") for p in plans)
    second = run_job("upsell_sync")
    assert second.details["plans_created"] == second.details["opportunities_created"] == 0
    assert second.details["replanned"] == 0


def test_a_salesforce_failure_rolls_the_sync_back_but_still_plans(wired):
    _seed(wired)
    with session_scope() as session:
        f.upsell(
            session, session.scalars(select(Customer)).first(), ("analytics",), source="manual"
        )
    wired.fail_next("query", status=503)
    load_all()
    run = run_job("upsell_sync")
    assert run.status == "ok"
    assert run.details["salesforce"].startswith("failed: TransientError")
    assert run.details["plans_created"] == 1
    _, marks, _ = _state()
    assert marks == {}
    assert run_job("upsell_sync").details["plans_created"] == 2


def test_not_configured_is_reported_not_raised(session, monkeypatch):
    monkeypatch.delenv("SALESFORCE_INSTANCE_URL", raising=False)
    db.reset()
    dispatch.clear_cache()
    assert sync_salesforce(session=session) == {"status": "not configured"}
