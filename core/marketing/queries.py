"""Marketing candidates: documented wins worth telling, the flag board and how many get used.

This is a reuse surface: whoever looks, the consent layer (`core.repository.consent`, audience
EXTERNAL) decides what shows. Customers with logo or full-public consent are named.
Internal-only and anonymized customers are described instead ("A mid-market fintech company"):
their names (current, and the one the record was written under) are scrubbed from the summary,
goal and quote; a quote keeps the respondent's title, their name only with full-public consent,
and internal-only customers' quotes are not shown. A marketer still has a handle to ask about
such a win: its reference (W-1A2B3C) and its CSM. Leaders and admins get the same view, so a
screenshot or CSV from here is always safe to pass on; they can see names on the customer pages.
"""

import uuid

from sqlalchemy import (
    String,
    any_,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.base import Consent
from core.customers.models import Customer
from core.errors import Invalid
from core.formatting import value_text
from core.goals.models import Achievement as A
from core.goals.models import AchievementStatus, Goal
from core.goals.queries import achievements_with_goal
from core.marketing.models import CandidateType, FlagStatus, MarketingFlag
from core.marketing.models import MarketingFlag as F
from core.marketing.schemas import (
    BoardCard,
    Candidate,
    CandidatePage,
    FlagCount,
    FlagInfo,
    FlagOut,
    Utilization,
)
from core.marketing.service import FLAG_STEPS
from core.records.facts import Quote
from core.records.models import SuccessRecord as R
from core.repository.consent import Audience, CustomerView, customer_view
from core.repository.models import RepositoryEntry as E

UNFLAGGED = "unflagged"
MAX_LIMIT = 500
ORDERS = {
    "score": (A.marketing_score.desc().nulls_last(), A.achieved_at.desc(), A.id),
    "newest": (A.achieved_at.desc(), A.id),
}


def reference(achievement_id: uuid.UUID) -> str:
    """Return the short handle people use to talk about a win: W-1A2B3C."""
    return f"W-{achievement_id.hex[:6].upper()}"


def _documented(query):
    """Keep verified wins that have their success record (documented, hence scored)."""
    return query.join(R, R.achievement_id == A.id).where(A.status == AchievementStatus.VERIFIED)


def _flags_per_win():
    names = ("id", "candidate_type", "status", "version", "notes", "status_changed_at")
    flag = func.json_build_object(*(part for n in names for part in (n, getattr(F, n))))
    flags = func.json_agg(aggregate_order_by(flag, F.created_at, F.id)).label("flags")
    return select(F.achievement_id, flags).group_by(F.achievement_id).subquery()


def list_candidates(
    *,
    session: Session,
    min_score: int = 0,
    candidate_type=None,
    industry: str | None = None,
    consent: list | None = None,
    flag_status: str | None = None,
    order: str = "score",
    limit: int = 100,
) -> CandidatePage:
    """Return documented wins matching the filters, best score first, in one query."""
    if not 0 <= min_score <= 100 or not 1 <= limit <= MAX_LIMIT or order not in ORDERS:
        raise Invalid(f"min_score must be 0-100, limit 1-{MAX_LIMIT}, order score or newest.")
    try:
        kind = CandidateType(candidate_type) if candidate_type else None
        levels = [Consent(c) for c in consent or ()]
        status = None if flag_status in (None, UNFLAGGED) else FlagStatus(flag_status)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    flags = _flags_per_win()
    query = (
        achievements_with_goal(
            A.id,
            A.achieved_at,
            A.marketing_score,
            A.marketing_reasons,
            A.marketing_candidates,
            Goal.name.label("goal"),
            Goal.type.label("goal_type"),
            Customer.name.label("customer"),
            Customer.industry,
            Customer.segment,
            Customer.consent_level,
            R.summary,
            R.sections["customer_name"].astext.label("recorded_name"),
            R.sections["quotes"][0].label("quote"),
            E.value_amount,
            E.value_unit,
            User.name.label("csm"),
            flags.c.flags,
            func.count().over().label("total"),
        )
        .outerjoin(E, E.achievement_id == A.id)
        .outerjoin(User, User.id == Customer.owner_csm_id)
        .outerjoin(flags, flags.c.achievement_id == A.id)
        .where(func.coalesce(A.marketing_score, 0) >= min_score)
        .order_by(*ORDERS[order])
        .limit(limit)
    )
    if kind:
        query = query.where(literal(kind.value, String) == any_(A.marketing_candidates))
    if industry:
        query = query.where(Customer.industry == industry)
    if levels:
        query = query.where(Customer.consent_level.in_(levels))
    if flag_status == UNFLAGGED:
        query = query.where(flags.c.achievement_id.is_(None))
    elif status:
        query = query.where(exists().where(F.achievement_id == A.id, F.status == status))
    rows = session.execute(_documented(query)).all()
    return CandidatePage(total=rows[0].total if rows else 0, items=[_candidate(r) for r in rows])


def _view(row) -> CustomerView:
    return customer_view(
        Audience.EXTERNAL,
        name=row.customer,
        consent=row.consent_level,
        segment=row.segment,
        industry=row.industry,
        former=[row.recorded_name] if row.recorded_name else (),
    )


def _win(row, achievement_id: uuid.UUID, view: CustomerView) -> dict:
    """Return the consent-safe fields every view of a win shares."""
    return {
        "reference": reference(achievement_id),
        "customer_label": view.label,
        "consent_level": view.consent,
        "goal": view.text(row.goal),
    }


def _candidate(row) -> Candidate:
    view = _view(row)
    stored = row.quote or {}
    said = Quote(stored.get("text") or "", stored.get("name"), stored.get("title"), "", 0)
    quote = view.quote(said) if said.text else None
    return Candidate(
        **_win(row, row.id, view),
        achievement_id=row.id,
        customer_name=view.name,
        industry=row.industry,
        goal_type=row.goal_type,
        summary=view.text(row.summary),
        value=value_text(row.value_amount, row.value_unit),
        achieved_on=row.achieved_at.date(),
        score=row.marketing_score or 0,
        reasons=list(row.marketing_reasons or []),
        candidate_types=[CandidateType(c) for c in row.marketing_candidates or ()],
        quote=quote.text if quote else None,
        quote_by=view.quoted_by(quote) if quote else None,
        csm_name=row.csm,
        flags=[FlagInfo(**f) for f in row.flags or ()],
    )


def candidate_industries(*, session: Session) -> list[str]:
    """Return the industries that have documented wins, for the filter."""
    query = _documented(select(Customer.industry).join(A, A.customer_id == Customer.id))
    return list(session.scalars(query.distinct().order_by(Customer.industry)))


def flag_board(*, session: Session) -> dict[FlagStatus, list[BoardCard]]:
    """Return every flag grouped by status (all statuses present), latest move first."""
    rows = session.execute(
        select(
            F.id,
            F.version,
            F.status,
            F.candidate_type,
            F.achievement_id,
            F.score,
            F.notes,
            F.status_changed_at,
            Goal.name.label("goal"),
            Customer.name.label("customer"),
            Customer.industry,
            Customer.segment,
            Customer.consent_level,
            R.sections["customer_name"].astext.label("recorded_name"),
        )
        .join(A, A.id == F.achievement_id)
        .join(Goal, Goal.id == A.goal_id)
        .join(Customer, Customer.id == F.customer_id)
        .outerjoin(R, R.achievement_id == A.id)
        .order_by(F.status_changed_at.desc(), F.id)
    ).all()
    board: dict[FlagStatus, list[BoardCard]] = {s: [] for s in FlagStatus}
    for r in rows:
        board[r.status].append(
            BoardCard(
                **_win(r, r.achievement_id, _view(r)),
                flag_id=r.id,
                version=r.version,
                status=r.status,
                candidate_type=r.candidate_type,
                score=r.score,
                notes=r.notes,
                status_changed_at=r.status_changed_at,
                next_steps=sorted(FLAG_STEPS[r.status], key=list(FlagStatus).index),
            )
        )
    return board


def utilization(*, session: Session) -> Utilization:
    """Count documented wins, candidates, flagged and used wins, and flags by status and type."""
    per_win = (
        select(F.achievement_id, func.bool_or(F.status == FlagStatus.USED).label("used"))
        .group_by(F.achievement_id)
        .subquery()
    )
    wins = (
        select(
            func.count().label("wins"),
            func.count().filter(func.cardinality(A.marketing_candidates) > 0).label("candidates"),
            func.count(per_win.c.achievement_id).label("flagged"),
            func.count().filter(per_win.c.used).label("used"),
        )
        .select_from(A)
        .outerjoin(per_win, per_win.c.achievement_id == A.id)
    )
    wins = session.execute(_documented(wins)).one()
    by_kind = select(F.status, F.candidate_type, func.count().label("count"))
    rows = session.execute(by_kind.group_by(F.status, F.candidate_type)).all()
    counts = [FlagCount.model_validate(r, from_attributes=True) for r in rows]
    return Utilization(
        wins=wins.wins,
        candidates=wins.candidates,
        flagged=wins.flagged,
        used=wins.used,
        utilization=wins.used / wins.wins if wins.wins else 0.0,
        counts=counts,
    )


def flag_out(*, session: Session, flag: MarketingFlag, goal_id: uuid.UUID) -> FlagOut:
    """Describe a marketing flag with its goal and the email of who flagged it."""
    email = session.scalar(select(User.email).where(User.id == flag.flagged_by_id))
    return FlagOut(
        id=flag.id,
        achievement_id=flag.achievement_id,
        goal_id=goal_id,
        customer_id=flag.customer_id,
        candidate_type=flag.candidate_type,
        status=flag.status,
        score=flag.score,
        notes=flag.notes,
        flagged_by=email or "",
        created_at=flag.created_at,
    )
