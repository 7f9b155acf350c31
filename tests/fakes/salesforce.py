"""A fake Salesforce REST API over HTTPS (trustme CA): query, queryMore, Account PATCH.

Records live in `fake.records["Opportunity" | "Contract"]` (add them with `opportunity()` and
`amendment()`). The query endpoint understands the WHERE clauses the wrapper sends well enough:
`Field = true|false|'text'`, `Field != null`, `Field IN ('a','b')`, `LastModifiedDate > <iso>`,
and `ORDER BY LastModifiedDate`. Results come in pages of `page_size` with `nextRecordsUrl`.
Use `fake.ca_bundle` as `requests.Session().verify` and `fake.base_url` as the instance URL.
Endpoints for fault injection: query, queryMore, account.update.
"""

import itertools
import re
import ssl
from datetime import datetime
from pathlib import Path

import trustme

from tests.fakes.server import FakeServer, Recorded, Reply

_QUERY = re.compile(r"\bFROM (Opportunity|Contract)\b(?: WHERE (.*?))?(?: ORDER BY (\w+))?$")
_VERSION = r"/services/data/v\d+\.\d+"
_ROUTES = [
    ("GET", re.compile(_VERSION + r"/query/?$"), "query"),
    ("GET", re.compile(_VERSION + r"/query/(?P<cursor>[\w-]+)$"), "queryMore"),
    ("PATCH", re.compile(_VERSION + r"/sobjects/Account/(?P<id>\w+)$"), "account.update"),
]


def sf_error(status: int, code: str, message: str = "") -> Reply:
    """Return a Salesforce-style error list reply."""
    return Reply(status=status, json=[{"message": message or code, "errorCode": code}])


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _matches(record: dict, condition: str) -> bool:
    condition = condition.strip()
    if m := re.fullmatch(r"LastModifiedDate > (\S+)", condition):
        return _when(record["LastModifiedDate"]) > _when(m.group(1))
    if m := re.fullmatch(r"(\w+) != null", condition):
        return record.get(m.group(1)) is not None
    if m := re.fullmatch(r"(\w+) IN \((.*)\)", condition):
        values = [re.sub(r"\\(.)", r"\1", v) for v in re.findall(r"'((?:[^'\\]|\\.)*)'", m[2])]
        return record.get(m.group(1)) in values
    if m := re.fullmatch(r"(\w+) = (true|false)", condition):
        return record.get(m.group(1)) is (m.group(2) == "true")
    if m := re.fullmatch(r"(\w+) = '((?:[^'\\]|\\.)*)'", condition):
        return record.get(m.group(1)) == m.group(2)
    raise ValueError(f"fake Salesforce cannot evaluate {condition!r}")


class FakeSalesforce(FakeServer):
    """Salesforce's REST API as far as Outcomes uses it."""

    def __init__(self, directory: Path, *, access_token: str = "00Dfake!token", page_size: int = 2):
        super().__init__()
        self.access_token = access_token
        self.page_size = page_size
        self.records: dict[str, list[dict]] = {"Opportunity": [], "Contract": []}
        self.queries: list[str] = []
        self.account_updates: list[tuple[str, dict]] = []
        self._cursors: dict[str, list[dict]] = {}
        self._ids = itertools.count(1)
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.ssl_context = context
        self.ca_bundle = str(Path(directory) / "salesforce-ca.pem")
        ca.cert_pem.write_to_path(self.ca_bundle)

    def route(self, method: str, path: str) -> str | None:
        return next((name for m, rx, name in _ROUTES if m == method and rx.match(path)), None)

    def handle(self, endpoint: str, request: Recorded) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if endpoint == "query":
            return self._query(request)
        if endpoint == "queryMore":
            cursor = request.path.rsplit("/", 1)[1]
            if cursor not in self._cursors:
                return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return self._page(self._cursors.pop(cursor), request.path.rsplit("/", 1)[0])
        account_id = request.path.rsplit("/", 1)[1]
        if not account_id.startswith("001"):
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        self.account_updates.append((account_id, request.json or {}))
        return Reply(status=204)

    def _query(self, request: Recorded) -> Reply:
        soql = request.query.get("q", "")
        self.queries.append(soql)
        found = _QUERY.search(soql)
        if not found:
            return sf_error(400, "MALFORMED_QUERY", "fake cannot parse this query")
        records = self.records[found.group(1)]
        for condition in (found.group(2) or "").split(" AND ") if found.group(2) else []:
            records = [r for r in records if _matches(r, condition)]
        if found.group(3):
            records = sorted(records, key=lambda r: _when(r[found.group(3)]))
        return self._page(records, request.path.rstrip("/").rsplit("/", 1)[0] + "/query")

    def _page(self, records: list[dict], query_path: str) -> Reply:
        page, rest = records[: self.page_size], records[self.page_size :]
        body = {"totalSize": len(records), "done": not rest, "records": page}
        if rest:
            cursor = f"01gFAKE{next(self._ids)}-{self.page_size}"
            self._cursors[cursor] = rest
            body["nextRecordsUrl"] = f"{query_path}/{cursor}"
        return Reply(json=body)

    # record builders ---------------------------------------------------------------------
    def opportunity(self, id: str, account_id: str, *, modified: str, **fields) -> dict:  # noqa: A002
        """Add a closed-won Opportunity (REST shape); `products` = [(code, name, qty, price)]."""
        products = fields.pop("products", [])
        owner = fields.pop("owner", ("Olive Owner", "olive@example.com"))
        record = {
            "attributes": _attributes("Opportunity", id),
            "Id": id,
            "AccountId": account_id,
            "Name": fields.pop("name", f"Expansion {id}"),
            "Type": fields.pop("type", "Expansion"),
            "IsWon": fields.pop("is_won", True),
            "Amount": fields.pop("amount", 12000.0),
            "CloseDate": fields.pop("close_date", modified[:10]),
            "LastModifiedDate": modified,
            "Owner": _owner(*owner) if owner else None,
            "Description": fields.pop("description", None),
            "OpportunityLineItems": _line_items(products) if products else None,
            **fields,
        }
        self.records["Opportunity"].append(record)
        return record

    def amendment(self, id: str, account_id: str, *, modified: str, **fields) -> dict:  # noqa: A002
        """Add a Contract amendment (REST shape); activated unless `StatusCode` is given."""
        record = {
            "attributes": _attributes("Contract", id),
            "Id": id,
            "AccountId": account_id,
            "StatusCode": "Activated",
            "Amendment_Of__c": "800ORIGINAL",
            "Opportunity__c": None,
            "CustomerSignedDate": None,
            "ActivatedDate": None,
            "StartDate": modified[:10],
            "LastModifiedDate": modified,
            "ARR_Change__c": 0.0,
            "Description": None,
            **fields,
        }
        self.records["Contract"].append(record)
        return record


def _attributes(sobject: str, record_id: str) -> dict:
    return {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"}


def _owner(name: str, email: str) -> dict:
    return {"attributes": {"type": "User"}, "Name": name, "Email": email}


def _line_items(products: list[tuple]) -> dict:
    records = [
        {
            "attributes": {"type": "OpportunityLineItem"},
            "Product2": {"attributes": {"type": "Product2"}, "ProductCode": code, "Name": name},
            "Quantity": quantity,
            "TotalPrice": price,
        }
        for code, name, quantity, price in products
    ]
    return {"totalSize": len(records), "done": True, "records": records}
