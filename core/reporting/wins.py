"""Compute the Wins dashboard: trends, breakdowns, the recent feed and the PRD success metrics."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Date, Integer, and_, case, cast, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Role
from core.customers.models import Customer, Metric
from core.documentation.queries import achievement_conditions
from core.documentation.schemas import AchievementFilters
from core.drafts.models import Draft, DraftKind, DraftStatus
from core.goals.models import Achievement, AchievementStatus, Goal, GoalStatus, GoalType
from core.goals.queries import achievements_with_goal
from core.goals.results import RATIO_UNITS
from core.marketing.models import FlagStatus, MarketingFlag
from core.outbox.models import Channel, Delivery
from core.records.models import SuccessRecord
from core.reporting.schemas import SuccessMetric
from core.reporting.success_metrics import success_metrics
from core.reporting.unrecorded import unrecorded_goals
from core.repository.consent import audience, customer_views

RECENT = 15
TOP_CSMS = 5
BIN_DAYS = 30
LAST_BIN = 12  # the last time-to-achieve bin holds everything from 360 days on
WEEKLY_UP_TO = 120  # days; longer periods chart wins per month
CUSTOM_REASON = "No metric can prove it; its CSM confirms it once the customer got there"


class Slice(BaseModel):
    label: str
    wins: int
    value: Decimal


class TimePoint(BaseModel):
    start: date
    wins: int
    value: Decimal


class CsmWins(Slice):
    csm_id: uuid.UUID | None
    median_days: float | None


class RecentWin(BaseModel):
    achievement_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    goal_name: str
    goal_type: GoalType
    result: str
    achieved_at: datetime
    days: int
    csm_name: str | None
    slack_status: str | None
    documented: bool


class WinsOverview(BaseModel):
    """Everything the Wins page shows for one scope and period."""

    wins: int
    money_wins: int
    value: Decimal
    bucket: Literal["week", "month"]
    over_time: list[TimePoint]
    by_type: list[Slice]
    by_industry: list[Slice]
    by_csm: list[CsmWins]
    recognition: list[CsmWins]
    days_bins: list[Slice]
    median_days: float | None
    median_doc_hours: float | None
    metrics: list[SuccessMetric]
    recent: list[RecentWin]


class PendingConfirmation(BaseModel):
    """A held win or a custom goal waiting for a person to confirm it."""

    kind: Literal["held", "custom"]
    goal_id: uuid.UUID
    achievement_id: uuid.UUID | None
    customer_name: str
    goal_name: str
    csm_name: str | None
    reason: str
    since: date
    due_date: date | None
    suggested_value: Decimal | None
    target: Decimal | None
    unit: str | None


def _wins(conditions: list):
    """Return one row per win in scope with everything the aggregates need."""
    is_roi_ratio = and_(  # achieved is value ÷ cost
        Goal.type == GoalType.ROI, Goal.cost > 0, func.lower(Goal.unit).in_(RATIO_UNITS)
    )
    money = case(
        (
            Metric.is_money.is_(True),
            case(
                (is_roi_ratio, Achievement.achieved_value * Goal.cost),
                else_=Achievement.achieved_value,
            ),
        ),
    )
    utc = func.timezone("UTC", Achievement.achieved_at)
    # Timeliness counts from the moment the goal was reached, not from when the app noticed.
    written = func.extract("epoch", SuccessRecord.written_at - Achievement.achieved_at) / 3600
    hours = case((SuccessRecord.id.is_not(None), func.greatest(written, 0)))
    emailed = exists().where(
        Draft.kind == DraftKind.CUSTOMER_EMAIL,
        Draft.related_type == "achievement",
        Draft.related_id == Achievement.id,
        Draft.status == DraftStatus.SENT,
    )
    used = exists().where(
        MarketingFlag.achievement_id == Achievement.id, MarketingFlag.status == FlagStatus.USED
    )
    day = cast(utc, Date)
    # Wins without a number (milestones, confirmations) read best as the rule that proved them.
    result = case(
        (Achievement.achieved_value.is_(None), Achievement.rule),
        else_=func.coalesce(SuccessRecord.sections["result"].astext, Achievement.rule),
    )
    days = func.greatest(day - Goal.start_date, 0, type_=Integer)
    columns = (
        Achievement.id,
        Achievement.achieved_at,
        Goal.id.label("goal_id"),
        Customer.id.label("customer_id"),
        Goal.type.label("goal_type"),
        Customer.industry,
        Customer.owner_csm_id.label("csm_id"),
        func.coalesce(User.name, "Unassigned").label("csm_name"),
        money.label("money"),
        day.label("day"),
        days.label("days"),
        func.least(days // BIN_DAYS, LAST_BIN, type_=Integer).label("bin"),
        cast(func.date_trunc("week", utc), Date).label("week"),
        cast(func.date_trunc("month", utc), Date).label("month"),
        SuccessRecord.id.is_not(None).label("documented"),
        hours.label("doc_hours"),
        emailed.label("emailed"),
        used.label("used"),
        Customer.name.label("customer_name"),
        Goal.name.label("goal_name"),
        Delivery.status.label("slack_status"),
        result.label("result"),
    )
    slack = and_(
        Delivery.related_type == "achievement",
        Delivery.related_id == Achievement.id,
        Delivery.channel == Channel.SLACK_MESSAGE,
    )
    return (
        achievements_with_goal(*columns)
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .outerjoin(Metric, Metric.key == Goal.metric_key)
        .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
        .outerjoin(Delivery, slack)  # one Slack announcement per win (idempotency key)
        .where(*conditions)
        .subquery("wins")
    )


def _median(column):
    return func.percentile_cont(0.5).within_group(column)


def _bin(index: int, row) -> Slice:
    low = index * BIN_DAYS
    name = f"{low}+" if index == LAST_BIN else f"{low}–{low + BIN_DAYS - 1}"
    return Slice(label=name, wins=row.n if row else 0, value=row.value if row else 0)


def _timeline(found: dict, bucket: str, first: date, last: date) -> list[TimePoint]:
    start = first - timedelta(days=first.weekday()) if bucket == "week" else first.replace(day=1)
    points = []
    while start <= last:
        row = found.get(start)
        points.append(
            TimePoint(start=start, wins=row.n if row else 0, value=row.value if row else Decimal(0))
        )
        if bucket == "week":
            start += timedelta(days=7)
        else:
            start = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return points


def wins_overview(
    *,
    session: Session,
    csm_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    industry: str | None = None,
    goal_type: GoalType | str | None = None,
    now: datetime | None = None,
    viewer: Role | None = None,
) -> WinsOverview:
    """Return the wins in scope: trends, breakdowns, recent feed and the PRD success metrics.

    Customers in the feed and in the metrics' rows are named as `viewer`'s role may see them
    (`core.repository.consent`; None: an internal caller).
    """
    now = now or datetime.now(UTC)
    filters = AchievementFilters(
        status=AchievementStatus.VERIFIED,
        industry=industry or None,
        goal_type=goal_type or None,
        achieved_from=date_from,
        achieved_to=date_to,
    )
    conditions = achievement_conditions(filters) + (
        [Customer.owner_csm_id == csm_id] if csm_id else []
    )
    w = _wins(conditions)
    totals = (
        func.count().label("wins"),
        func.count(w.c.money).label("money_wins"),
        func.coalesce(func.sum(w.c.money), 0).label("value"),
        _median(w.c.doc_hours).label("median_hours"),
        _median(w.c.days).label("median_days"),
        func.min(w.c.day).label("first"),
    )
    t = session.execute(select(*totals)).one()
    unrecorded = unrecorded_goals(
        session=session,
        now=now,
        csm_id=csm_id,
        date_from=date_from,
        date_to=date_to,
        industry=industry,
        goal_type=goal_type,
    )
    today = now.astimezone(UTC).date()
    first = date_from or t.first or today
    last = date_to or today
    bucket = "week" if (last - first).days <= WEEKLY_UP_TO else "month"
    sets = (w.c[bucket], w.c.goal_type, w.c.industry, w.c.csm_id, w.c.bin)
    columns = (
        *sets,
        w.c.csm_name,
        *(func.grouping(c).label(f"g{i}") for i, c in enumerate(sets)),
        func.count().label("n"),
        func.coalesce(func.sum(w.c.money), 0).label("value"),
        _median(w.c.days).label("median_days"),
    )
    groups = func.grouping_sets(
        *(tuple_(c) for c in sets[:3]), tuple_(w.c.csm_id, w.c.csm_name), tuple_(sets[4])
    )
    rows = session.execute(select(*columns).group_by(groups)).all()
    by = {i: [r for r in rows if getattr(r, f"g{i}") == 0] for i in range(len(sets))}

    def slices(found, name) -> list[Slice]:
        ranked = sorted(found, key=lambda r: (-r.n, str(getattr(r, name))))
        return [Slice(label=str(getattr(r, name)), wins=r.n, value=r.value) for r in ranked]

    by_csm = [
        CsmWins(
            csm_id=r.csm_id, label=r.csm_name, wins=r.n, value=r.value, median_days=r.median_days
        )
        for r in sorted(by[3], key=lambda r: (-r.n, -r.value, r.csm_name))
    ]
    bins = {r.bin: r for r in by[4]}
    feed = (w.c.id.label("achievement_id"), *(w.c[k] for k in list(RecentWin.model_fields)[1:]))
    recent = select(*feed).order_by(w.c.achieved_at.desc(), w.c.id.desc()).limit(RECENT)
    metrics = success_metrics(session=session, wins=w, unrecorded=unrecorded, now=now)
    latest = [RecentWin.model_validate(r._mapping) for r in session.execute(recent)]
    latest, metrics = _as_seen(session, viewer, latest, metrics)
    return WinsOverview(
        wins=t.wins,
        money_wins=t.money_wins,
        value=t.value,
        bucket=bucket,
        over_time=_timeline({r[0]: r for r in by[0]}, bucket, first, last) if t.wins else [],
        by_type=slices(by[1], "goal_type"),
        by_industry=slices(by[2], "industry"),
        by_csm=by_csm,
        recognition=[c for c in by_csm if c.csm_id][:TOP_CSMS],
        days_bins=[_bin(b, bins.get(b)) for b in range(max(bins, default=-1) + 1)],
        median_days=t.median_days,
        median_doc_hours=t.median_hours,
        metrics=metrics,
        recent=latest,
    )


def _as_seen(
    session: Session, viewer: Role | None, feed: list[RecentWin], metrics: list[SuccessMetric]
) -> tuple[list[RecentWin], list[SuccessMetric]]:
    """Name the customers of the feed and of the metrics' rows as `viewer` may see them."""
    rows = [row for m in metrics for row in m.rows]
    views = customer_views(
        session=session,
        seen_by=audience(viewer),
        customer_ids={x.customer_id for x in [*feed, *rows]},
    )

    def shown(item):
        view = views[item.customer_id]
        update = {"customer_name": view.label, "goal_name": view.text(item.goal_name)}
        if isinstance(item, RecentWin):
            update["result"] = view.text(item.result)
        return item.model_copy(update=update)

    metrics = [m.model_copy(update={"rows": [shown(r) for r in m.rows]}) for m in metrics]
    return [shown(w) for w in feed], metrics


def pending_confirmations(
    *, session: Session, csm_id: uuid.UUID | None = None
) -> list[PendingConfirmation]:
    """Return held wins and active custom goals waiting for a CSM, held ones first."""
    held = Achievement.status == AchievementStatus.HELD
    custom = and_(
        Goal.type == GoalType.CUSTOM, Goal.status == GoalStatus.ACTIVE, Achievement.id.is_(None)
    )
    columns = (
        case((held, "held"), else_="custom").label("kind"),
        Goal.id.label("goal_id"),
        Achievement.id.label("achievement_id"),
        Customer.name.label("customer_name"),
        Goal.name.label("goal_name"),
        User.name.label("csm_name"),
        func.coalesce(Achievement.rule, CUSTOM_REASON).label("reason"),
        func.coalesce(cast(Achievement.detected_at, Date), Goal.start_date).label("since"),
        Goal.due_date,
        Achievement.achieved_value.label("suggested_value"),
        Goal.target,
        func.coalesce(Goal.unit, Metric.unit).label("unit"),
    )
    rows = session.execute(
        select(*columns)
        .join(Customer, Customer.id == Goal.customer_id)
        .outerjoin(Achievement, Achievement.goal_id == Goal.id)
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .outerjoin(Metric, Metric.key == Goal.metric_key)
        .where(or_(held, custom), *([Customer.owner_csm_id == csm_id] if csm_id else []))
        .order_by(
            case((held, 0), else_=1), Goal.due_date.asc().nulls_last(), Customer.name, Goal.name
        )
    ).all()
    return [PendingConfirmation.model_validate(r._mapping) for r in rows]
