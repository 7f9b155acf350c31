"""Staff users, customers and their contacts."""

import math
import random
import re
import string
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from data.catalog import CONSENT, INDUSTRIES, REGIONS, SEGMENTS, Industry
from data.load import new_id, quota
from data.words import (
    CONTACT_TITLES,
    FIRST_NAMES,
    LAST_NAMES,
    NAME_PREFIXES,
    NAME_ROOTS,
)

STAFF = (
    ("Maya Patel", "csm", "Senior Customer Success Manager"),
    ("Jonas Berg", "csm", "Customer Success Manager"),
    ("Priya Raman", "csm", "Customer Success Manager"),
    ("Diego Alvarez", "csm", "Customer Success Manager"),
    ("Hannah Okafor", "csm", "Enterprise Customer Success Manager"),
    ("Liam Chen", "csm", "Customer Success Manager"),
    ("Sofia Rossi", "csm", "Customer Success Manager"),
    ("Marcus Webb", "csm", "Customer Success Manager"),
    ("Elena Novak", "leader", "VP, Customer Success"),
    ("Tom Fischer", "leader", "Director, Customer Success"),
    ("Grace Kim", "marketing", "Customer Marketing Manager"),
    ("Omar Haddad", "marketing", "Content Marketing Lead"),
    ("Ruth Adler", "admin", "CS Operations Admin"),
    ("Noah Brooks", "sales", "Account Executive"),
    ("Isabel Moreno", "sales", "Senior Account Executive"),
    ("Kenji Watanabe", "sales", "Account Executive"),
)
CUSTOMERS_PER_CSM = 25
ALNUM = string.digits + string.ascii_letters


@dataclass
class Person:
    id: uuid.UUID
    name: str
    email: str
    role: str
    title: str
    slack_user_id: str | None = None


@dataclass
class Contact:
    id: uuid.UUID
    name: str
    email: str
    title: str
    is_primary: bool


@dataclass
class Account:
    id: uuid.UUID
    index: int
    name: str
    industry: Industry
    segment: str
    region: str
    arr: Decimal
    owner: Person
    health: float
    consent: str
    use_case: str
    since: date
    domain: str
    crm_id: str
    external_id: str
    contacts: list[Contact] = field(default_factory=list)

    @property
    def scale(self) -> float:
        """How much usage this account's size implies, relative to a small business."""
        return SEGMENTS[self.segment][2]


def _email(name: str, domain: str, taken: set[str]) -> str:
    local = re.sub(r"[^a-z.]", "", name.lower().replace(" ", "."))
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{domain}"
    taken.add(email)
    return email


def make_staff(rng: random.Random, customers: int) -> list[Person]:
    """Return the fixed team, with extra CSMs for big books (about one per 25 customers)."""
    people = [(name, role, title) for name, role, title in STAFF]
    extra = max(0, math.ceil(customers / CUSTOMERS_PER_CSM) - sum(r == "csm" for _, r, _ in STAFF))
    names = {name for name, _, _ in STAFF}
    while extra:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in names:
            names.add(name)
            people.append((name, "csm", "Customer Success Manager"))
            extra -= 1
    taken: set[str] = set()
    staff = []
    for name, role, title in people:
        slack = None
        if role == "csm":
            slack = "U0" + "".join(
                rng.choice(string.ascii_uppercase + string.digits) for _ in range(9)
            )
        staff.append(
            Person(new_id(rng), name, _email(name, "outcomes.example", taken), role, title, slack)
        )
    return staff


def _company(rng: random.Random, industry: Industry, taken: set[str]) -> tuple[str, str]:
    for attempt in range(1000):
        stem = rng.choice(NAME_PREFIXES) + rng.choice(NAME_ROOTS)
        name = f"{stem} {rng.choice(industry.suffixes)}"
        if attempt > 50:  # a huge run exhausted the plain names: add a place marker
            name = f"{name} {rng.choice(('North', 'South', 'East', 'West', 'Central'))} {attempt}"
        if name not in taken:
            taken.add(name)
            return name, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".example"
    raise RuntimeError("could not find a unique company name")


def _health(rng: random.Random) -> float:
    band = rng.random()
    low, high = (18, 45) if band < 0.2 else (45, 72) if band < 0.65 else (72, 96)
    return round(rng.uniform(low, high), 1)


def make_accounts(rng: random.Random, n: int, csms: list[Person], as_of: date) -> list[Account]:
    """Return n customers spread over industries, segments, regions and consent levels."""
    industries = quota(rng, {ind.name: 1 for ind in INDUSTRIES}, n)
    by_name = {ind.name: ind for ind in INDUSTRIES}
    segments = quota(rng, {s: w for s, (w, _, _) in SEGMENTS.items()}, n)
    regions = quota(rng, REGIONS, n)
    consents = quota(rng, CONSENT, n)
    load = [rng.uniform(0.7, 1.3) for _ in csms]  # books differ a little in size
    names: set[str] = set()
    ids: set[str] = set()
    accounts = []
    for i in range(n):
        industry = by_name[industries[i]]
        name, domain = _company(rng, industry, names)
        low, high = SEGMENTS[segments[i]][1]
        crm_id = external_id = ""
        while crm_id in ids or not crm_id:
            crm_id = "001" + "".join(rng.choice(ALNUM) for _ in range(15))
        while external_id in ids or not external_id:
            external_id = f"acct-{rng.getrandbits(40):010x}"
        ids.update((crm_id, external_id))
        account = Account(
            id=new_id(rng),
            index=i,
            name=name,
            industry=industry,
            segment=segments[i],
            region=regions[i],
            arr=Decimal(round(rng.uniform(low, high), -2)).quantize(Decimal("0.01")),
            owner=rng.choices(csms, load)[0],
            health=_health(rng),
            consent=consents[i],
            use_case=rng.choice(industry.use_cases),
            since=as_of - timedelta(days=rng.randint(370, 6 * 365)),
            domain=domain,
            crm_id=crm_id,
            external_id=external_id,
        )
        account.contacts = _contacts(rng, domain)
        accounts.append(account)
    return accounts


def _contacts(rng: random.Random, domain: str) -> list[Contact]:
    taken: set[str] = set()
    contacts = []
    for k in range(rng.choices((1, 2, 3), (30, 45, 25))[0]):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        title = rng.choice(CONTACT_TITLES)
        contacts.append(Contact(new_id(rng), name, _email(name, domain, taken), title, k == 0))
    return contacts


USER_COLUMNS = ("id", "email", "name", "role", "title", "slack_user_id", "active")
CUSTOMER_COLUMNS = (
    "id",
    "external_id",
    "crm_id",
    "name",
    "industry",
    "segment",
    "region",
    "arr",
    "owner_csm_id",
    "health_score",
    "consent_level",
    "use_case",
    "customer_since",
    "website",
)
CONTACT_COLUMNS = ("id", "customer_id", "name", "email", "title", "is_primary")


def user_rows(staff: list[Person]):
    for p in staff:
        yield (p.id, p.email, p.name, p.role, p.title, p.slack_user_id, True)


def customer_rows(accounts: list[Account]):
    for a in accounts:
        yield (
            a.id,
            a.external_id,
            a.crm_id,
            a.name,
            a.industry.name,
            a.segment,
            a.region,
            a.arr,
            a.owner.id,
            Decimal(str(a.health)),
            a.consent,
            a.use_case,
            a.since,
            f"https://www.{a.domain}",
        )


def contact_rows(accounts: list[Account]):
    for a in accounts:
        for c in a.contacts:
            yield (c.id, a.id, c.name, c.email, c.title, c.is_primary)
