"""SOQL for upsells, lost renewals and amendments, and parsing their records into dataclasses."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from simple_salesforce.format import format_soql

from core.integrations.base import Amendment, LostRenewal, Opportunity

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


def field_name(name: str) -> str:
    """Return `name` if it is a plain SOQL field API name; ValueError otherwise."""
    value = (name or "").strip()
    if not _FIELD.match(value):
        raise ValueError(f"not a Salesforce field API name: {name!r}")
    return value


def soql_datetime(value: datetime) -> str:
    """Format a datetime as a SOQL literal in UTC; naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Whole seconds, rounded down: the bound is inclusive-ish, and reading a record twice is fine
    # (consumers are idempotent) while skipping one is not.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _since_clause(since: datetime | None) -> str:
    return f" AND LastModifiedDate > {soql_datetime(since)}" if since else ""


def upsell_query(types: list[str], since: datetime | None, criteria_field: str) -> str:
    """Return the SOQL for closed-won expansion opportunities modified after `since`."""
    where = format_soql("IsWon = true AND Type IN {types}", types=list(types))
    return (
        "SELECT Id, AccountId, Name, Type, Amount, CloseDate, LastModifiedDate, "
        f"Owner.Name, Owner.Email, {field_name(criteria_field)}, "
        "(SELECT Product2.ProductCode, Product2.Name, Quantity, TotalPrice "
        "FROM OpportunityLineItems) "
        f"FROM Opportunity WHERE {where}{_since_clause(since)} ORDER BY LastModifiedDate"
    )


def lost_renewal_query(types: list[str], since: datetime | None) -> str:
    """Return the SOQL for renewal opportunities closed as lost, modified after `since`."""
    where = format_soql("IsClosed = true AND IsWon = false AND Type IN {types}", types=list(types))
    return (
        "SELECT Id, AccountId, Name, Amount, CloseDate, LastModifiedDate, Description "
        f"FROM Opportunity WHERE {where}{_since_clause(since)} ORDER BY LastModifiedDate"
    )


@dataclass(frozen=True)
class AmendmentFields:
    """API names of the custom Contract fields the amendment query relies on."""

    amends: str = "Amendment_Of__c"
    opportunity: str = "Opportunity__c"
    arr_change: str = "ARR_Change__c"


def amendment_query(since: datetime | None, fields: AmendmentFields) -> str:
    """Return the SOQL for activated amendment contracts modified after `since`."""
    return (
        f"SELECT Id, AccountId, {field_name(fields.opportunity)}, CustomerSignedDate, "
        f"ActivatedDate, StartDate, LastModifiedDate, {field_name(fields.arr_change)}, Description "
        f"FROM Contract WHERE StatusCode = 'Activated' AND {field_name(fields.amends)} != null"
        f"{_since_clause(since)} ORDER BY LastModifiedDate"
    )


def parse_datetime(value: str) -> datetime:
    """Parse Salesforce's `2024-05-01T10:00:00.000+0000` into an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _products(record: dict) -> list[dict]:
    items = record.get("OpportunityLineItems") or {}
    products = []
    for line in items.get("records") or []:
        product = line.get("Product2") or {}
        products.append(
            {
                "code": product.get("ProductCode"),
                "name": product.get("Name"),
                "quantity": float(line.get("Quantity") or 0),
                "arr": float(line.get("TotalPrice") or 0),
            }
        )
    return products


def parse_opportunity(record: dict, criteria_field: str) -> Opportunity:
    """Turn one Opportunity record (with its line items) into an Opportunity."""
    owner = record.get("Owner") or {}
    return Opportunity(
        id=record["Id"],
        account_id=record["AccountId"],
        name=record.get("Name") or "",
        type=record.get("Type") or "",
        amount=float(record.get("Amount") or 0),
        close_date=_date(record["CloseDate"]),
        owner_name=owner.get("Name"),
        owner_email=owner.get("Email"),
        last_modified=parse_datetime(record["LastModifiedDate"]),
        success_criteria=record.get(criteria_field),
        products=_products(record),
    )


def parse_lost_renewal(record: dict) -> LostRenewal:
    """Turn one closed-lost renewal Opportunity record into a LostRenewal."""
    return LostRenewal(
        id=record["Id"],
        account_id=record["AccountId"],
        name=record.get("Name") or "",
        amount=float(record.get("Amount") or 0),
        close_date=_date(record["CloseDate"]),
        last_modified=parse_datetime(record["LastModifiedDate"]),
        description=record.get("Description"),
    )


def parse_amendment(record: dict, fields: AmendmentFields) -> Amendment:
    """Turn one amendment Contract record into an Amendment."""
    signed = (
        _date(record.get("CustomerSignedDate"))
        or _date(record.get("ActivatedDate"))
        or _date(record.get("StartDate"))
        or _date(record["LastModifiedDate"])
    )
    return Amendment(
        id=record["Id"],
        account_id=record["AccountId"],
        opportunity_id=record.get(fields.opportunity),
        signed_date=signed,
        last_modified=parse_datetime(record["LastModifiedDate"]),
        arr_change=float(record.get(fields.arr_change) or 0),
        description=record.get("Description"),
    )
