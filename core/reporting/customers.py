"""The customer list and one customer's page: goals, feedback, timeline and metric history.

Both show each customer as the viewer's role may see them (`core.repository.consent`): CS staff
see names; sales and marketing see a customer without naming consent described, its texts
scrubbed of its names, and its feedback as its consent allows. Their name search only finds
the customers they may see named, so a search never tells who a described customer is.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import Date

from core.accounts.models import User
from core.base import Role, Segment
from core.customers.health import customer_health
from core.customers.models import Customer, Feedback, Metric, Observation
from core.customers.queries import HEALTHY_AT, WATCH_AT, health_band_expr
from core.customers.schemas import HealthBand
from core.errors import NotFound
from core.goals.models import Achievement, Goal, GoalStatus
from core.reporting.customer_activity import (
    SHOWN_WINS,
    health_readings,
    last_renewal,
    success_plans,
    timeline,
    upsells,
    wins,
)
from core.reporting.schemas import (
    CustomerDetail,
    CustomerFilters,
    CustomerPage,
    CustomerRow,
    FeedbackRow,
    GoalRow,
    MetricOption,
    MetricSeries,
    Owner,
    SeriesPoint,
)
from core.repository.consent import Audience, CustomerView, audience, customer_views, named_levels

RECENT_FEEDBACK = 10


def _band_condition(band: HealthBand) -> ColumnElement[bool]:
    score = Customer.health_score
    return {
        HealthBand.UNKNOWN: score.is_(None),
        HealthBand.HEALTHY: score >= HEALTHY_AT,
        HealthBand.WATCH: and_(score >= WATCH_AT, score < HEALTHY_AT),
        HealthBand.AT_RISK: score < WATCH_AT,
    }[band]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row_select() -> Select:
    owner = aliased(User)
    active_goals = (
        select(func.count())
        .where(Goal.customer_id == Customer.id, Goal.status == GoalStatus.ACTIVE)
        .correlate(Customer)
        .scalar_subquery()
    )
    return select(
        Customer.id,
        Customer.name,
        Customer.industry,
        Customer.segment,
        Customer.region,
        Customer.arr,
        Customer.health_score,
        health_band_expr(Customer.health_score).label("health_band"),
        Customer.owner_csm_id,
        owner.name.label("csm_name"),
        Customer.consent_level,
        active_goals.label("active_goals"),
    ).outerjoin(owner, owner.id == Customer.owner_csm_id)


def list_customers(
    *,
    session: Session,
    search: str | None = None,
    industry: str | None = None,
    segment: Segment | None = None,
    owner_id: uuid.UUID | None = None,
    health_band: HealthBand | None = None,
    limit: int | None = 50,
    offset: int = 0,
    viewer: Role | None = None,
) -> CustomerPage:
    """Return customers matching every filter, by name (case-insensitive), and the total."""
    seen_by = audience(viewer)
    named = Customer.consent_level.in_(named_levels(seen_by))
    conditions: list[ColumnElement[bool]] = []
    if search and search.strip():
        pattern = f"%{_escape_like(search.strip())}%"
        conditions.append(Customer.name.ilike(pattern, escape="\\"))
        if seen_by == Audience.EXTERNAL:
            conditions.append(named)
    if industry:
        conditions.append(Customer.industry == industry)
    if segment:
        conditions.append(Customer.segment == Segment(segment))
    if owner_id:
        conditions.append(Customer.owner_csm_id == owner_id)
    if health_band:
        conditions.append(_band_condition(HealthBand(health_band)))
    total = session.scalar(select(func.count()).select_from(Customer).where(*conditions)) or 0
    order = (func.lower(Customer.name), Customer.name, Customer.id)
    if seen_by == Audience.EXTERNAL:  # described customers after the named, never by name
        shown = case((named, func.lower(Customer.name)))
        order = (shown.asc().nulls_last(), Customer.industry, Customer.id)
    stmt = _row_select().where(*conditions).order_by(*order).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [CustomerRow.model_validate(r._asdict()) for r in session.execute(stmt)]
    views = customer_views(session=session, seen_by=seen_by, customer_ids=[r.id for r in rows])
    rows = [r.model_copy(update={"name": views[r.id].label}) for r in rows]
    return CustomerPage(rows=rows, total=total)


def filter_options(*, session: Session) -> CustomerFilters:
    """Return the industries, segments and CSMs the customer filters can offer."""
    industries = session.scalars(select(Customer.industry).distinct().order_by(Customer.industry))
    owners = session.execute(
        select(User.id, User.name)
        .where(or_(User.role == Role.CSM, User.id.in_(select(Customer.owner_csm_id))))
        .order_by(User.name)
    )
    return CustomerFilters(
        industries=list(industries),
        segments=list(Segment),
        owners=[Owner(id=o.id, name=o.name) for o in owners],
    )


def customer_detail(
    *, session: Session, customer_id: uuid.UUID, viewer: Role | None = None
) -> CustomerDetail:
    """Return one customer's page: facts, health, goals and wins, plans and upsells (CS staff),
    recent feedback, the timeline with links and observed metrics, in a fixed number of reads."""
    renewal = last_renewal(session=session, customer_id=customer_id)
    row = session.execute(
        _row_select()
        .add_columns(
            Customer.use_case,
            Customer.customer_since,
            Customer.website,
            Customer.external_id,
            User.email.label("csm_email"),
        )
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .where(Customer.id == customer_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No customer with id {customer_id}.")
    won = aliased(Achievement)
    goals = session.execute(
        select(
            Goal.id,
            Goal.name,
            Goal.type,
            Goal.status,
            Metric.name.label("metric_name"),
            Goal.baseline,
            Goal.target,
            Goal.unit,
            Goal.start_date,
            Goal.due_date,
            won.id.label("achievement_id"),
        )
        .outerjoin(Metric, Metric.key == Goal.metric_key)
        .outerjoin(won, and_(won.goal_id == Goal.id, won.status.in_(SHOWN_WINS)))
        .where(Goal.customer_id == customer_id)
        .order_by(Goal.status, Goal.due_date.nulls_last(), Goal.name)
    )
    feedback = session.scalars(
        select(Feedback)
        .where(Feedback.customer_id == customer_id)
        .order_by(Feedback.responded_at.desc())
        .limit(RECENT_FEEDBACK)
    )
    metrics = session.execute(
        select(
            Metric.key,
            Metric.name,
            Metric.unit,
            func.count().label("observations"),
            func.max(Observation.observed_at).label("last_observed_at"),
        )
        .join(Observation, Observation.metric_key == Metric.key)
        .where(Observation.customer_id == customer_id)
        .group_by(Metric.key)
        .order_by(Metric.name)
    )
    seen_by = audience(viewer)
    view = customer_views(session=session, seen_by=seen_by, customer_ids=[customer_id])[customer_id]
    said = [FeedbackRow.model_validate(f, from_attributes=True) for f in feedback]
    health = customer_health(session=session, customer_id=customer_id)
    health = health.model_copy(
        update={"name": view.label, "external_id": health.external_id if view.shows.name else None}
    )
    sold = upsells(session=session, customer_id=customer_id, view=view)
    staff = seen_by == Audience.INTERNAL
    return CustomerDetail(
        customer=CustomerRow.model_validate(row._asdict() | {"name": view.label}),
        use_case=view.text(row.use_case) or None,
        customer_since=row.customer_since,
        website=row.website if view.shows.name else None,
        external_id=row.external_id if view.shows.name else None,
        csm_email=row.csm_email,
        goals=[GoalRow.model_validate(g._asdict() | {"name": view.text(g.name)}) for g in goals],
        feedback=[_feedback_as_seen(f, view) for f in said],
        timeline=timeline(session=session, customer_id=customer_id, view=view),
        metrics=[MetricOption.model_validate(m._asdict()) for m in metrics],
        health=health,
        health_readings=health_readings(upsells=sold, score=health.score, at=datetime.now(UTC)),
        wins=wins(session=session, customer_id=customer_id, view=view),
        plans=success_plans(session=session, customer_id=customer_id, view=view) if staff else [],
        upsells=sold if staff else [],
        last_renewal=renewal,
    )


def _feedback_as_seen(row: FeedbackRow, view: CustomerView) -> FeedbackRow:
    """A response as the view allows: the comment only where quotes are, the name by consent."""
    return row.model_copy(
        update={
            "comment": (view.text(row.comment) or None) if view.shows.quotes else None,
            "respondent_name": row.respondent_name if view.shows.speaker else None,
        }
    )


def metric_series(
    *, session: Session, customer_id: uuid.UUID, metric_key: str, days: int = 365
) -> MetricSeries:
    """Return one metric's daily average for one customer over the last `days` days (UTC)."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer with id {customer_id}.")
    metric = session.get(Metric, metric_key)
    if metric is None:
        raise NotFound(f"No metric {metric_key!r}.")
    since = datetime.now(UTC) - timedelta(days=days)
    day = cast(func.timezone("UTC", Observation.observed_at), Date).label("day")
    rows = session.execute(
        select(day, func.avg(Observation.value).label("value"))
        .where(
            Observation.customer_id == customer_id,
            Observation.metric_key == metric_key,
            Observation.observed_at >= since,
        )
        .group_by(day)
        .order_by(day)
    )
    return MetricSeries(
        key=metric.key,
        name=metric.name,
        unit=metric.unit,
        points=[SeriesPoint(day=r.day, value=r.value) for r in rows],
    )
