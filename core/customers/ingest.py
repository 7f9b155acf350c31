"""Idempotent upserts from other systems: customers and goals by their id, usage in batches.

Each write is one `INSERT … ON CONFLICT` statement keyed by the source system's id (or, for usage,
by customer + metric + observedAt), so sending the same thing twice changes nothing. Everything is
validated before the first write; the caller's transaction keeps a failed request from leaving
anything behind.
"""

import uuid

from sqlalchemy import delete, func, literal_column, or_, select, text
from sqlalchemy import tuple_ as row_of
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.accounts.models import User
from core.accounts.service import user_by_email
from core.audit.service import record_audit
from core.base import Consent, Direction
from core.customers.ingest_schemas import (
    CustomerIn,
    CustomerOut,
    GoalIn,
    GoalOut,
    ObservationIn,
    UsageResult,
    goal_problems,
    milestone_rows,
)
from core.customers.models import Customer, Metric
from core.errors import Conflict, Invalid
from core.goals.models import Achievement, Goal, Milestone, PlanStatus, SuccessPlan
from core.goals.queries import goal_milestones, goal_out, resolve_customers

SHOWN_PROBLEMS = 50
# Changing these on an achieved goal would rewrite what was achieved.
DEFINING = {"type": "type", "metric_key": "metric", "target": "target", "direction": "direction"}
GOAL_FIELDS = (
    "type",
    "name",
    "description",
    "use_case",
    "metric_key",
    "baseline",
    "target",
    "direction",
    "unit",
    "start_date",
    "due_date",
    "cost",
)
UPSERT_OBSERVATIONS = text(
    """
    WITH upserted AS (
        INSERT INTO metric_observations AS o (customer_id, metric_key, observed_at, value, source)
        SELECT * FROM unnest(CAST(:customers AS uuid[]), CAST(:metrics AS text[]),
                             CAST(:observed AS timestamptz[]), CAST(:vals AS numeric[]),
                             CAST(:sources AS text[]))
        ON CONFLICT (customer_id, metric_key, observed_at) DO UPDATE
           SET value = EXCLUDED.value, source = EXCLUDED.source, ingested_at = now()
         WHERE o.value IS DISTINCT FROM EXCLUDED.value
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted) AS inserted,
           count(*) FILTER (WHERE NOT inserted) AS updated
    FROM upserted
    """
)


def _forget(session: Session, model, row_id: uuid.UUID) -> None:
    # The upserts bypass the ORM; make a loaded copy re-read its row (and its new version).
    loaded = session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        session.expire(loaded)


def _upsert(
    session: Session, table, values: dict, update: list[str], key: str, extra: dict
) -> tuple[uuid.UUID, str]:
    """Insert `values` or update the `update` columns of the row with that `key`; say which."""
    # The row is touched (version bumped) only when one of those columns differs.
    stmt = insert(table).values(values)
    set_ = {name: stmt.excluded[name] for name in update}
    if update:
        differs = row_of(*(table.c[n] for n in update)).is_distinct_from(
            row_of(*(stmt.excluded[n] for n in update))
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[key],
            set_={**set_, "version": table.c.version + 1, "updated_at": func.now(), **extra},
            where=differs,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=[key])
    stmt = stmt.returning(table.c.id, literal_column("xmax = 0").label("created"))
    try:
        with session.begin_nested():
            row = session.execute(stmt).first()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise Conflict(f"Another record already holds one of these values ({constraint}).") from exc
    if row is None:
        return session.scalar(select(table.c.id).where(table.c[key] == values[key])), "unchanged"
    return row.id, "created" if row.created else "updated"


def upsert_customer(
    *, session: Session, external_id: str, body: CustomerIn, actor: str
) -> tuple[CustomerOut, bool]:
    """Create or update the customer the source system calls `external_id`; True when created."""
    given = body.model_dump(exclude_unset=True)
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
    customer_id, outcome = _upsert(session, table, values, list(given), "external_id", {})
    _forget(session, Customer, customer_id)
    if outcome != "unchanged":
        record_audit(
            session=session,
            actor=actor,
            action=f"customer.{outcome}",
            entity_type="customer",
            entity_id=customer_id,
            changes={"fields": sorted(given)},
        )
    return customer_out(session=session, customer_id=customer_id), outcome == "created"


def customer_out(*, session: Session, customer_id: uuid.UUID) -> CustomerOut:
    """Return a customer as the ingest API shows it."""
    row = session.execute(
        select(Customer.__table__, User.email.label("owner_csm_email"))
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .where(Customer.id == customer_id)
    ).one()
    return CustomerOut.model_validate(row._mapping)


def upsert_goal(
    *, session: Session, external_id: str, body: GoalIn, actor: str
) -> tuple[GoalOut, bool]:
    """Create or update the goal the source system calls `external_id`; True when created."""
    customer_id = session.scalar(
        select(Customer.id).where(Customer.external_id == body.customer_external_id)
    )
    if customer_id is None:
        raise Invalid(
            f"customerExternalId: no customer with external id '{body.customer_external_id}'."
        )
    goals = Goal.__table__
    current = (
        session.execute(select(goals).where(goals.c.external_id == external_id).with_for_update())
        .mappings()
        .first()
    )
    if current is not None and current["customer_id"] != customer_id:
        raise Conflict(
            f"customerExternalId: goal '{external_id}' belongs to another customer; "
            "goals cannot move between customers."
        )
    given = body.model_dump(exclude_unset=True, exclude={"milestones", "plan_external_id"})
    if "metric" in given:
        given["metric_key"] = given.pop("metric")
    values = {name: current[name] if current else None for name in GOAL_FIELDS}
    values.update({k: v for k, v in given.items() if k in GOAL_FIELDS})
    metric = None
    if values["metric_key"] is not None:
        metric = session.execute(
            select(Metric.unit, Metric.direction).where(Metric.key == values["metric_key"])
        ).first()
        if metric is None:
            raise Invalid(f"metric: unknown metric '{values['metric_key']}'.")
        values["unit"] = metric.unit
    elif "metric_key" in given:
        values["unit"] = None
    if values["direction"] is None:
        values["direction"] = metric.direction if metric else Direction.HIGHER
    steps = goal_milestones(session=session, goal_id=current["id"]) if current else []
    count = len(body.milestones) if body.milestones is not None else len(steps)
    problems = goal_problems({**values, "metric": values["metric_key"]}, count)
    if problems:
        raise Invalid("; ".join(problems) + ".")
    changed = [k for k in DEFINING if current is not None and values[k] != current[k]]
    if changed and _achieved(session, current["id"]):
        names = ", ".join(DEFINING[k] for k in changed)
        raise Conflict(f"{names}: goal '{external_id}' is already achieved; it cannot change.")
    plan_id = current["plan_id"] if current else None
    if body.plan_external_id or body.milestones:
        plan_id = _plan_id(session, customer_id, body, values["start_date"])
    row = {"id": uuid.uuid4(), "external_id": external_id, "customer_id": customer_id}
    row.update(values, plan_id=plan_id)
    reread = current is None or changed or values["cost"] != current["cost"]
    extra = {"evaluated_at": None} if reread else {}
    update = [name for name in row if name not in ("id", "external_id", "customer_id")]
    goal_id, outcome = _upsert(session, goals, row, update, "external_id", extra)
    _forget(session, Goal, goal_id)
    if body.milestones is not None:
        rows = milestone_rows(body.milestones, goal_id=goal_id, plan_id=plan_id, before=steps)
        if _replace_milestones(session, goal_id, rows, steps) and outcome == "unchanged":
            outcome = "updated"
    if current is not None and plan_id != current["plan_id"]:
        session.execute(
            Milestone.__table__.update().where(Milestone.goal_id == goal_id).values(plan_id=plan_id)
        )
    if outcome != "unchanged":
        record_audit(
            session=session,
            actor=actor,
            action=f"goal.{outcome}",
            entity_type="goal",
            entity_id=goal_id,
            changes={"fields": sorted(given)},
        )
    return goal_out(session=session, goal_id=goal_id), outcome == "created"


def _achieved(session: Session, goal_id: uuid.UUID) -> bool:
    return session.scalar(select(Achievement.id).where(Achievement.goal_id == goal_id)) is not None


def _plan_id(session: Session, customer_id: uuid.UUID, body: GoalIn, start) -> uuid.UUID:
    """Find or create the plan the goal's milestones belong to (one statement, race-safe)."""
    plan_key = body.plan_external_id or f"imported:{body.customer_external_id}"
    plan = dict(external_id=plan_key, customer_id=customer_id, name="Imported plan")
    session.execute(
        insert(SuccessPlan.__table__)
        .values(id=uuid.uuid4(), status=PlanStatus.ACTIVE, start_date=start, **plan)
        .on_conflict_do_nothing(index_elements=["external_id"])
    )
    plan = session.execute(
        select(SuccessPlan.id, SuccessPlan.customer_id).where(SuccessPlan.external_id == plan_key)
    ).one()
    if plan.customer_id != customer_id:
        raise Invalid(f"planExternalId: plan '{plan_key}' belongs to another customer.")
    return plan.id


def _replace_milestones(session: Session, goal_id, rows: list[dict], steps: list) -> bool:
    """Make the goal's milestones exactly `rows`; False when they already were."""
    fields = ("name", "position", "due_date", "status", "completed_at")
    if [tuple(r[f] for f in fields) for r in rows] == [tuple(s) for s in steps]:
        return False
    session.execute(delete(Milestone).where(Milestone.goal_id == goal_id))
    if rows:
        session.execute(insert(Milestone.__table__).values(rows))
    return True


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
