"""Closed upsells, what their usage does after the close, and the customers who later left.

Two kinds of upsells:

- **current** — about 30% of accounts closed one in the six months before `as_of`; nothing has
  planned them yet: the jobs' first run does (its targets derive from the baselines at close);
- **older** (`history`) — about 20% of the other accounts closed one 4 to 18 months before
  `as_of`; the app planned and tracked them at the time (data.plan_history), and their CSMs
  confirmed how they ended.

Each upsell has a **fate** (success, partial, at risk, failed) that its criteria metrics follow
after the close: a lift beyond the template's uplift for the customer's segment that arrives
within weeks (success), on half of its criteria (partial), a small slow one (at risk), or barely
any (failed). How it really ends is what the data shows at the last checkpoint. The chance of
success depends on the product and the segment, so similar upsells predict each other.

Older upsells that closed more than a year ago also carry the churn story: a few customers gave
part of the expansion back during the plan (an account-wide contraction: the plan fails), and a
few left within a year of the close (a lost renewal: a churn), after which they stop reporting
usage.
"""

import math
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from core.customers.events import title
from core.customers.models import CustomerEventKind
from core.upsell.targets import criteria_sentences, parse_criterion
from data import phrases
from data.catalog import HAND_MEASURED, HIGHER, MEASURED, METRIC, PRODUCTS, TEMPLATES
from data.load import at, new_id
from data.people import Account, Person
from data.scenarios import index
from data.usage import Shape

UPSELL_SHARE = 0.3
HISTORY_SHARE = 0.2
UPSELL_WINDOW_DAYS = 182
HISTORY_DAYS = (120, 545)  # older upsells closed this many days before as_of
LONG_PLAN_DAYS = 100  # a 180-day plan needs this much longer to have ended
YEAR = 365
SEGMENT_PRICE = {"smb": 0.6, "mid_market": 1.0, "enterprise": 2.5}
ALNUM = string.digits + string.ascii_letters
# Chance of success by main product and segment; the rest end partial, at risk or failed.
PRODUCT_SUCCESS = {
    "ai-assistant": 0.6,
    "extra-seats": 0.65,
    "analytics-addon": 0.45,
    "automation-suite": 0.4,
    "premium-support": 0.35,
    "integrations-pack": 0.5,
}
SEGMENT_SUCCESS = {"smb": -0.1, "mid_market": 0.0, "enterprise": 0.1}
NOT_SUCCESS = {"partial": 45, "at_risk": 20, "failed": 35}
# The first older upsells take these fates, so every demo has each outcome.
FIRST_FATES = ("success", "partial", "failed", "at_risk", "success")
CHURN_SHARE, CONTRACTION_SHARE = 0.08, 0.12  # of older upsells closed over a year ago
DEFAULT_UPLIFT = 0.2
BASELINE_LEAD = 45  # days of usage a measured metric has before the close (baseline, trend)


@dataclass
class Expansion:
    id: uuid.UUID
    account: Account
    opportunity: str
    close: date
    lines: list[tuple]  # (id, product code, quantity, ARR)
    source: str
    kind: str
    rep: Person
    criteria: str | None
    fate: str
    history: bool
    shapes: dict[str, Shape] = field(default_factory=dict)
    churn_on: date | None = None
    contraction: tuple[date, Decimal] | None = None
    pinned: bool = False  # a deliberate fate (FIRST_FATES): always decided by its CSM

    @property
    def codes(self) -> list[str]:
        return [code for _, code, _, _ in self.lines]

    @property
    def total(self) -> Decimal:
        return sum((arr for _, _, _, arr in self.lines), Decimal("0.00"))

    @property
    def main_product(self) -> str:
        """The line with the most ARR (as the outcome report and the prediction group plans)."""
        return min(self.lines, key=lambda line: (-line[3], line[1]))[1]

    @property
    def name(self) -> str:
        return f"{self.account.name} - " + " + ".join(PRODUCTS[c][0] for c in self.codes)


def _opportunity(rng: random.Random, taken: set[str]) -> str:
    found = ""
    while not found or found in taken:
        found = "006" + "".join(rng.choice(ALNUM) for _ in range(15))
    taken.add(found)
    return found


def _fate(rng: random.Random, account: Account, product: str) -> str:
    chance = PRODUCT_SUCCESS[product] + SEGMENT_SUCCESS[account.segment]
    if rng.random() < chance:
        return "success"
    return rng.choices(list(NOT_SUCCESS), list(NOT_SUCCESS.values()))[0]


def _lines(rng: random.Random, account: Account, codes: list[str], free: bool) -> list[tuple]:
    lines = []
    for code in codes:
        qty = rng.randint(1, 8) if code == "extra-seats" else 1
        price = PRODUCTS[code][2] * qty * SEGMENT_PRICE[account.segment] * rng.uniform(0.75, 1.05)
        arr = Decimal(0 if free else round(price, -2)).quantize(Decimal("0.01"))
        lines.append((new_id(rng), code, qty, arr))
    return lines


def _uplift(code: str, key: str, segment: str) -> float:
    for criterion in TEMPLATES[code][0]:
        if criterion.get("metricKey") == key and "uplift" in criterion:
            return criterion["uplift"][segment]
    return DEFAULT_UPLIFT


def _measured(e: Expansion) -> dict[str, float]:
    """The metrics the plan will measure from usage, with the template uplift each aims for."""
    keys = {k: _uplift(code, k, e.account.segment) for code in e.codes for k in MEASURED[code]}
    for sentence in criteria_sentences(e.criteria):
        key = parse_criterion(sentence, METRIC).get("metric_key")
        if key:
            keys.setdefault(key, DEFAULT_UPLIFT)
    return keys


def _lift(rng: random.Random, fate: str, uplift: float, strong: bool, long: bool) -> tuple:
    """Return (share the metric moves, days it takes to get there) for an upsell's fate."""
    stretch = 1.8 if long else 1.0
    if fate == "success" or (fate == "partial" and strong):
        share, days = uplift * rng.uniform(1.8, 2.6) + 0.05, rng.randint(15, 55)
    elif fate == "partial":
        share, days = uplift * rng.uniform(0.2, 0.5), rng.randint(40, 80)
    elif fate == "at_risk":
        share, days = uplift * rng.uniform(0.35, 0.6), rng.randint(60, 110)
    else:
        share, days = uplift * rng.uniform(-0.1, 0.2), rng.randint(30, 80)
    return share, max(1, round(days * stretch))


def _shape(e: Expansion, rng: random.Random, as_of: date) -> None:
    """Give every measured metric of the upsell the lift its fate asks for, from the close on."""
    measured = sorted(_measured(e).items())
    long = any(max(TEMPLATES[c][1]) > 90 for c in e.codes)
    strong = set(rng.sample([k for k, _ in measured], math.ceil(len(measured) / 2)))
    start = index(e.close, as_of)
    for key, uplift in measured:
        share, days = _lift(rng, e.fate, uplift, key in strong, long)
        if METRIC[key].direction != HIGHER:
            share = -min(0.7, share)
        e.shapes[key] = Shape(
            flat=True,
            lift=share,
            lift_at=start,
            lift_days=days,
            calm_from=start - 30,
            owner="upsell",
            since=start - BASELINE_LEAD,
        )


def _pick(rng: random.Random, accounts: list[Account], share: float, taken: set) -> list:
    free = [a for a in accounts if a.id not in taken]
    chosen = rng.sample(free, min(len(free), max(1, round(len(accounts) * share))))
    taken.update(a.id for a in chosen)
    return sorted(chosen, key=lambda a: a.index)


def plan_expansions(
    rng: random.Random, accounts: list[Account], sales: list[Person], as_of: date
) -> list[Expansion]:
    """Return the older upsells (first) and the current ones, each with its fate and lifts."""
    taken: set = set()
    older = _pick(rng, accounts, HISTORY_SHARE, taken) if len(accounts) > 1 else []
    current = _pick(rng, accounts, UPSELL_SHARE, taken)
    ids: set[str] = set()
    found = []
    for n, account in enumerate(older + current):
        history = n < len(older)
        free = rng.random() < 0.05  # a no-charge pilot or swap still counts as an expansion
        codes = rng.sample(sorted(PRODUCTS), rng.choices((1, 2), (65, 35))[0])
        fate = _fate(rng, account, codes[0])
        pinned = history and n < len(FIRST_FATES)
        if pinned:
            fate = FIRST_FATES[n]
        if not history and fate == "success" and rng.random() < 0.8:
            # Hand-measured criteria wait for a person; a success the data can show has none.
            codes = [c for c in codes if c not in HAND_MEASURED] or [
                rng.choice(sorted(set(PRODUCTS) - HAND_MEASURED))
            ]
        # An older plan has ended: the 180-day plans of longer products closed earlier.
        long = any(max(TEMPLATES[c][1]) > 90 for c in codes)
        oldest = HISTORY_DAYS[0] + (LONG_PLAN_DAYS if long else 0)
        days = (
            rng.randint(oldest, HISTORY_DAYS[1]) if history else rng.randint(1, UPSELL_WINDOW_DAYS)
        )
        criteria = rng.choice(phrases.UPSELL_CRITERIA) if rng.random() < 0.5 else None
        e = Expansion(
            id=new_id(rng),
            account=account,
            opportunity=_opportunity(rng, ids),
            close=as_of - timedelta(days=days),
            lines=_lines(rng, account, codes, free),
            source="salesforce" if rng.random() < 0.75 else "manual",
            kind=rng.choices(("expansion", "upsell", "cross_sell"), (40, 35, 25))[0],
            rep=rng.choice(sales),
            criteria=None if fate == "success" and not history else criteria,
            fate=fate,
            history=history,
            pinned=pinned,
        )
        found.append(e)
    _churn(rng, [e for e in found if e.history], as_of)
    for e in found:
        _shape(e, rng, as_of)
    return found


def _churn(rng: random.Random, older: list[Expansion], as_of: date) -> None:
    """Pick the older upsells whose customer gave ARR back during the plan, or left later."""
    known = [e for e in older if (as_of - e.close).days > YEAR]
    shrinking = [e for e in known if e.fate != "success"] or known
    for e in _some(rng, shrinking, CONTRACTION_SHARE, len(known)):
        cut = (e.total * Decimal(str(round(rng.uniform(0.25, 0.6), 2)))).quantize(Decimal("1"))
        if cut > 0:
            e.contraction = (e.close + timedelta(days=rng.randint(45, 80)), -cut)
            e.fate = "failed"  # the proposal rules fail a plan whose customer gave ARR back
    # A churn after the plan ended, within a year of the close, 20 to 75 days before as_of.
    staying = [e for e in known if e.contraction is None]
    leaving = [e for e in staying if (as_of - e.close).days <= YEAR + 74]
    if staying and not leaving:  # move one close into range: every demo shows a churn
        e = rng.choice(staying)
        e.close = as_of - timedelta(days=rng.randint(YEAR + 15, YEAR + 65))
        leaving = [e]
    for e in _some(rng, leaving, CHURN_SHARE, len(known)):
        low = max(e.close + timedelta(days=120), as_of - timedelta(days=75))
        high = min(e.close + timedelta(days=YEAR - 1), as_of - timedelta(days=20))
        e.churn_on = low + timedelta(days=rng.randint(0, (high - low).days))


def _some(rng: random.Random, pool: list, share: float, of: int) -> list:
    """Return `share` of `of` items from `pool` (at least one when the pool has any)."""
    return rng.sample(pool, min(len(pool), max(1, round(of * share)))) if pool else []


def stops(expansions: list[Expansion], as_of: date) -> dict[uuid.UUID, int]:
    """Return the day each customer who left stopped reporting usage."""
    return {e.account.id: index(e.churn_on, as_of) for e in expansions if e.churn_on}


UPSELL_COLUMNS = (
    "id",
    "opportunity_id",
    "customer_id",
    "source",
    "type",
    "name",
    "arr_increase",
    "close_date",
    "sales_rep_name",
    "sales_rep_email",
    "stated_criteria",
    "source_modified_at",
)
UPSELL_PRODUCT_COLUMNS = ("id", "upsell_id", "product_code", "quantity", "arr")
EVENT_COLUMNS = (
    "id",
    "customer_id",
    "kind",
    "occurred_on",
    "arr_change",
    "source",
    "source_id",
    "note",
    "timeline_event_id",
    "created_at",
    "updated_at",
)


def upsell_rows(rng: random.Random, expansions: list[Expansion]):
    for e in expansions:
        modified = at(e.close, rng) if e.source == "salesforce" else None
        yield (
            e.id,
            e.opportunity,
            e.account.id,
            e.source,
            e.kind,
            e.name,
            e.total,
            e.close,
            e.rep.name,
            e.rep.email,
            e.criteria,
            modified,
        )


def line_rows(expansions: list[Expansion]):
    for e in expansions:
        for line_id, code, qty, arr in e.lines:
            yield (line_id, e.id, code, qty, arr)


@dataclass(frozen=True)
class Event:
    """A churn or contraction with its timeline line (as core/customers/events.py stores it)."""

    id: uuid.UUID
    line_id: uuid.UUID
    customer_id: uuid.UUID
    kind: str
    day: date
    arr_change: Decimal
    source: str
    source_id: str
    note: str
    recorded: datetime


def events(rng: random.Random, expansions: list[Expansion]) -> list[Event]:
    """Return the churn and contraction events of the older upsells' customers."""
    found = []
    for e in expansions:
        if e.contraction:
            day, change = e.contraction
            found.append(
                Event(
                    new_id(rng),
                    new_id(rng),
                    e.account.id,
                    "contraction",
                    day,
                    change,
                    "api",
                    f"billing-{rng.getrandbits(40):010x}",
                    "Seats and modules reduced at the mid-term amendment.",
                    at(day, rng),
                )
            )
        if e.churn_on:
            lost = -(e.account.arr + e.total)
            found.append(
                Event(
                    new_id(rng),
                    new_id(rng),
                    e.account.id,
                    "churn",
                    e.churn_on,
                    lost,
                    "salesforce",
                    _opportunity(rng, set()),
                    f"{e.account.name} - Renewal — not renewed: moved to an in-house tool.",
                    at(e.churn_on, rng),
                )
            )
    return found


def event_rows(found: list[Event]):
    for ev in found:
        yield (
            ev.id,
            ev.customer_id,
            ev.kind,
            ev.day,
            ev.arr_change,
            ev.source,
            ev.source_id,
            ev.note,
            ev.line_id,
            ev.recorded,
            ev.recorded,
        )


def event_lines(found: list[Event]):
    """Yield the events' timeline lines (TIMELINE_COLUMNS of data.activity)."""
    for ev in found:
        yield (
            ev.line_id,
            ev.customer_id,
            datetime.combine(ev.day, time(), tzinfo=UTC),
            ev.kind,
            title(CustomerEventKind(ev.kind), ev.arr_change),
            ev.note,
            None,
            None,
            None,
        )
