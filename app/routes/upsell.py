"""Upsell API: enter upsells, create and read measurement plans, record values and reviews."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.orm import Session

from app.deps import ANY_ROLE, get_read_session, get_session, require_roles
from app.routes.goals import errors
from core.accounts.models import ApiKey
from core.accounts.service import person
from core.base import Role, Segment
from core.repository.consent import CustomerView, audience, customer_views
from core.schemas import Day, Forgiving, SingleLine
from core.upsell import outcome_report
from core.upsell.analysis import ARR_BANDS
from core.upsell.analysis_schemas import Analysis
from core.upsell.progress import record_manual_values
from core.upsell.queries import plan_id_for, review_out, success_measurement, upsell_for, upsell_out
from core.upsell.reviews import record_review
from core.upsell.schemas import (
    ManualUpsellIn,
    MeasurementIn,
    MetricValuesIn,
    ReviewIn,
    ReviewOut,
    SuccessMeasurement,
    UpsellOut,
)
from core.upsell.service import ensure_plan
from core.upsell.sources import create_manual_upsell

router = APIRouter(prefix="/api/upsell", tags=["upsell"])

WRITERS = {Role.CSM, Role.LEADER, Role.ADMIN}
ANALYSTS = {Role.LEADER, Role.ADMIN}
REF = "Our upsell UUID or the opportunity id (a UUID matching one of ours wins)."
UpsellRef = Annotated[SingleLine, Path(alias="id", min_length=1, max_length=128, description=REF)]
PRD_SHAPE = (
    "Answers the PRD's UpsellSuccessMeasurement: `upsellDetails`, `successCriteria` {metrics, "
    "goals (the deal's stated criteria), benchmarks (its industry and segment)}, "
    "`measurementPlan` {trackingStart, checkpoints [{day, type, status, scheduledDate, "
    "completedDate}], dashboardUrl (the plan's page in the web UI)}, `progress` "
    "{currentStatus, metricsProgress, lastUpdated}, `reviews`, `outcome` {status, evidence, "
    "lessonsLearned, documentedAt} and `createdAt`, beside the fields of earlier answers."
)
PERSON_403 = (
    "The key's role, or the person's role, may not do this, or the key is bound to another person"
)


def _actor(session: Session, key: ApiKey, email: str, field: str, action: str):
    return person(session=session, email=email, roles=WRITERS, field=field, action=action, key=key)


@router.post(
    "",
    status_code=201,
    response_model=UpsellOut,
    summary="Enter an upsell by hand",
    description="Records a closed upsell (source `manual`); `arrIncrease` ≥ 0 (zero is a valid "
    "no-charge expansion). `createdBy` is the email of an active csm/leader/admin. The plan is "
    "created by the next sync, or at once with `POST /api/upsell/{id}/success-measurement`.",
    responses=errors(
        {
            403: PERSON_403,
            404: "Unknown customer",
            422: "Invalid body (negative ARR, future close date, unknown product…)",
        }
    ),
)
def enter_upsell(
    body: ManualUpsellIn,
    key: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> UpsellOut:
    """Record a manually entered upsell on behalf of `createdBy`."""
    actor = _actor(session, key, body.created_by, "createdBy", "enter upsells")
    fields = body.model_dump(exclude={"created_by"})
    upsell = create_manual_upsell(session=session, actor=actor, **fields)
    return upsell_out(session=session, upsell=upsell)


@router.get(
    "/outcomes",
    response_model=Analysis,
    summary="Outcome analysis",
    description="Outcome mix, success, churn, value realization and time to value, broken down "
    "by product, segment, industry, ARR band and sales rep; 30-day signals vs outcomes; "
    "prediction vs actual; the PRD success metrics. Without filters: the report the upsell "
    "tracking job stored after its last pass (every 10 minutes), as of `computedAt`. Filters "
    "narrow the plans (by close date for `dateFrom`/`dateTo`); the report is then computed for "
    "the request (slower). Leader and admin keys.",
    responses=errors(
        {403: "Only leader and admin keys may read the analysis", 422: "An invalid filter"}
    ),
)
def outcomes(
    product: Annotated[SingleLine | None, Query(max_length=64)] = None,
    segment: Forgiving[Segment] | None = None,
    industry: Annotated[SingleLine | None, Query(max_length=80)] = None,
    arr_band: Annotated[Literal[ARR_BANDS] | None, Query(alias="arrBand")] = None,
    sales_rep: Annotated[SingleLine | None, Query(alias="salesRep", max_length=120)] = None,
    date_from: Annotated[Day | None, Query(alias="dateFrom")] = None,
    date_to: Annotated[Day | None, Query(alias="dateTo")] = None,
    _: ApiKey = Depends(require_roles(*ANALYSTS)),
    session: Session = Depends(get_read_session),
    writer: Session = Depends(get_session),
) -> Analysis:
    """Return the outcome analysis of the plans matching the filters (stored, without any)."""
    return outcome_report.analysis(
        session=session,
        writer=writer,
        product=product,
        segment=segment,
        industry=industry,
        arr_band=arr_band,
        sales_rep=sales_rep,
        date_from=date_from,
        date_to=date_to,
    )


@router.post(
    "/{id}/success-measurement",
    status_code=201,
    response_model=SuccessMeasurement,
    summary="Create an upsell's measurement plan now",
    description="Creates the plan from the product templates (the same code as the sync job, "
    "which also plans any other upsell still waiting) and predicts its success; "
    "`successCriteria` replaces the template's criteria; each target must lie beyond the "
    "criterion's baseline at close (taken from usage when not given). Each criterion answers "
    "with `targetSource` and `targetExplanation`. 201 when created; 200 when the plan "
    "already exists and matches the request (or none is given); 409 when it differs. "
    f"`createdBy` (optional) is the email of an active csm/leader/admin. `id`: {REF} " + PRD_SHAPE,
    responses=errors(
        {
            403: PERSON_403,
            404: "Unknown upsell",
            409: "The upsell already has a plan with different criteria",
            422: "Invalid criteria (unknown metric key, duplicate names, a target already met "
            "at close: at or behind the baseline in the metric's direction, …)",
        }
    )
    | {200: {"model": SuccessMeasurement, "description": "The plan already exists and matches"}},
)
def create_measurement(
    ref: UpsellRef,
    body: MeasurementIn,
    response: Response,
    key: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> SuccessMeasurement:
    """Create (or return the matching) measurement plan of the upsell."""
    upsell = upsell_for(session=session, ref=ref)
    actor = f"api:{key.name}"
    if body.created_by:
        actor = _actor(session, key, body.created_by, "createdBy", "create measurement plans")
    view, created = ensure_plan(
        session=session, upsell=upsell, actor=actor, criteria=body.success_criteria
    )
    if not created:
        response.status_code = 200
    return view


@router.get(
    "/{id}/progress",
    response_model=SuccessMeasurement,
    summary="An upsell's plan and progress",
    description="`progress` also gives each metric's measurement `frequency` and `noRecentData` "
    "(its newest value is older than the frequency allows, so it does not count), the plan's "
    "adoption `milestones` (completed with the day reached, overdue or upcoming) and "
    "`roiRealized` (money realized since the close against the ARR added; no multiple without "
    f"a money metric). Any key role may read; for a sales or marketing key, the names of a "
    "customer whose consent does not allow naming are scrubbed from the upsell's name, the "
    f"stated goals, the reviews and the outcome's lessons. `id`: {REF} " + PRD_SHAPE,
    responses=errors({404: "Unknown upsell, or it has no plan yet"}),
)
def progress(
    ref: UpsellRef,
    key: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> SuccessMeasurement:
    """Return the upsell's measurement plan with progress, checkpoints, reviews and outcome."""
    plan_id = plan_id_for(session=session, upsell=upsell_for(session=session, ref=ref))
    found = success_measurement(session=session, measurement_id=plan_id)
    views = customer_views(
        session=session, seen_by=audience(key.role), customer_ids=[found.customer_id]
    )
    return _as_seen(found, views[found.customer_id])


def _as_seen(found: SuccessMeasurement, view: CustomerView) -> SuccessMeasurement:
    """The plan with the customer's names in people's text rendered as `view` allows."""
    details, criteria, outcome = found.upsell_details, found.success_criteria, found.outcome
    reviews = [
        r.model_copy(
            update={
                "findings": view.text(r.findings),
                "next_steps": view.text(r.next_steps) or None,
            }
        )
        for r in found.reviews
    ]
    if outcome is not None:
        lessons = [view.text(text) for text in outcome.lessons_learned]
        outcome = outcome.model_copy(update={"lessons_learned": lessons})
    return found.model_copy(
        update={
            "upsell_details": details.model_copy(update={"name": view.text(details.name)}),
            "success_criteria": criteria.model_copy(
                update={"goals": [view.text(goal) for goal in criteria.goals]}
            ),
            "reviews": reviews,
            "outcome": outcome,
        }
    )


@router.put(
    "/{id}/metrics",
    response_model=SuccessMeasurement,
    summary="Record values of manually measured metrics",
    description="`values` maps metric names to numbers; only manual metrics take values "
    "(automatic ones come from usage data). The plan is rescored at once. `recordedBy` is the "
    f"email of an active csm/leader/admin. `id`: {REF} " + PRD_SHAPE,
    responses=errors(
        {
            403: PERSON_403,
            404: "Unknown upsell, or it has no plan yet",
            422: "Unknown or automatic metric names, non-numbers, a closed plan",
        }
    ),
)
def record_values(
    ref: UpsellRef,
    body: MetricValuesIn,
    key: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> SuccessMeasurement:
    """Record manual metric values on behalf of `recordedBy`."""
    plan_id = plan_id_for(session=session, upsell=upsell_for(session=session, ref=ref))
    actor = _actor(session, key, body.recorded_by, "recordedBy", "record metric values")
    record_manual_values(
        session=session,
        measurement_id=plan_id,
        values=body.values,
        actor=actor,
        observed_at=body.observed_at,
    )
    return success_measurement(session=session, measurement_id=plan_id)


@router.post(
    "/{id}/review",
    status_code=201,
    response_model=ReviewOut,
    summary="Record a review of an upsell's plan",
    description="`checkpointDay` (optional) marks that checkpoint reviewed. `reviewedBy` is the "
    f"email of an active csm/leader/admin. `id`: {REF}",
    responses=errors(
        {
            403: PERSON_403,
            404: "Unknown upsell, or it has no plan yet",
            422: "Invalid body (unknown assessment, no such checkpoint day, …)",
        }
    ),
)
def review(
    ref: UpsellRef,
    body: ReviewIn,
    key: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> ReviewOut:
    """Record a review on behalf of `reviewedBy`."""
    plan_id = plan_id_for(session=session, upsell=upsell_for(session=session, ref=ref))
    actor = _actor(session, key, body.reviewed_by, "reviewedBy", "record reviews")
    row = record_review(
        session=session,
        measurement_id=plan_id,
        assessment=body.assessment,
        findings=body.findings,
        actor=actor,
        checkpoint_day=body.checkpoint_day,
        next_steps=body.next_steps,
    )
    return review_out(row, checkpoint_day=body.checkpoint_day, reviewed_by=actor.email)
