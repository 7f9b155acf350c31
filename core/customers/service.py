"""Idempotent upserts from other systems: customers and goals by their id, usage in batches.

Each write is one `INSERT … ON CONFLICT` statement keyed by the source system's id (or, for usage,
by customer + metric + observedAt), so sending the same thing twice changes nothing. Everything is
validated before the first write; the caller's transaction keeps a failed request from leaving
anything behind. A customer's `healthScore` is kept as its `crm_health` health factor; the stored
score is the combined score of all factors (core/customers/health.py).
"""

import re
import uuid

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.service import user_by_email
from core.audit.service import record_audit
from core.base import Consent
from core.customers.health import set_crm_health
from core.customers.models import Customer, Metric
from core.customers.queries import resolve_customers
from core.customers.schemas import CustomerIn, CustomerOut, ObservationIn, UsageResult
from core.errors import Conflict, Invalid
from core.upsert import forget_loaded, upsert_by_key

SHOWN_PROBLEMS = 50
EXTERNAL_ID_LENGTH = 128  # customers.external_id
# A partitioned table has no `xmax` to tell inserts from updates by, so the rows already stored
# are read first, in the same statement: every part of it sees the table as it was before.
UPSERT_OBSERVATIONS = text(
    """
    WITH incoming AS (
        SELECT * FROM unnest(CAST(:customers AS uuid[]), CAST(:metrics AS text[]),
                             CAST(:observed AS timestamptz[]), CAST(:vals AS numeric[]),
                             CAST(:sources AS text[]))
            AS i(customer_id, metric_key, observed_at, value, source)
    ), stored AS (
        SELECT o.customer_id, o.metric_key, o.observed_at
          FROM metric_observations o JOIN incoming i USING (customer_id, metric_key, observed_at)
    ), upserted AS (
        INSERT INTO metric_observations AS o (customer_id, metric_key, observed_at, value, source)
        SELECT * FROM incoming
        ON CONFLICT (customer_id, metric_key, observed_at) DO UPDATE
           SET value = EXCLUDED.value, source = EXCLUDED.source, ingested_at = now()
         WHERE o.value IS DISTINCT FROM EXCLUDED.value
        RETURNING o.customer_id, o.metric_key, o.observed_at
    )
    SELECT count(*) FILTER (WHERE s.customer_id IS NULL) AS inserted,
           count(*) FILTER (WHERE s.customer_id IS NOT NULL) AS updated
    FROM upserted u LEFT JOIN stored s USING (customer_id, metric_key, observed_at)
    """
)


def upsert_customer(
    *, session: Session, external_id: str, body: CustomerIn, actor: str
) -> tuple[CustomerOut, bool]:
    """Create or update the customer the source system calls `external_id`; True when created."""
    given = body.model_dump(exclude_unset=True)
    sent_health = "health_score" in given
    crm_health = given.pop("health_score", None)  # the CRM's factor, never the combined score
    if given.get("consent_level", "") is None:
        given.pop("consent_level")  # never stored empty: null keeps the current level
    if "owner_csm_email" in given:
        email = given.pop("owner_csm_email")
        owner = email and user_by_email(session=session, email=email, field="ownerCsmEmail")
        given["owner_csm_id"] = owner.id if owner else None
    if body.crm_id:
        holder = session.scalar(
            select(Customer.name).where(
                Customer.crm_id == body.crm_id,
                or_(Customer.external_id.is_(None), Customer.external_id != external_id),
            )
        )
        if holder is not None:
            raise Conflict(f"crmId: '{body.crm_id}' already belongs to customer {holder}.")
    values = {
        "id": uuid.uuid4(),
        "external_id": external_id,
        "consent_level": Consent.INTERNAL_ONLY,
    }
    values.update(given)
    table = Customer.__table__
    customer_id, outcome = upsert_by_key(session, table, values, list(given), "external_id", {})
    forget_loaded(session, Customer, customer_id)
    health_changed = sent_health and set_crm_health(
        session=session, customer_id=customer_id, score=crm_health
    )
    if outcome != "unchanged" or health_changed:
        fields = sorted([*given, "health_score"] if health_changed else given)
        record_audit(
            session=session,
            actor=actor,
            action=f"customer.{'updated' if outcome == 'unchanged' else outcome}",
            entity_type="customer",
            entity_id=customer_id,
            changes={"fields": fields},
        )
    return customer_out(session=session, customer_id=customer_id), outcome == "created"


def add_customer(
    *, session: Session, body: CustomerIn, external_id: str | None, actor: str
) -> CustomerOut:
    """Create a customer entered by a person; refuse an id another customer already has.

    Without `external_id` the id is made from the name ("Acme Corp" -> "acme-corp"): it is what
    usage pipelines and CRM hooks call the customer, so it is shown on the customer page.
    """
    external_id = (external_id or "").strip() or slug(body.name)
    if not external_id:
        raise Invalid("externalId: give the customer an id, e.g. the one your CRM uses.")
    if len(external_id) > EXTERNAL_ID_LENGTH:
        raise Invalid(f"externalId: must be at most {EXTERNAL_ID_LENGTH} characters.")
    taken = session.scalar(select(Customer.name).where(Customer.external_id == external_id))
    if taken is not None:
        raise Conflict(f"externalId: '{external_id}' already belongs to customer {taken}.")
    created, _ = upsert_customer(session=session, external_id=external_id, body=body, actor=actor)
    return created


def slug(name: str) -> str:
    """Return a lower-case, hyphenated id made of the name's letters and digits."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:EXTERNAL_ID_LENGTH]


def customer_out(*, session: Session, customer_id: uuid.UUID) -> CustomerOut:
    """Return a customer as the ingest API shows it."""
    row = session.execute(
        select(Customer.__table__, User.email.label("owner_csm_email"))
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .where(Customer.id == customer_id)
    ).one()
    return CustomerOut.model_validate(row._mapping)


def ingest_usage(*, session: Session, observations: list[ObservationIn]) -> UsageResult:
    """Upsert a batch of observations in one statement; reject the batch if any row is bad."""
    customers = resolve_customers(session=session, refs={o.customer_id for o in observations})
    keys = {o.metric for o in observations}
    metrics = set(session.scalars(select(Metric.key).where(Metric.key.in_(keys))))
    problems, seen = [], {}
    for i, o in enumerate(observations):
        customer_id = customers.get(o.customer_id)
        if customer_id is None:
            problems.append(f"observations[{i}].customerId: unknown customer '{o.customer_id}'")
        if o.metric not in metrics:
            problems.append(f"observations[{i}].metric: unknown metric '{o.metric}'")
        identity = (customer_id, o.metric, o.observed_at)
        if customer_id is not None and identity in seen:
            problems.append(
                f"observations[{i}]: repeats observations[{seen[identity]}] "
                "(same customer, metric and observedAt)"
            )
        seen.setdefault(identity, i)
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        shown = "; ".join(problems[:SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise Invalid(f"{len(problems)} problem(s), nothing was written: {shown}.")
    counts = session.execute(
        UPSERT_OBSERVATIONS,
        {
            "customers": [customers[o.customer_id] for o in observations],
            "metrics": [o.metric for o in observations],
            "observed": [o.observed_at for o in observations],
            "vals": [o.value for o in observations],
            "sources": [o.source for o in observations],
        },
    ).one()
    received = len(observations)
    return UsageResult(
        received=received,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=received - counts.inserted - counts.updated,
    )
