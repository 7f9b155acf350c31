"""Compute the home page figures for one person with a few set-based queries."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, exists, func, select, true, tuple_
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.queries import get_user
from core.base import Role, Segment
from core.customers.models import Customer
from core.customers.queries import health_band_expr
from core.customers.schemas import HealthBand
from core.drafts.models import Draft, DraftStatus
from core.goals.models import Goal, GoalStatus
from core.reporting.schemas import AttentionItem, HomeFigures, MonthPoint, Slice
from core.repository.consent import audience, customer_view
from core.upsell.models import Measurement, MeasurementStatus, Upsell

MONTHS = 12
ATTENTION = 5


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _totals(session: Session, in_scope: ColumnElement[bool], draft_owner: ColumnElement[bool]):
    book = select(Customer.id).where(in_scope)
    return session.execute(
        select(
            select(func.count(Customer.id)).where(in_scope).scalar_subquery().label("customers"),
            select(func.coalesce(func.sum(Customer.arr), 0))
            .where(in_scope)
            .scalar_subquery()
            .label("arr"),
            select(func.avg(Customer.health_score))
            .where(in_scope)
            .scalar_subquery()
            .label("avg_health"),
            select(func.count())
            .where(Goal.customer_id.in_(book), Goal.status == GoalStatus.ACTIVE)
            .scalar_subquery()
            .label("active_goals"),
            select(func.count())
            .where(
                Measurement.customer_id.in_(book),
                Measurement.status == MeasurementStatus.ACTIVE,
            )
            .scalar_subquery()
            .label("open_plans"),
            select(func.count())
            .where(
                Upsell.customer_id.in_(book),
                ~exists().where(Measurement.upsell_id == Upsell.id),
            )
            .scalar_subquery()
            .label("upsells_without_plan"),
            select(func.count())
            .where(Draft.status == DraftStatus.PENDING, draft_owner)
            .scalar_subquery()
            .label("pending_approvals"),
        )
    ).one()


def _breakdowns(session: Session, in_scope: ColumnElement[bool]) -> dict[str, list[Slice]]:
    base = (
        select(
            Customer.segment,
            Customer.industry,
            health_band_expr(Customer.health_score).label("band"),
            Customer.arr,
        )
        .where(in_scope)
        .subquery()
    )
    rows = session.execute(
        select(
            base.c.segment,
            base.c.industry,
            base.c.band,
            func.grouping(base.c.segment).label("g_segment"),
            func.grouping(base.c.industry).label("g_industry"),
            func.count().label("n"),
            func.coalesce(func.sum(base.c.arr), 0).label("arr"),
        ).group_by(
            func.grouping_sets(tuple_(base.c.segment), tuple_(base.c.industry), tuple_(base.c.band))
        )
    ).all()
    by_segment = {r.segment: r.arr for r in rows if r.g_segment == 0}
    by_industry = [r for r in rows if r.g_industry == 0]
    by_band = {r.band: r.n for r in rows if r.g_segment == 1 and r.g_industry == 1}
    return {
        "arr_by_segment": [
            Slice(label=s.value, value=Decimal(by_segment.get(s, 0))) for s in Segment
        ],
        "customers_by_industry": [
            Slice(label=r.industry, value=Decimal(r.n))
            for r in sorted(by_industry, key=lambda r: (-r.n, r.industry))
        ],
        "health_bands": [
            Slice(label=b.value, value=Decimal(by_band.get(b.value, 0))) for b in HealthBand
        ],
    }


def _upsells_by_month(
    session: Session, in_scope: ColumnElement[bool], today: date
) -> list[MonthPoint]:
    first = _month_start(today, MONTHS - 1)
    month = func.date_trunc("month", Upsell.close_date).label("month")
    rows = session.execute(
        select(
            month,
            func.count().label("count"),
            func.coalesce(func.sum(Upsell.arr_increase), 0).label("arr"),
        )
        .where(
            Upsell.close_date >= first, Upsell.customer_id.in_(select(Customer.id).where(in_scope))
        )
        .group_by(month)
    ).all()
    found = {r.month.date(): r for r in rows}
    months = [_month_start(today, back) for back in range(MONTHS - 1, -1, -1)]
    return [
        MonthPoint(
            month=m,
            count=found[m].count if m in found else 0,
            arr=found[m].arr if m in found else Decimal(0),
        )
        for m in months
    ]


def _attention(session: Session, in_scope: ColumnElement[bool], role: Role) -> list[AttentionItem]:
    rows = session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.consent_level,
            Customer.segment,
            Customer.industry,
            Customer.health_score,
            health_band_expr(Customer.health_score).label("health_band"),
            Customer.arr,
            User.name.label("csm_name"),
        )
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .where(in_scope, Customer.health_score.is_not(None))
        .order_by(Customer.health_score, Customer.arr.desc(), Customer.name)
        .limit(ATTENTION)
    )
    return [
        AttentionItem(
            customer_id=r.id,
            # Named as the viewer's role may see them (sales and marketing: consent decides).
            name=customer_view(
                audience(role),
                name=r.name,
                consent=r.consent_level,
                segment=r.segment,
                industry=r.industry,
            ).label,
            health_score=r.health_score,
            health_band=r.health_band,
            arr=r.arr,
            csm_name=r.csm_name,
            reason=f"Health {r.health_score:.0f}",
        )
        for r in rows
    ]


def home_figures(*, session: Session, user_id: uuid.UUID, today: date | None = None) -> HomeFigures:
    """Return the home figures: a CSM's own book, or the whole company for everyone else."""
    user = get_user(session=session, user_id=user_id)
    today = today or date.today()
    is_csm = user.role == Role.CSM
    in_scope = Customer.owner_csm_id == user.id if is_csm else true()
    draft_owner = Draft.owner_id == user.id if is_csm else true()
    totals = _totals(session, in_scope, draft_owner)
    return HomeFigures(
        scope="book" if is_csm else "company",
        user_name=user.name,
        role=user.role,
        customers=totals.customers,
        arr=totals.arr,
        avg_health=totals.avg_health,
        active_goals=totals.active_goals,
        open_plans=totals.open_plans,
        upsells_without_plan=totals.upsells_without_plan,
        pending_approvals=totals.pending_approvals,
        **_breakdowns(session, in_scope),
        upsells_by_month=_upsells_by_month(session, in_scope, today),
        attention=_attention(session, in_scope, user.role),
    )
