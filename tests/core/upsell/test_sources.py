import logging
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.customers.models import TimelineEvent
from core.errors import Invalid, NotFound
from core.upsell.models import (
    Measurement,
    Product,
    Upsell,
    UpsellAmendment,
    UpsellProduct,
    UpsellSource,
    UpsellType,
)
from core.upsell.plans import create_plans
from core.upsell.sources import apply_amendments, create_manual_upsell, upsert_opportunities
from tests import factories as f
from tests.core.upsell.scenarios import amendment, catalog, opportunity

ACCOUNT = "001000000000001AAA"


@pytest.fixture
def cust(session):
    catalog(session)
    return f.customer(session, crm_id=ACCOUNT)


def _upsell(session, opportunity_id) -> Upsell:
    session.expire_all()
    return session.scalar(select(Upsell).where(Upsell.opportunity_id == opportunity_id))


def _lines(session, upsell) -> dict:
    rows = session.scalars(select(UpsellProduct).where(UpsellProduct.upsell_id == upsell.id))
    return {r.product_code: (r.quantity, r.arr) for r in rows}


def test_new_opportunity_becomes_an_upsell(session, cust):
    opp = opportunity(
        "006A",
        ACCOUNT,
        amount=30000,
        type="Cross-Sell",
        criteria="Reach 80% adoption",
        products=[("analytics", "Analytics", 2, 18000.0), ("automation", "Automation", 1, 12000.0)],
    )
    counts = upsert_opportunities(session=session, opportunities=[opp])
    assert counts == {"created": 1, "updated": 0, "unchanged": 0, "unknown_account": 0, "replan": 0}
    row = _upsell(session, "006A")
    assert (row.customer_id, row.source, row.type) == (
        cust.id,
        UpsellSource.SALESFORCE,
        UpsellType.CROSS_SELL,
    )
    assert (row.arr_increase, row.close_date, row.stated_criteria) == (
        Decimal("30000.00"),
        f.CLOSE,
        "Reach 80% adoption",
    )
    assert (row.sales_rep_name, row.source_modified_at) == ("Olive Owner", f.NOW)
    assert _lines(session, row) == {
        "analytics": (2, Decimal("18000.00")),
        "automation": (1, Decimal("12000.00")),
    }


def test_an_18_character_account_id_matches_a_15_character_crm_id(session):
    catalog(session)
    cust = f.customer(session, crm_id=ACCOUNT[:15])
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    assert _upsell(session, "006A").customer_id == cust.id


def test_unchanged_resync_writes_nothing(session, cust):
    opp = opportunity("006A", ACCOUNT)
    upsert_opportunities(session=session, opportunities=[opp])
    before = _upsell(session, "006A").updated_at
    again = upsert_opportunities(session=session, opportunities=[opp])
    assert again["unchanged"] == 1 and again["created"] == again["updated"] == 0
    assert _upsell(session, "006A").updated_at == before


def test_changed_amount_and_products_update_the_upsell_and_ask_for_a_replan(session, cust):
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    [plan_id] = create_plans(session=session, now=f.NOW)
    changed = opportunity(
        "006A",
        ACCOUNT,
        amount=45000,
        modified=f.NOW + timedelta(hours=1),
        products=[("analytics", "Analytics", 1, 20000.0), ("automation", "Automation", 1, 25000.0)],
    )
    counts = upsert_opportunities(session=session, opportunities=[changed], now=f.NOW)
    assert (counts["updated"], counts["replan"]) == (1, 1)
    row = _upsell(session, "006A")
    assert row.arr_increase == Decimal("45000.00")
    assert set(_lines(session, row)) == {"analytics", "automation"}
    assert session.get(Measurement, plan_id).replan_requested_at == f.NOW


def test_renamed_opportunity_updates_without_a_replan(session, cust):
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    create_plans(session=session)
    renamed = opportunity("006A", ACCOUNT, name="Renamed", modified=f.NOW + timedelta(hours=1))
    counts = upsert_opportunities(session=session, opportunities=[renamed])
    assert (counts["updated"], counts["replan"]) == (1, 0)
    assert _upsell(session, "006A").name == "Renamed"


def test_an_older_copy_of_an_opportunity_is_ignored(session, cust):
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    old = opportunity("006A", ACCOUNT, amount=1, modified=f.NOW - timedelta(days=1))
    assert upsert_opportunities(session=session, opportunities=[old])["unchanged"] == 1
    assert _upsell(session, "006A").arr_increase == Decimal("20000.00")


def test_unknown_account_is_counted_and_skipped_with_a_reason(session, cust, caplog):
    caplog.set_level(logging.WARNING)
    opps = [opportunity("006A", ACCOUNT), opportunity("006B", "001UNKNOWN")]
    counts = upsert_opportunities(session=session, opportunities=opps)
    assert (counts["created"], counts["unknown_account"]) == (1, 1)
    assert _upsell(session, "006B") is None
    assert "006B skipped: no customer has CRM id 001UNKNOWN" in caplog.text


def test_unknown_products_join_the_catalogue_and_lines_without_code_are_skipped(session, cust):
    opp = opportunity(
        "006A", ACCOUNT, products=[("new-thing", "New thing", 1, 5000.0), (None, "?", 1, 1.0)]
    )
    upsert_opportunities(session=session, opportunities=[opp])
    assert set(_lines(session, _upsell(session, "006A"))) == {"new-thing"}
    assert session.get(Product, "new-thing").name == "New thing"


def test_positive_amendment_expands_a_known_upsell_once(session, cust):
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    [plan_id] = create_plans(session=session)
    plus = amendment("800A", ACCOUNT, 5000.0, opportunity_id="006A", description="10 seats")
    counts = apply_amendments(session=session, amendments=[plus], now=f.NOW)
    assert (counts["expanded"], counts["created"], counts["contracted"]) == (1, 0, 0)
    row = _upsell(session, "006A")
    assert (row.arr_increase, row.amended_at) == (Decimal("25000.00"), f.NOW)
    assert session.get(Measurement, plan_id).replan_requested_at == f.NOW
    again = apply_amendments(session=session, amendments=[plus])
    assert again["unchanged"] == 1 and _upsell(session, "006A").arr_increase == Decimal("25000.00")
    # A later opportunity re-sync keeps the amended ARR on top of the new amount.
    resync = opportunity("006A", ACCOUNT, amount=21000, modified=f.NOW + timedelta(hours=1))
    upsert_opportunities(session=session, opportunities=[resync])
    assert _upsell(session, "006A").arr_increase == Decimal("26000.00")


def test_positive_amendment_on_an_unknown_opportunity_creates_an_upsell(session, cust):
    plus = amendment("800A", ACCOUNT, 7500.0, opportunity_id="006NEW", description="Add-on")
    counts = apply_amendments(session=session, amendments=[plus])
    assert counts["created"] == 1
    row = _upsell(session, "006NEW")
    assert (row.source, row.arr_increase, row.close_date, row.name) == (
        UpsellSource.AMENDMENT,
        Decimal("7500.00"),
        date(2026, 11, 10),
        "Add-on",
    )
    without_opportunity = amendment("800B", ACCOUNT, 100.0)
    apply_amendments(session=session, amendments=[without_opportunity])
    assert _upsell(session, "800B").source == UpsellSource.AMENDMENT


def test_contraction_is_kept_for_the_outcome_rules(session, cust):
    upsert_opportunities(session=session, opportunities=[opportunity("006A", ACCOUNT)])
    minus = amendment("800C", ACCOUNT, -4000.0, opportunity_id="006A", description="Fewer seats")
    counts = apply_amendments(session=session, amendments=[minus])
    assert counts["contracted"] == 1
    row = _upsell(session, "006A")
    assert row.arr_increase == Decimal("20000.00")  # what was sold; the give-back is separate
    assert row.contracted_at.date() == date(2026, 11, 10)
    ledger = session.scalar(select(UpsellAmendment).where(UpsellAmendment.amendment_id == "800C"))
    assert (ledger.upsell_id, ledger.arr_change) == (row.id, Decimal("-4000.00"))
    [event] = session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == "upsell_contracted")
    )
    assert (event.related_type, event.related_id, event.body) == ("upsell", row.id, "Fewer seats")
    assert "4,000.00" in event.title
    assert apply_amendments(session=session, amendments=[minus])["unchanged"] == 1
    assert session.scalar(select(TimelineEvent).where(TimelineEvent.id != event.id)) is None


def test_contraction_without_a_known_upsell_is_an_account_wide_event(session, cust):
    apply_amendments(session=session, amendments=[amendment("800D", ACCOUNT, -900.0)])
    [event] = session.scalars(select(TimelineEvent))
    assert (event.kind, event.related_id, event.customer_id) == ("upsell_contracted", None, cust.id)
    assert session.scalar(select(Upsell)) is None


def test_amendment_for_an_unknown_account_is_skipped(session, cust):
    counts = apply_amendments(session=session, amendments=[amendment("800E", "001NOPE", 10.0)])
    assert counts["unknown_account"] == 1
    assert session.scalar(select(UpsellAmendment)) is None


def _manual(session, cust, **overrides):
    args = dict(
        session=session,
        customer_id=cust.id,
        name="Pilot",
        type="upsell",
        arr_increase=0,
        close_date=date(2026, 11, 1),
        products=["analytics", "automation"],
        sales_rep_name="Sam",
        stated_criteria="Reach 70% adoption",
        actor=f.csm(session),
    )
    return create_manual_upsell(**(args | overrides))


def test_manual_upsell_with_zero_arr_is_valid_and_audited(session, cust):
    row = _manual(session, cust)
    assert (row.source, row.arr_increase, row.type) == (UpsellSource.MANUAL, 0, UpsellType.UPSELL)
    assert row.opportunity_id.startswith("manual-")
    assert set(_lines(session, row)) == {"analytics", "automation"}
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(row.id)))
    assert entry.action == "upsell.create" and entry.changes["arrIncrease"] == "0"


def test_manual_upsell_splits_its_arr_over_the_products(session, cust):
    row = _manual(session, cust, arr_increase=Decimal("100.01"))
    lines = _lines(session, row)
    assert sum(arr for _, arr in lines.values()) == Decimal("100.01")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"arr_increase": -1}, "arrIncrease: must be at least 0"),
        ({"name": "  "}, "name"),
        ({"type": "downsell"}, "type"),
        ({"products": ["nope"]}, "unknown product"),
        ({"close_date": date.today() + timedelta(days=3)}, "future"),
    ],
)
def test_manual_upsell_rejects_bad_input(session, cust, overrides, message):
    with pytest.raises(Invalid, match=message):
        _manual(session, cust, **overrides)


def test_manual_upsell_needs_a_known_customer(session, cust):
    with pytest.raises(NotFound):
        _manual(session, cust, customer_id=uuid.uuid4())
