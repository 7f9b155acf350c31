from datetime import UTC, date, datetime

import pytest
import requests

from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.integrations.salesforce import SalesforceCrm, salesforce_from_settings
from core.integrations.salesforce_soql import AmendmentFields
from tests.fakes.salesforce import sf_error

SINCE = datetime(2024, 5, 1, 12, 30, 15, 987000, tzinfo=UTC)


@pytest.fixture
def upsells(fake_salesforce):
    sf = fake_salesforce
    sf.opportunity("006OLD", "001A", modified="2024-04-30T09:00:00.000+0000")
    sf.opportunity(
        "006C",
        "001A",
        modified="2024-05-04T10:00:00.000+0000",
        type="Upsell",
        amount=30000,
        description="Cut ticket volume by 25%",
        products=[("ANL-PRO", "Analytics Pro", 25, 18000.0), ("SSO", "SSO add-on", 1, 2000.0)],
    )
    sf.opportunity("006A", "001A", modified="2024-05-02T10:00:00.000+0000", owner=None)
    sf.opportunity(
        "006B", "001B", modified="2024-05-03T10:00:00.000+0000", type="O'Brien's Cross-Sell"
    )
    sf.opportunity("006LOST", "001A", modified="2024-05-05T10:00:00.000+0000", is_won=False)
    sf.opportunity("006NEW", "001A", modified="2024-05-06T10:00:00.000+0000", type="New Business")
    sf.opportunity("006D", "001C", modified="2024-05-07T10:00:00.000+0000", amount=None)
    return sf


def test_closed_upsells_are_read_through_all_pages(crm, upsells):
    found = crm.closed_upsells_since(SINCE)

    assert [o.id for o in found] == ["006A", "006B", "006C", "006D"]
    assert len(upsells.calls("queryMore")) == 1  # page size 2: query_all followed the cursor
    c = found[2]
    assert (c.account_id, c.type, c.amount, c.close_date) == (
        "001A",
        "Upsell",
        30000.0,
        date(2024, 5, 4),
    )
    assert c.last_modified == datetime(2024, 5, 4, 10, 0, tzinfo=UTC)
    assert (c.owner_name, c.owner_email) == ("Olive Owner", "olive@example.com")
    assert c.success_criteria == "Cut ticket volume by 25%"
    assert c.products == [
        {"code": "ANL-PRO", "name": "Analytics Pro", "quantity": 25.0, "arr": 18000.0},
        {"code": "SSO", "name": "SSO add-on", "quantity": 1.0, "arr": 2000.0},
    ]
    assert found[0].owner_name is None and found[0].products == []
    assert found[3].amount == 0.0


def test_upsell_soql(crm, upsells):
    crm.closed_upsells_since(SINCE)
    (soql,) = upsells.queries
    assert soql.startswith(
        "SELECT Id, AccountId, Name, Type, Amount, CloseDate, LastModifiedDate, "
    )
    assert "Owner.Name, Owner.Email, Description" in soql
    assert (
        "(SELECT Product2.ProductCode, Product2.Name, Quantity, TotalPrice "
        "FROM OpportunityLineItems)"
    ) in soql
    assert "IsWon = true" in soql
    assert "Type IN ('Expansion','Upsell','O\\'Brien\\'s Cross-Sell')" in soql
    assert "LastModifiedDate > 2024-05-01T12:30:15Z" in soql
    assert soql.endswith("ORDER BY LastModifiedDate")
    assert upsells.calls("query")[0].headers["Authorization"] == f"Bearer {upsells.access_token}"


def test_without_since_everything_is_read(crm, upsells):
    assert len(crm.closed_upsells_since(None)) == 5
    assert "LastModifiedDate >" not in upsells.queries[0]


def test_success_criteria_field_is_configurable(fake_salesforce, sf_session):
    fake_salesforce.opportunity(
        "006X", "001A", modified="2024-05-02T10:00:00.000+0000", Success_Criteria__c="Go live"
    )
    crm = SalesforceCrm(
        instance_url=fake_salesforce.base_url,
        access_token=fake_salesforce.access_token,
        upsell_types=["Expansion"],
        criteria_field="Success_Criteria__c",
        session=sf_session,
    )
    (opp,) = crm.closed_upsells_since(None)
    assert opp.success_criteria == "Go live"
    assert "Owner.Email, Success_Criteria__c," in fake_salesforce.queries[0]


def test_amendments(crm, fake_salesforce):
    sf = fake_salesforce
    sf.amendment(
        "800B",
        "001A",
        modified="2024-05-03T10:00:00.000+0000",
        Opportunity__c="006C",
        CustomerSignedDate="2024-05-02",
        ARR_Change__c=5000.0,
        Description="Added 10 seats",
    )
    sf.amendment("800A", "001B", modified="2024-05-02T10:00:00.000+0000")
    sf.amendment("800DRAFT", "001A", modified="2024-05-04T10:00:00.000+0000", StatusCode="Draft")
    sf.amendment("800ORIG", "001A", modified="2024-05-04T10:00:00.000+0000", Amendment_Of__c=None)
    sf.amendment("800OLD", "001A", modified="2024-04-01T10:00:00.000+0000")

    found = crm.amendments_since(SINCE)

    assert [a.id for a in found] == ["800A", "800B"]
    a, b = found
    assert (b.account_id, b.opportunity_id, b.signed_date) == ("001A", "006C", date(2024, 5, 2))
    assert (b.arr_change, b.description) == (5000.0, "Added 10 seats")
    assert (a.opportunity_id, a.signed_date, a.arr_change) == (None, date(2024, 5, 2), 0.0)
    (soql,) = sf.queries
    assert "FROM Contract WHERE StatusCode = 'Activated' AND Amendment_Of__c != null" in soql
    assert "Opportunity__c, CustomerSignedDate" in soql and "ARR_Change__c" in soql


def test_write_account_value(crm, fake_salesforce):
    assert crm.write_account_value(account_id="001A", value=0.82) == "001A"
    (call,) = fake_salesforce.calls("account.update")
    assert call.method == "PATCH"
    assert call.path.endswith("/sobjects/Account/001A")
    assert call.json == {"Outcomes_Health__c": 0.82}
    with pytest.raises(PermanentError) as err:
        crm.write_account_value(account_id="999", value=1)
    assert err.value.code == "NOT_FOUND"


def test_expired_session_is_permanent(fake_salesforce, sf_session):
    crm = SalesforceCrm(
        instance_url=fake_salesforce.base_url,
        access_token="expired",
        upsell_types=["Expansion"],
        session=sf_session,
    )
    with pytest.raises(PermanentError) as err:
        crm.closed_upsells_since(None)
    assert err.value.code == "INVALID_SESSION_ID"


@pytest.mark.parametrize(
    ("reply", "kind", "code"),
    [
        (sf_error(400, "MALFORMED_QUERY"), PermanentError, "MALFORMED_QUERY"),
        (sf_error(403, "INSUFFICIENT_ACCESS"), PermanentError, "INSUFFICIENT_ACCESS"),
        (sf_error(403, "REQUEST_LIMIT_EXCEEDED"), TransientError, "REQUEST_LIMIT_EXCEEDED"),
        (sf_error(429, "REQUEST_LIMIT_EXCEEDED"), TransientError, "REQUEST_LIMIT_EXCEEDED"),
        (sf_error(503, "SERVER_UNAVAILABLE"), TransientError, "SERVER_UNAVAILABLE"),
    ],
)
def test_error_replies_are_mapped(crm, upsells, reply, kind, code):
    upsells.script("query", reply)
    with pytest.raises(kind) as err:
        crm.closed_upsells_since(None)
    assert err.value.code == code


def test_failures_mid_pagination_timeouts_and_garbage_are_transient(crm, upsells):
    upsells.fail_next("queryMore", status=500)
    with pytest.raises(TransientError):
        crm.closed_upsells_since(None)
    upsells.slow_next("query", seconds=3)
    with pytest.raises(TransientError):
        crm.closed_upsells_since(None)
    upsells.garbage_next("query")
    with pytest.raises(TransientError) as err:
        crm.closed_upsells_since(None)
    assert err.value.code == "malformed_response"
    upsells.slow_next("account.update", seconds=3)
    with pytest.raises(TransientError):
        crm.write_account_value(account_id="001A", value=1)
    assert len(crm.closed_upsells_since(None)) == 5


def test_tls_is_verified(fake_salesforce):
    crm = SalesforceCrm(
        instance_url=fake_salesforce.base_url,
        access_token=fake_salesforce.access_token,
        upsell_types=["Expansion"],
        session=requests.Session(),  # the system CAs do not know the fake's CA
        timeout=0.5,
    )
    with pytest.raises(TransientError, match="SSL|certificate"):
        crm.closed_upsells_since(None)


def test_invalid_field_names_are_refused():
    with pytest.raises(PermanentError) as err:
        SalesforceCrm(instance_url="https://x", access_token="t", health_field="X__c, Name")
    assert err.value.code == "invalid_setting"
    with pytest.raises(PermanentError):
        SalesforceCrm(
            instance_url="https://x",
            access_token="t",
            amendment_fields=AmendmentFields(amends="Id) OR (Id"),
        )


def test_salesforce_from_settings(settings_for, fake_salesforce, sf_session):
    with pytest.raises(NotConfigured):
        salesforce_from_settings(settings_for())
    with pytest.raises(NotConfigured):
        salesforce_from_settings(settings_for(salesforce_instance_url=fake_salesforce.base_url))
    crm = salesforce_from_settings(
        settings_for(
            salesforce_instance_url=fake_salesforce.base_url,
            salesforce_access_token=fake_salesforce.access_token,
            salesforce_upsell_types="Upsell, Expansion ,",
            salesforce_health_field="Health_Score__c",
        ),
        session=sf_session,
    )
    assert crm.upsell_types == ["Upsell", "Expansion"]
    crm.write_account_value(account_id="001Z", value=3)
    assert fake_salesforce.account_updates == [("001Z", {"Health_Score__c": 3.0})]


def test_password_login_is_lazy():
    crm = SalesforceCrm(username="u@example.com", password="p", security_token="", domain="test")
    assert "sf" not in vars(crm)  # no login request until the first call
