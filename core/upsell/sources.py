"""Where a Salesforce closed-won becomes an upsell; contract amendments and manual entries too.

Accounts map to customers by `crm_id` (Salesforce ids compare on their first 15 characters). A
re-synced opportunity whose amount, close date or products changed asks its plan to re-plan.
Each amendment applies once (`upsell_amendments.amendment_id` is unique): a positive change adds
ARR; a negative one is a contraction, kept in the ledger, stamped on the upsell (`contracted_at`)
and put on the timeline ("upsell_contracted") for the outcome rules; it is also recorded as a
contraction event of the customer (core/customers/events.py, source id = amendment id) for the
churn figures. A renewal opportunity closed as lost is a churn event (source id = opportunity id):
its `Amount` is the ARR lost, or the customer's current ARR when the opportunity has none.

Rows are applied a chunk at a time (set-based); a chunk that fails is applied again row by row,
so one row that cannot be applied is recorded as failed with its reason (System page) and the
others are synced. The watermark then stops just before the oldest failed row, so the next sync
reads it again (rows after it apply idempotently); its failure is cleared once it goes through.
"""

import logging
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.audit.failures import Batch, batch
from core.audit.models import Watermark
from core.audit.service import record_audit
from core.customers.events import EventIn, record_events
from core.customers.models import Customer, CustomerEventKind, TimelineEvent
from core.errors import Invalid, NotFound
from core.integrations.base import Amendment, LostRenewal, NotConfigured, Opportunity
from core.integrations.dispatch import client_for
from core.settings import get_settings
from core.upsell.models import Product, Upsell, UpsellAmendment, UpsellProduct, UpsellType
from core.upsell.schemas import ManualUpsell, validated

log = logging.getLogger(__name__)

OPPORTUNITY_WATERMARK = "salesforce_opportunities"
AMENDMENT_WATERMARK = "salesforce_amendments"
RENEWAL_WATERMARK = "salesforce_lost_renewals"
EVENT_SOURCE = "salesforce"
# What each synced row is when it fails on its own (job_item_failures.item_type).
SYNC_ITEMS = {
    "opportunities": "salesforce_opportunity",
    "amendments": "salesforce_amendment",
    "renewals": "salesforce_renewal",
}
CENT = Decimal("0.01")
_UPSELLS, _LINES = Upsell.__table__, UpsellProduct.__table__

EXISTING = text(
    """
    SELECT u.id, u.opportunity_id, u.name, u.type, u.arr_increase, u.close_date,
           u.sales_rep_name, u.sales_rep_email, u.stated_criteria, u.source_modified_at,
           (SELECT coalesce(sum(a.arr_change), 0) FROM upsell_amendments a
             WHERE a.upsell_id = u.id AND a.arr_change > 0) AS amended,
           (SELECT coalesce(array_agg(p.product_code || ':' || p.quantity || ':' || p.arr), '{}')
              FROM upsell_products p WHERE p.upsell_id = u.id) AS lines
    FROM upsells u WHERE u.opportunity_id = ANY(:ids)
    """
)


ADVANCE = text(
    """
    INSERT INTO sync_watermarks (key, value) VALUES (:key, :value)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
    WHERE sync_watermarks.value::timestamptz < excluded.value::timestamptz
    """
)


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def upsell_type(raw: str | None) -> UpsellType:
    """Map a CRM opportunity type ("Cross-Sell", "Upsell" …) to ours; expansion otherwise."""
    value = (raw or "").strip().lower().replace("-", "_").replace(" ", "_")
    return UpsellType(value) if value in set(UpsellType) else UpsellType.EXPANSION


def opportunity_lines(items: list[dict]) -> dict[str, tuple[int, Decimal, str]]:
    """Merge CRM line items by product code into {code: (quantity, ARR, name)}; skip codeless."""
    lines: dict[str, tuple[int, Decimal, str]] = {}
    for item in items:
        code = (item.get("code") or "").strip()
        if code:
            qty, arr, _ = lines.get(code, (0, Decimal(0), ""))
            qty += max(1, round(item.get("quantity") or 1))
            arr += Decimal(str(item.get("arr") or 0)).quantize(Decimal("0.01"))
            lines[code] = (qty, arr, item.get("name") or code)
    return lines


def _customers(session: Session, account_ids) -> dict[str, uuid.UUID]:
    sql = text("SELECT left(crm_id, 15), id FROM customers WHERE left(crm_id, 15) = ANY(:k)")
    return dict(session.execute(sql, {"k": sorted({a[:15] for a in account_ids if a})}).all())


def _changed(row, new: dict, lines: dict) -> tuple[bool, bool]:
    """Return (anything changed, something the plan depends on changed)."""
    keys = {f"{c}:{q}:{a}" for c, (q, a, _) in lines.items()}
    before = (row.arr_increase, row.close_date, set(row.lines))
    planning = before != (new["arr_increase"], new["close_date"], keys)
    fields = ("name", "type", "sales_rep_name", "sales_rep_email", "stated_criteria")
    return planning or any(getattr(row, f) != new[f] for f in fields), planning


def upsert_opportunities(
    *, session: Session, opportunities: list[Opportunity], now: datetime | None = None
) -> dict[str, int]:
    """Create or update one upsell per closed-won opportunity; return what happened."""
    now = now or datetime.now(UTC)
    latest = {o.id: o for o in sorted(opportunities, key=lambda o: o.last_modified)}
    counts = dict.fromkeys(("created", "updated", "unchanged", "unknown_account", "replan"), 0)
    customers = _customers(session, [o.account_id for o in latest.values()])
    existing = {r.opportunity_id: r for r in session.execute(EXISTING, {"ids": list(latest)})}
    rows, lines_of, replan = [], {}, []
    for opp in latest.values():
        customer_id = customers.get((opp.account_id or "")[:15])
        if customer_id is None:
            log.warning("opportunity %s skipped: no customer has CRM id %s", opp.id, opp.account_id)
            counts["unknown_account"] += 1
            continue
        lines = opportunity_lines(opp.products)
        if any(not (item.get("code") or "").strip() for item in opp.products):
            log.warning("opportunity %s: line items without a product code skipped", opp.id)
        old = existing.get(opp.id)
        new = {
            "id": old.id if old else uuid.uuid4(),
            "opportunity_id": opp.id,
            "customer_id": customer_id,
            "source": "salesforce",
            "type": upsell_type(opp.type),
            "name": (opp.name or f"Opportunity {opp.id}")[:200],
            "arr_increase": max(_money(opp.amount), Decimal(0)) + (old.amended if old else 0),
            "close_date": opp.close_date,
            "sales_rep_name": (opp.owner_name or "")[:120] or None,
            "sales_rep_email": (opp.owner_email or "")[:254] or None,
            "stated_criteria": (opp.success_criteria or "").strip() or None,
            "source_modified_at": opp.last_modified,
        }
        if old is not None:
            stale = old.source_modified_at and opp.last_modified < old.source_modified_at
            changed, planning = (False, False) if stale else _changed(old, new, lines)
            if not changed:
                counts["unchanged"] += 1
                continue
            counts["updated"] += 1
            if planning:
                replan.append(old.id)
        else:
            counts["created"] += 1
        rows.append(new)
        lines_of[new["id"]] = lines
    if rows:
        _write(session, rows, lines_of, now)
    if replan:
        counts["replan"] = request_replan(session=session, upsell_ids=replan, now=now)
    return counts


def _write(session: Session, rows: list[dict], lines_of: dict, now: datetime) -> None:
    stmt = insert(_UPSELLS)  # executemany: SQLAlchemy sends multi-row VALUES in batches
    updated = (
        "type",
        "name",
        "arr_increase",
        "close_date",
        "sales_rep_name",
        "sales_rep_email",
        "stated_criteria",
        "source_modified_at",
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["opportunity_id"],
            set_={c: stmt.excluded[c] for c in updated} | {"updated_at": now},
        ),
        rows,
    )
    products = {c: n for lines in lines_of.values() for c, (_, _, n) in lines.items()}
    if products:
        session.execute(
            insert(Product.__table__).on_conflict_do_nothing(),
            [{"code": c, "name": n[:120]} for c, n in products.items()],
        )
    sql = text("DELETE FROM upsell_products WHERE upsell_id = ANY(:ids)")
    session.execute(sql, {"ids": list(lines_of)})
    items = [
        {"id": uuid.uuid4(), "upsell_id": u, "product_code": c, "quantity": q, "arr": a}
        for u, lines in lines_of.items()
        for c, (q, a, _) in lines.items()
    ]
    if items:
        session.execute(insert(_LINES), items)


def request_replan(*, session: Session, upsell_ids: list[uuid.UUID], now: datetime) -> int:
    """Mark the plans of these upsells for re-planning; return how many were marked."""
    sql = "UPDATE upsell_measurements SET replan_requested_at = :now WHERE upsell_id = ANY(:ids)"
    params = {"now": now, "ids": list(upsell_ids)}
    return session.execute(text(sql + " AND status = 'active'"), params).rowcount


LEDGER_TO_UPSELLS = text(
    """
    UPDATE upsells u SET arr_increase = u.arr_increase + s.added, updated_at = :now,
           amended_at = greatest(u.amended_at, s.amended),
           contracted_at = greatest(u.contracted_at, s.contracted)
    FROM (SELECT upsell_id, sum(greatest(arr_change, 0)) AS added,
                 max(source_modified_at) FILTER (WHERE arr_change > 0) AS amended,
                 (max(signed_date) FILTER (WHERE arr_change < 0))::timestamp AT TIME ZONE 'UTC'
                   AS contracted
          FROM upsell_amendments WHERE amendment_id = ANY(:ids) GROUP BY upsell_id) s
    WHERE u.id = s.upsell_id
    """
)


def apply_amendments(
    *, session: Session, amendments: list[Amendment], now: datetime | None = None
) -> dict[str, int]:
    """Apply each signed amendment once: expand, create an upsell, or record a contraction."""
    now = now or datetime.now(UTC)
    counts = dict.fromkeys(("created", "expanded", "contracted", "unchanged", "unknown_account"), 0)
    fresh = {a.id: a for a in sorted(amendments, key=lambda a: a.last_modified)}
    customers = _customers(session, [a.account_id for a in fresh.values()])
    for a in [a for a in fresh.values() if (a.account_id or "")[:15] not in customers]:
        log.warning("amendment %s skipped: no customer has CRM id %s", a.id, a.account_id)
        counts["unknown_account"] += 1
        del fresh[a.id]
    key = {a.id: a.opportunity_id or a.id for a in fresh.values()}
    sql = text("SELECT opportunity_id, id FROM upsells WHERE opportunity_id = ANY(:ids)")
    upsells = dict(session.execute(sql, {"ids": sorted(set(key.values()))}).all())
    created = {}
    for a in fresh.values():
        if a.arr_change > 0 and key[a.id] not in upsells and key[a.id] not in created:
            created[key[a.id]] = {
                "id": uuid.uuid4(),
                "opportunity_id": key[a.id],
                "source": "contract_amendment",
                "customer_id": customers[a.account_id[:15]],
                "type": UpsellType.EXPANSION,
                "name": (a.description or f"Contract amendment {a.id}")[:200],
                "arr_increase": Decimal(0),
                "close_date": a.signed_date,
                "source_modified_at": a.last_modified,
            }
    if created:
        session.execute(insert(_UPSELLS), list(created.values()))
        upsells |= {k: row["id"] for k, row in created.items()}
        counts["created"] = len(created)
    ledger = [
        {
            "id": uuid.uuid4(),
            "amendment_id": a.id,
            "customer_id": customers[a.account_id[:15]],
            "upsell_id": upsells.get(key[a.id]),
            "arr_change": _money(a.arr_change),
            "signed_date": a.signed_date,
            "description": a.description,
            "source_modified_at": a.last_modified,
        }
        for a in fresh.values()
    ]
    if ledger:
        _apply_ledger(session, ledger, now, counts)
    return counts


def _apply_ledger(session: Session, ledger: list[dict], now: datetime, counts: dict) -> None:
    stmt = insert(UpsellAmendment.__table__).on_conflict_do_nothing()
    applied = set(session.scalars(stmt.returning(UpsellAmendment.amendment_id), ledger))
    rows = [r for r in ledger if r["amendment_id"] in applied and r["arr_change"] != 0]
    counts["expanded"] = sum(r["arr_change"] > 0 for r in rows)
    counts["contracted"] = len(rows) - counts["expanded"]
    counts["unchanged"] += len(ledger) - len(rows)
    session.execute(LEDGER_TO_UPSELLS, {"ids": [r["amendment_id"] for r in rows], "now": now})
    grown = [r["upsell_id"] for r in rows if r["arr_change"] > 0 and r["upsell_id"]]
    if grown:
        request_replan(session=session, upsell_ids=grown, now=now)
    contractions = []
    for r in rows:
        kind, verb = (
            ("upsell_contracted", "gave back")
            if r["arr_change"] < 0
            else ("upsell_amended", "added")
        )
        line_id = uuid.uuid4()
        if r["arr_change"] < 0:
            contractions.append(
                EventIn(
                    customer_id=r["customer_id"],
                    kind=CustomerEventKind.CONTRACTION,
                    occurred_on=r["signed_date"],
                    arr_change=r["arr_change"],
                    source=EVENT_SOURCE,
                    source_id=r["amendment_id"],
                    note=r["description"],
                    related_type="upsell" if r["upsell_id"] else None,
                    related_id=r["upsell_id"],
                    timeline_event_id=line_id,
                )
            )
        session.add(
            TimelineEvent(
                id=line_id,
                customer_id=r["customer_id"],
                kind=kind,
                occurred_at=datetime.combine(r["signed_date"], time(), UTC),
                body=r["description"],
                title=f"Contract amendment {verb} {abs(r['arr_change']):,.2f} ARR",
                related_type="upsell" if r["upsell_id"] else None,
                related_id=r["upsell_id"],
            )
        )
    session.flush()
    record_events(session=session, events=contractions, now=now)


def record_lost_renewals(
    *, session: Session, renewals: list[LostRenewal], now: datetime | None = None
) -> dict[str, int]:
    """Record each renewal opportunity closed as lost as the customer's churn event, once."""
    latest = {r.id: r for r in sorted(renewals, key=lambda r: r.last_modified)}
    customers = _customers(session, [r.account_id for r in latest.values()])
    sql = text("SELECT id, arr FROM customers WHERE id = ANY(:ids)")
    arr = dict(session.execute(sql, {"ids": list(customers.values())}).all())
    counts, events = {"unknown_account": 0, "no_amount": 0}, []
    for r in latest.values():
        customer_id = customers.get((r.account_id or "")[:15])
        if customer_id is None:
            log.warning("lost renewal %s skipped: no customer has CRM id %s", r.id, r.account_id)
            counts["unknown_account"] += 1
            continue
        lost = _money(r.amount) if r.amount > 0 else arr[customer_id]
        if lost <= 0:
            log.warning("lost renewal %s skipped: neither it nor the customer has ARR", r.id)
            counts["no_amount"] += 1
            continue
        events.append(
            EventIn(
                customer_id=customer_id,
                kind=CustomerEventKind.CHURN,
                occurred_on=r.close_date,
                arr_change=-lost,
                source=EVENT_SOURCE,
                source_id=r.id,
                note=" — ".join(filter(None, [r.name, r.description])) or None,
            )
        )
    return counts | record_events(session=session, events=events, now=now)


def create_manual_upsell(
    *,
    session: Session,
    customer_id: uuid.UUID,
    name: str,
    type: UpsellType | str,
    arr_increase: Decimal | int | str,
    close_date: date,
    products: list[str],
    actor,
    sales_rep_name: str | None = None,
    stated_criteria: str | None = None,
) -> Upsell:
    """Record an upsell entered by hand (zero ARR is valid, negative is not) and audit it."""
    data = validated(
        ManualUpsell,
        {
            "customer_id": customer_id,
            "name": name,
            "type": type,
            "arr_increase": arr_increase,
            "close_date": close_date,
            "products": products,
            "sales_rep_name": sales_rep_name,
            "stated_criteria": stated_criteria,
        },
    )
    if session.get(Customer, data.customer_id) is None:
        raise NotFound(f"No customer {data.customer_id}.")
    known = set(
        session.scalars(
            text("SELECT code FROM products WHERE code = ANY(:c)"), {"c": data.products}
        )
    )
    if unknown := [c for c in data.products if c not in known]:
        raise Invalid(f"products: unknown product code(s) {', '.join(unknown)}")
    upsell = Upsell(
        opportunity_id=f"manual-{uuid.uuid4()}",
        customer_id=data.customer_id,
        source="manual",
        type=data.type,
        name=data.name,
        arr_increase=data.arr_increase,
        close_date=data.close_date,
        sales_rep_name=data.sales_rep_name,
        stated_criteria=data.stated_criteria,
    )
    session.add(upsell)
    session.flush()
    for code, arr in data.lines().items():
        session.add(UpsellProduct(upsell_id=upsell.id, product_code=code, arr=arr))
    record_audit(
        session=session,
        actor=getattr(actor, "email", str(actor)),
        action="upsell.create",
        actor_user_id=getattr(actor, "id", None),
        entity_type="upsell",
        entity_id=upsell.id,
        changes=data.model_dump(mode="json", by_alias=True, exclude={"customer_id"}),
    )
    session.flush()
    return upsell


def sync_salesforce(*, session: Session, crm=None, now: datetime | None = None) -> dict:
    """Read opportunities, amendments and lost renewals changed since the watermarks; advance."""
    if crm is None:
        try:
            crm = client_for("salesforce", get_settings())
        except NotConfigured:
            return {"status": "not configured"}
    result, now = {"status": "ok"}, now or datetime.now(UTC)
    for name, key, read, apply in (
        ("opportunities", OPPORTUNITY_WATERMARK, crm.closed_upsells_since, upsert_opportunities),
        ("amendments", AMENDMENT_WATERMARK, crm.amendments_since, apply_amendments),
        ("renewals", RENEWAL_WATERMARK, crm.lost_renewals_since, record_lost_renewals),
    ):
        mark = session.get(Watermark, key)
        rows = read(datetime.fromisoformat(mark.value) if mark else None)
        with batch(session, SYNC_ITEMS[name]) as items:
            counts = items.chunked(
                rows,
                lambda part, apply=apply, name=name: [
                    apply(session=session, now=now, **{name: list(part)})
                ],
                key=lambda row: row.id,
            )
        result[name] = _summed(counts) if counts else apply(session=session, now=now, **{name: []})
        if rows:
            session.execute(ADVANCE, {"key": key, "value": _watermark(rows, items).isoformat()})
    return result


def _summed(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in counts:
        for k, v in part.items():
            total[k] = total.get(k, 0) + v
    return total


def _watermark(rows: list, items: Batch) -> datetime:
    """Where the next sync reads from: the newest row, or just before the oldest that failed.

    Salesforce reads rows modified after the mark, to the second; holding the mark before a
    failed row reads it (and the rows after it, which apply idempotently) again next time.
    """
    failed = [r.last_modified for r in rows if not items.ok(r.id)]
    if failed:
        return min(failed) - timedelta(seconds=1)
    return max(r.last_modified for r in rows)
