"""Row factories shared by the whole test suite.

Every factory adds its rows to the session it is given and flushes (never commits), so the rows
have their ids and live in the test's rolled-back transaction (or in `session_scope()` on a
scratch database). Names, e-mail addresses and opportunity ids that must be unique carry a
running number, so a factory can be called any number of times in one test. Defaults describe a
plain mid-market customer; pass keyword arguments for whatever a test depends on.
"""

import itertools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.base import Consent, Direction, Role, Segment
from core.customers.models import (
    Contact,
    Customer,
    Feedback,
    FeedbackKind,
    Metric,
    MetricKind,
    Observation,
)
from core.drafts import service as drafts
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.goals.models import (
    Achievement,
    AchievementMethod,
    AchievementStatus,
    Confidence,
    Goal,
    GoalStatus,
    GoalType,
    Milestone,
    SuccessPlan,
)
from core.repository.models import RepositoryEntry
from core.upsell.models import (
    Checkpoint,
    CheckpointStatus,
    Measurement,
    MeasurementMetric,
    MeasurementMode,
    MeasurementStatus,
    Outcome,
    OutcomeStatus,
    Product,
    Upsell,
    UpsellProduct,
    UpsellSource,
    UpsellType,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the tests' "now": a Friday
CLOSE = date(2026, 11, 1)  # the default close date of an upsell

_seq = itertools.count(1)


def add(session: Session, row):
    """Add and flush one row, returning it."""
    session.add(row)
    session.flush()
    return row


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _local_part(name: str, fallback: str) -> str:
    """The first word of `name`, lower case and letters only, for e-mail addresses."""
    first = re.sub(r"[^a-z0-9]", "", name.split()[0].lower()) if name.strip() else ""
    return first or fallback


# --- People --------------------------------------------------------------------------------------


def user(
    session: Session,
    role: Role = Role.CSM,
    name: str | None = None,
    *,
    email: str | None = None,
    title: str | None = None,
    slack_user_id: str | None = None,
    active: bool = True,
) -> User:
    """A user with `role`; the e-mail defaults to `<first name><n>@outcomes.example`."""
    n = next(_seq)
    name = name or f"{Role(role).value.replace('_', ' ').title()} {n}"
    email = email or f"{_local_part(name, 'user')}{n}@outcomes.example"
    return add(
        session,
        User(
            email=email,
            name=name,
            role=role,
            title=title,
            slack_user_id=slack_user_id,
            active=active,
        ),
    )


def csm(session: Session, name: str = "Casey Rivera", **kwargs) -> User:
    """A customer success manager (see `user` for the keyword arguments)."""
    return user(session, Role.CSM, name, **kwargs)


def actor(row: User) -> UserSummary:
    """The signed-in summary of a user, as services take it as `actor`."""
    return UserSummary.model_validate(row, from_attributes=True)


# --- Customers -----------------------------------------------------------------------------------


def customer(
    session: Session,
    *,
    name: str | None = None,
    owner: User | UserSummary | None = None,
    industry: str = "Logistics",
    segment: Segment = Segment.MID_MARKET,
    region: str = "NA",
    arr: int | Decimal = 100_000,
    health: float | None = 60,
    consent: Consent = Consent.INTERNAL_ONLY,
    use_case: str | None = None,
    customer_since: date | None = None,
    crm_id: str | None = None,
    external_id: str | None = None,
    contacts: Sequence[str] = (),
) -> Customer:
    """A customer, `Customer <n>` unless named; `contacts` are names, the first is primary."""
    row = add(
        session,
        Customer(
            name=name or f"Customer {next(_seq)}",
            industry=industry,
            segment=segment,
            region=region,
            arr=Decimal(arr),
            owner_csm_id=owner.id if owner else None,
            health_score=_dec(health),
            consent_level=consent,
            use_case=use_case,
            customer_since=customer_since,
            crm_id=crm_id,
            external_id=external_id,
        ),
    )
    for i, person in enumerate(contacts):
        contact(session, row, person, primary=i == 0)
    return row


def contact(
    session: Session,
    cust: Customer,
    name: str = "Pat Doe",
    *,
    email: str | None = None,
    title: str | None = None,
    primary: bool = False,
) -> Contact:
    """A contact of `cust`; the e-mail defaults to `<first name><n>@customer.example`."""
    email = email or f"{_local_part(name, 'contact')}{next(_seq)}@customer.example"
    return add(
        session,
        Contact(customer_id=cust.id, name=name, email=email, title=title, is_primary=primary),
    )


def feedback(
    session: Session,
    cust: Customer,
    *,
    when: datetime = NOW,
    score: int = 9,
    kind: FeedbackKind = FeedbackKind.NPS,
    comment: str | None = "Great",
    **extra,
) -> Feedback:
    """An NPS (or CSAT) response; `extra` sets the respondent and the like."""
    return add(
        session,
        Feedback(
            customer_id=cust.id, kind=kind, score=score, comment=comment, responded_at=when, **extra
        ),
    )


# --- Metrics and observations --------------------------------------------------------------------


def metric(
    session: Session,
    key: str = "active_users",
    direction: Direction = Direction.HIGHER,
    unit: str = "users",
    *,
    name: str | None = None,
    kind: MetricKind = MetricKind.USAGE,
    money: bool = False,
) -> Metric:
    """The catalogue row of metric `key`, created once (an existing row is returned as it is)."""
    existing = session.get(Metric, key)
    if existing:
        return existing
    return add(
        session,
        Metric(
            key=key,
            name=name or key.replace("_", " ").capitalize(),
            unit=unit,
            kind=kind,
            direction=direction,
            is_money=money,
        ),
    )


def _insert_observations(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(Observation).values(rows).on_conflict_do_nothing())


def observe(
    session: Session,
    cust: Customer,
    key: str,
    values: Sequence[float],
    *,
    end: datetime = NOW - timedelta(hours=6),
    ingested_at: datetime | None = None,
) -> None:
    """Daily values ending at `end`; `ingested_at` defaults to the database's now."""
    n = len(values)
    arrived = {} if ingested_at is None else {"ingested_at": ingested_at}
    _insert_observations(
        session,
        [
            {
                "customer_id": cust.id,
                "metric_key": key,
                "observed_at": end - timedelta(days=n - 1 - i),
                "value": Decimal(str(v)),
                "source": "test",
                **arrived,
            }
            for i, v in enumerate(values)
        ],
    )


def observe_at(
    session: Session, cust: Customer, key: str, values: Mapping[date | datetime, float]
) -> None:
    """One value per moment; a date means noon UTC on that day."""
    _insert_observations(
        session,
        [
            {
                "customer_id": cust.id,
                "metric_key": key,
                "observed_at": at if isinstance(at, datetime) else _noon(at),
                "value": Decimal(str(v)),
                "source": "test",
            }
            for at, v in values.items()
        ],
    )


def observe_days(
    session: Session,
    cust: Customer,
    key: str,
    start: date,
    end: date,
    value: Callable[[int], float] | float,
) -> None:
    """One value at noon on every day from `start` to `end`: `value`, or `value(i)` on day i."""
    days = (end - start).days + 1
    _insert_observations(
        session,
        [
            {
                "customer_id": cust.id,
                "metric_key": key,
                "observed_at": _noon(start + timedelta(days=i)),
                "value": Decimal(str(round(value(i) if callable(value) else value, 4))),
                "source": "test",
            }
            for i in range(days)
        ],
    )


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


# --- Goals, success plans and achievements -------------------------------------------------------


def goal(
    session: Session,
    cust: Customer,
    *,
    name: str = "Reach the target",
    type: GoalType = GoalType.KPI,
    status: GoalStatus = GoalStatus.ACTIVE,
    metric_key: str | None = None,
    target: float | None = None,
    baseline: float | None = None,
    direction: Direction = Direction.HIGHER,
    cost: Decimal | None = None,
    start: date = date(2026, 6, 1),
    **extra,
) -> Goal:
    """A goal of `cust`; `extra` sets further columns (unit, due_date, external_id, ...)."""
    return add(
        session,
        Goal(
            customer_id=cust.id,
            type=type,
            name=name,
            status=status,
            metric_key=metric_key,
            target=_dec(target),
            baseline=_dec(baseline),
            direction=direction,
            cost=cost,
            start_date=start,
            **extra,
        ),
    )


def success_plan(
    session: Session, cust: Customer, goal_row: Goal, statuses: Iterable[str], *, name="Launch plan"
) -> SuccessPlan:
    """A success plan with one milestone of `goal_row` per status ("done" ones completed)."""
    plan_row = add(
        session,
        SuccessPlan(customer_id=cust.id, name=name, status="active", start_date=date(2026, 5, 1)),
    )
    for i, status in enumerate(statuses):
        session.add(
            Milestone(
                plan_id=plan_row.id,
                goal_id=goal_row.id,
                name=f"Step {i + 1}",
                position=i,
                status=status,
                completed_at=NOW - timedelta(days=10 - i) if status == "done" else None,
            )
        )
    session.flush()
    return plan_row


def achievement(
    session: Session,
    goal_row: Goal,
    *,
    achieved_at: datetime = NOW,
    status: AchievementStatus = AchievementStatus.VERIFIED,
    method: AchievementMethod = AchievementMethod.AUTOMATIC,
    confidence: Confidence = Confidence.HIGH,
    rule: str = "test",
    **extra,
) -> Achievement:
    """An achievement of `goal_row`; `extra` sets values, marketing score and the like."""
    return add(
        session,
        Achievement(
            goal_id=goal_row.id,
            customer_id=goal_row.customer_id,
            status=status,
            method=method,
            achieved_at=achieved_at,
            confidence=confidence,
            rule=rule,
            **extra,
        ),
    )


def repository_entry(
    session: Session,
    title: str,
    snippet: str = "A documented win.",
    *,
    cust: Customer | None = None,
    goal_type: GoalType = GoalType.KPI,
    achieved_on: date = date(2026, 3, 1),
    consent: Consent = Consent.FULL_PUBLIC,
    **fields,
) -> RepositoryEntry:
    """A value-repository entry with its goal and verified achievement (and customer if none)."""
    cust = cust or customer(session, consent=Consent.FULL_PUBLIC, industry="Healthcare")
    won = goal(session, cust, type=goal_type, name=title, start=date(2025, 1, 1))
    win = achievement(session, won, achieved_at=datetime(2026, 1, 1, tzinfo=UTC))
    return add(
        session,
        RepositoryEntry(
            achievement_id=win.id,
            customer_id=cust.id,
            title=title,
            snippet=snippet,
            industry=fields.pop("industry", cust.industry),
            goal_type=goal_type,
            achieved_on=achieved_on,
            consent_level=consent,
            **fields,
        ),
    )


# --- Upsells and measurement plans ---------------------------------------------------------------


def upsell(
    session: Session,
    cust: Customer,
    products: Iterable[str] = (),
    *,
    close: date = CLOSE,
    arr: int | Decimal = 20_000,
    name: str = "Expansion",
    source: UpsellSource | str = UpsellSource.MANUAL,
    type: UpsellType | str = UpsellType.EXPANSION,
    opportunity_id: str | None = None,
    criteria: str | None = None,
    plan_status: MeasurementStatus | None = None,
) -> Upsell:
    """A closed upsell with one line of `arr` per product code (the products must exist).

    `criteria` are the stated success criteria; `plan_status` also starts a bare measurement plan
    with that status on the close date (no metrics, no checkpoints).
    """
    row = add(
        session,
        Upsell(
            opportunity_id=opportunity_id or f"OPP-{next(_seq)}",
            customer_id=cust.id,
            source=source,
            type=type,
            name=name,
            arr_increase=Decimal(arr),
            close_date=close,
            stated_criteria=criteria,
        ),
    )
    for code in products:
        add(session, UpsellProduct(upsell_id=row.id, product_code=code, arr=Decimal(arr)))
    if plan_status is not None:
        plan(session, cust, sold=row, started_on=close, status=plan_status, days=())
    return row


def auto(
    name: str,
    key: str,
    baseline,
    target,
    *,
    direction: Direction = Direction.HIGHER,
    kind: MetricKind = MetricKind.USAGE,
) -> dict:
    """Spec (for `plan`) of an automatic metric read from the observations of `key`."""
    return dict(
        name=name,
        metric_key=key,
        baseline=baseline,
        target=target,
        direction=direction,
        type=kind,
        measurement=MeasurementMode.AUTOMATIC,
        current=None,
    )


def manual(
    name: str,
    baseline,
    target,
    current=None,
    *,
    direction: Direction = Direction.HIGHER,
    kind: MetricKind | None = None,
) -> dict:
    """Spec (for `plan`) of a manually recorded metric."""
    return dict(
        name=name,
        metric_key=None,
        baseline=baseline,
        target=target,
        direction=direction,
        type=kind or MetricKind.OUTCOME,
        measurement=MeasurementMode.MANUAL,
        current=current,
    )


def plan(
    session: Session,
    cust: Customer,
    *,
    started_on: date,
    metrics: Iterable[dict] = (),
    days: Iterable[int] = (30, 60, 90),
    status: MeasurementStatus = MeasurementStatus.ACTIVE,
    horizon_days: int = 90,
    product: tuple[str, str] = ("ANALYTICS", "Analytics Pro"),
    name: str = "Analytics expansion",
    arr: int | Decimal = 24_000,
    sold: Upsell | None = None,
    **extra,
) -> Measurement:
    """A measurement plan with its metrics (`auto`/`manual` specs) and scheduled checkpoints.

    Unless `sold` is given, the plan follows a new upsell `name` of `arr` that closed on
    `started_on` with one line of `product` (code, name), the product created if missing.
    `extra` sets further plan columns (planned_products, ...).
    """
    if sold is None:
        code, product_name = product
        if session.get(Product, code) is None:
            add(session, Product(code=code, name=product_name))
        sold = upsell(session, cust, (code,), close=started_on, arr=arr, name=name)
    row = add(
        session,
        Measurement(
            upsell_id=sold.id,
            customer_id=cust.id,
            status=status,
            started_on=started_on,
            horizon_days=horizon_days,
            **extra,
        ),
    )
    for i, spec in enumerate(metrics):
        spec = dict(spec)
        if spec["metric_key"]:
            metric(session, spec["metric_key"], spec["direction"])
        current = _dec(spec.pop("current", None))
        session.add(
            MeasurementMetric(
                measurement_id=row.id,
                unit=spec.pop("unit", "units"),
                position=i,
                baseline=_dec(spec.pop("baseline", None)),
                target=_dec(spec.pop("target", None)),
                current=current,
                current_at=NOW - timedelta(days=1) if current is not None else None,
                **spec,
            )
        )
    for day in days:
        session.add(
            Checkpoint(
                measurement_id=row.id,
                day=day,
                kind=f"day_{day}",
                due_on=started_on + timedelta(days=day),
                status=CheckpointStatus.SCHEDULED,
            )
        )
    session.flush()
    return row


def outcome(
    session: Session, plan_row: Measurement, status: OutcomeStatus | str, *, confirmed=True
) -> Outcome:
    """A plan's outcome, proposed as `status` and (unless not `confirmed`) confirmed as it."""
    status = OutcomeStatus(status)
    return add(
        session,
        Outcome(
            measurement_id=plan_row.id,
            proposed_status=status,
            status=status if confirmed else None,
        ),
    )


# --- Drafts --------------------------------------------------------------------------------------


def draft(
    session: Session,
    cust: Customer,
    owner: User | UserSummary | None,
    *,
    status: DraftStatus = DraftStatus.PENDING,
    kind: DraftKind = DraftKind.CUSTOMER_EMAIL,
    to: Sequence[str] = ("pat@acme.example",),
    subject: str = "Congratulations on faster resolution",
    body: str = "Hi Pat,\n\nYou did it.\n\nCasey",
) -> Draft:
    """A draft written through `core.drafts.service.create_draft` (so its text is checked).

    It is pending, as every new draft is, unless another `status` is asked for.
    """
    row = drafts.create_draft(
        session=session,
        kind=kind,
        customer_id=cust.id,
        owner_id=owner.id if owner else None,
        related_type="goal_achievement",
        related_id=uuid.uuid4(),
        to=list(to),
        subject=subject,
        body=body,
    )
    if status != DraftStatus.PENDING:
        row.status = status
        session.flush()
    return row
