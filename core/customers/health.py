"""The combined health score: its factors, their weights and sources, and the CRM write-back.

A customer's health score is the weighted mean of the health factors present (0-100 each):

- goal_attainment (weight 1, goal detection): achieved ÷ tracked goals, written with each win;
- upsell_realization (weight 1, upsell outcomes): the latest confirmed upsell outcome, placed in
  its band by the plan's progress;
- adoption (weight 1, usage data): adoption metrics measured in percent (`adoption.py`);
- crm_health (weight 2, CRM): the `healthScore` the CRM sends (`PUT /api/customers/{externalId}`).

The CRM's score counts double: it carries signals this app does not see (support, sentiment,
relationships), while each of the app's own factors counts once. A factor that is missing is
left out of both sums (no factor stands in for another); without any factor there is no score.
The inbound `healthScore` is only ever the `crm_health` factor, so it never overwrites the app's
factors; sending null removes that factor. A score stored before the app first computed the
customer's health (older data, seeds) is kept as the `crm_health` factor at that moment.

The stored score (`customers.health_score`) is the one number everywhere: the customer list,
its filters, Home's band counts, the 360 header and the CRM write-back all read it, and
`customer_health` answers it too, with `computed_at` (`health_refreshed_at`, when the score was
last computed from its factors). A factor written without a refresh (a documented win's goal
attainment) leaves the score as it was until the next pass, at most `PASS_MINUTES` later;
`pending` tells the reader so instead of showing a second number.

`refresh_scores` recomputes the combined score (for some customers right after a factor
changed, for everyone in the `customer_health` job) and notes when it did for every customer
whose factors changed since; when the score changes, `health_revision` counts up
and, for a customer with a CRM id, one Salesforce write-back of the new value to the Account's
health field is enqueued (idempotency key: customer, revision and value). A score that goes
away (no factor left) is not written back.

In the job's pass each customer is its own item (`core.audit.failures`, System page): one whose
factors cannot be combined keeps its score, and a write-back that cannot be queued is tried
again on the next pass with the score then stored; the other customers go on.
"""

import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.audit.failures import batch, failed_ids
from core.customers.models import Customer, HealthFactor
from core.customers.queries import health_band
from core.customers.schemas import CustomerHealthOut, HealthFactorOut
from core.errors import NotFound
from core.outbox.models import Channel, Delivery
from core.upsert import forget_loaded

CRM = "crm_health"
ITEM = "health"  # a customer whose score to combine (job_item_failures.item_type)
WRITE_BACK_ITEM = "health_write_back"  # a customer's score to queue for the CRM
CENT = Decimal("0.01")
METHOD = "Weighted mean of the factors present; a missing factor is left out, not counted as 0."
PASS_MINUTES = 5  # how often the `customer_health` job recomputes every score


@dataclass(frozen=True)
class Factor:
    label: str
    weight: Decimal
    explanation: str


FACTORS = {
    "goal_attainment": Factor(
        "Goal attainment", Decimal(1), "Share of the customer's tracked goals that were achieved."
    ),
    "upsell_realization": Factor(
        "Upsell realization",
        Decimal(1),
        "The latest confirmed upsell outcome (success 80-100, partial 50-79, at risk 25-49, "
        "failed 0-24), placed in its band by the plan's progress.",
    ),
    "adoption": Factor(
        "Adoption",
        Decimal(1),
        "Average of the adoption metrics measured in percent, over each metric's latest week "
        "of readings in the last 30 days.",
    ),
    CRM: Factor(
        "CRM health score",
        Decimal(2),
        "The health score the CRM sends; it counts double because it carries signals this app "
        "does not see.",
    ),
}
SOURCES = {
    "goal_detection": "Goal detection",
    "upsell_tracking": "Upsell outcomes",
    "usage": "Usage data",
    "crm": "CRM",
}
WEIGHTS = {name: f.weight for name, f in FACTORS.items()}

ADOPT_STORED_SCORE = text(
    """
    INSERT INTO health_factors (id, customer_id, factor, score, weight, details, source, updated_at)
    SELECT gen_random_uuid(), c.id, :factor, c.health_score, :weight,
           '{"carried_over": true}', 'crm', :now
      FROM customers c
     WHERE c.health_refreshed_at IS NULL AND c.health_score IS NOT NULL
       AND (CAST(:ids AS uuid[]) IS NULL OR c.id = ANY(CAST(:ids AS uuid[])))
    ON CONFLICT (customer_id, factor) DO NOTHING
    """
)
SYNC_WEIGHTS = text(
    """
    UPDATE health_factors f SET weight = w.weight
      FROM unnest(CAST(:factors AS text[]), CAST(:weights AS numeric[])) AS w(factor, weight)
     WHERE f.factor = w.factor AND f.weight <> w.weight
       AND (CAST(:ids AS uuid[]) IS NULL OR f.customer_id = ANY(CAST(:ids AS uuid[])))
    """
)
CURRENT = text(
    """
    SELECT c.id, c.crm_id, c.health_score, c.health_revision,
           c.health_refreshed_at IS NULL
           OR coalesce(max(f.updated_at) > c.health_refreshed_at, false) AS behind,
           coalesce(array_agg(f.score) FILTER (WHERE f.id IS NOT NULL), '{}') AS scores,
           coalesce(array_agg(f.weight) FILTER (WHERE f.id IS NOT NULL), '{}') AS weights
      FROM customers c LEFT JOIN health_factors f ON f.customer_id = c.id
     WHERE CASE WHEN CAST(:ids AS uuid[]) IS NULL
                THEN c.health_refreshed_at IS NULL
                     OR EXISTS (SELECT 1 FROM health_factors x WHERE x.customer_id = c.id)
                ELSE c.id = ANY(CAST(:ids AS uuid[])) END
     GROUP BY c.id
    """
)
RETRY_WRITE_BACKS = text(
    """
    SELECT id, crm_id, health_score, health_revision FROM customers
     WHERE id = ANY(CAST(CAST(:ids AS text[]) AS uuid[]))
    """
)
STORE = text(
    """
    UPDATE customers c SET health_score = x.score, health_revision = x.revision,
           health_refreshed_at = :now
      FROM unnest(CAST(:ids AS uuid[]), CAST(:scores AS numeric[]), CAST(:revisions AS int[]),
                  CAST(:seen AS int[])) AS x(id, score, revision, seen)
     WHERE c.id = x.id AND c.health_revision = x.seen
    RETURNING c.id
    """
)


def combine(factors: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Return the weighted mean of (score, weight) pairs to two decimals, None without weight."""
    pairs = [(Decimal(s), Decimal(w)) for s, w in factors]
    total = sum((w for _, w in pairs), Decimal(0))
    if not total:
        return None
    mean = sum((s * w for s, w in pairs), Decimal(0)) / total
    return min(Decimal(100), max(Decimal(0), mean)).quantize(CENT, ROUND_HALF_UP)


def _ids(customer_ids: Iterable[uuid.UUID] | None) -> list[uuid.UUID] | None:
    return None if customer_ids is None else list(customer_ids)


def keep_stored_scores(*, session: Session, customer_ids=None, now: datetime) -> None:
    """Keep a score set outside the app (never computed here) as the customer's CRM factor."""
    params = {"factor": CRM, "weight": WEIGHTS[CRM], "now": now, "ids": _ids(customer_ids)}
    session.execute(ADOPT_STORED_SCORE, params)


def upsert_factor(
    *,
    session: Session,
    customer_id: uuid.UUID,
    factor: str,
    score: Decimal,
    source: str,
    details: dict | None = None,
    now: datetime | None = None,
) -> bool:
    """Create or update one factor with its known weight; True when it changed."""
    now = now or datetime.now(UTC)
    keep_stored_scores(session=session, customer_ids=[customer_id], now=now)
    values = {
        "score": Decimal(score).quantize(CENT, ROUND_HALF_UP),
        "weight": WEIGHTS.get(factor, Decimal(1)),
        "details": details or {},
        "source": source,
        "updated_at": now,
    }
    stmt = insert(HealthFactor).values(
        id=uuid.uuid4(), customer_id=customer_id, factor=factor, **values
    )
    table = HealthFactor.__table__
    differs = (
        (table.c.score != stmt.excluded.score)
        | (table.c.weight != stmt.excluded.weight)
        | (table.c.details != stmt.excluded.details)
        | (table.c.source != stmt.excluded.source)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["customer_id", "factor"], set_=values, where=differs
    ).returning(HealthFactor.id)
    return session.execute(stmt).first() is not None


def set_crm_health(
    *, session: Session, customer_id: uuid.UUID, score: Decimal | None, now: datetime | None = None
) -> bool:
    """Keep the CRM's health score as the `crm_health` factor (None removes it); True on change."""
    now = now or datetime.now(UTC)
    if score is not None:
        changed = upsert_factor(
            session=session, customer_id=customer_id, factor=CRM, score=score, source="crm", now=now
        )
    else:
        keep_stored_scores(session=session, customer_ids=[customer_id], now=now)
        gone = session.execute(
            HealthFactor.__table__.delete().where(
                HealthFactor.customer_id == customer_id, HealthFactor.factor == CRM
            )
        )
        changed = gone.rowcount > 0
    refresh_scores(session=session, customer_ids=[customer_id], now=now)
    return changed


def refresh_scores(
    *,
    session: Session,
    customer_ids: Iterable[uuid.UUID] | None = None,
    now: datetime | None = None,
    write_back: bool = True,
) -> dict[str, int]:
    """Recompute combined scores (all customers with factors when no ids); enqueue write-backs.

    `write_back=False` (seeding data the CRM already holds) stores the scores and queues nothing.
    """
    now = now or datetime.now(UTC)
    ids = _ids(customer_ids)
    session.flush()
    keep_stored_scores(session=session, customer_ids=ids, now=now)
    session.execute(
        SYNC_WEIGHTS, {"factors": list(WEIGHTS), "weights": list(WEIGHTS.values()), "ids": ids}
    )
    writes = []
    with batch(session, ITEM) as scores:
        for row in session.execute(CURRENT, {"ids": ids}):
            # In the pass a customer whose factors cannot be combined keeps its score and is
            # recorded; a refresh for given customers (a person's change) gets the error itself.
            with scores.item(row.id, savepoint=False) if ids is None else nullcontext():
                score = combine(zip(row.scores, row.weights, strict=True))
                changed = score != row.health_score
                if changed or row.behind:
                    writes.append((row, score, row.health_revision + changed))
    stored = set()
    if writes:
        params = {
            "ids": [r.id for r, _, _ in writes],
            "scores": [s for _, s, _ in writes],
            "revisions": [v for _, _, v in writes],
            "seen": [r.health_revision for r, _, _ in writes],
            "now": now,
        }
        stored = set(session.scalars(STORE, params))
        for customer_id in stored:
            forget_loaded(session, Customer, customer_id)
    changed = [(r, s, v) for r, s, v in writes if r.id in stored and v != r.health_revision]
    due = [(row.id, row.crm_id, score, revision) for row, score, revision in changed]
    if ids is None:  # the pass also retries the write-backs that could not be queued before
        waiting = failed_ids(session=session, item_type=WRITE_BACK_ITEM)
        fresh = {row.id for row, _, _ in changed}
        retry = session.execute(RETRY_WRITE_BACKS, {"ids": waiting}) if waiting else []
        due += [tuple(r) for r in retry if r.id not in fresh]
    deliveries = [
        {
            "id": uuid.uuid4(),
            "channel": Channel.SALESFORCE,
            "payload": {"accountId": crm_id, "value": float(score)},
            "idempotency_key": f"salesforce-health:{customer_id}:{revision}:{score}",
            "related_type": "customer",
            "related_id": customer_id,
        }
        for customer_id, crm_id, score, revision in due
        if crm_id and score is not None and write_back
    ]
    stmt = insert(Delivery).on_conflict_do_nothing(index_elements=["idempotency_key"])
    with batch(session, WRITE_BACK_ITEM) as write_backs:
        write_backs.resolved(customer_id for customer_id, *_ in due)
        # executemany sends pages of multi-row VALUES that fit; a failing chunk goes row by row.
        write_backs.chunked(
            deliveries, lambda part: _enqueue(session, stmt, part), key=_customer_of
        )
    queued = len(deliveries) - len(write_backs.failed)
    return {"health_changed": len(changed), "health_write_backs": queued}


def _enqueue(session: Session, stmt, deliveries) -> None:
    session.execute(stmt, list(deliveries))


def _customer_of(delivery: dict) -> uuid.UUID:
    return delivery["related_id"]


def customer_health(*, session: Session, customer_id: uuid.UUID) -> CustomerHealthOut:
    """Return a customer's combined score with every factor, its weight, share and source."""
    customer = session.execute(
        select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.health_score,
            Customer.health_refreshed_at,
        ).where(Customer.id == customer_id)
    ).first()
    if customer is None:
        raise NotFound(f"No customer {customer_id}.")
    rows = session.scalars(
        select(HealthFactor)
        .where(HealthFactor.customer_id == customer_id)
        .order_by(HealthFactor.weight.desc(), HealthFactor.factor)
    ).all()
    total = sum((r.weight for r in rows), Decimal(0))
    factors = [
        HealthFactorOut(
            factor=r.factor,
            label=FACTORS[r.factor].label if r.factor in FACTORS else r.factor.replace("_", " "),
            score=r.score,
            weight=r.weight,
            share=round(float(r.weight / total), 4) if total else 0.0,
            source=SOURCES.get(r.source, r.source.replace("_", " ")),
            explanation=FACTORS[r.factor].explanation if r.factor in FACTORS else "",
            details=r.details or {},
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    # The stored score, as the list, Home and the CRM show it; `pending` says when the factors
    # below have moved on since it was computed.
    return CustomerHealthOut(
        customer_id=customer.id,
        external_id=customer.external_id,
        name=customer.name,
        score=customer.health_score,
        band=health_band(customer.health_score),
        method=METHOD,
        factors=factors,
        weights=WEIGHTS,
        computed_at=customer.health_refreshed_at,
    )


def pending(health: CustomerHealthOut) -> bool:
    """True when a factor changed after the stored score was computed (the next pass catches up)."""
    if not health.factors:
        return False
    if health.computed_at is None:
        return True
    if any(f.updated_at > health.computed_at for f in health.factors):
        return True
    return combine((f.score, f.weight) for f in health.factors) != health.score
