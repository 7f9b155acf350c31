"""Inbound upserts from other systems: customers and goals by their id, usage in batches."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from sqlalchemy.orm import Session

from app.deps import get_session, require_roles
from app.routes.goals import errors
from core.accounts.models import ApiKey
from core.base import Role
from core.customers.schemas import MAX_OBSERVATIONS, CustomerIn, CustomerOut, UsageIn, UsageResult
from core.customers.service import ingest_usage, upsert_customer
from core.goals.schemas import GoalIn, GoalOut
from core.goals.service import upsert_goal
from core.schemas import SingleLine

router = APIRouter(prefix="/api", tags=["ingest"])

# Integrations (CRM sync, success-plan tools, usage pipelines) use an admin key; CS staff may too.
WRITERS = (Role.ADMIN, Role.LEADER, Role.CSM)
ExternalId = Annotated[
    SingleLine,
    Path(alias="externalId", min_length=1, max_length=128, description="The source system's id"),
]
WHO = "Keys with role admin, leader or csm (integrations use an admin key)."
MERGE = (
    "Optional fields left out keep their stored value (or the default when creating); send null "
    "to clear one. Sending the same body again changes nothing."
)


@router.put(
    "/customers/{externalId}",
    response_model=CustomerOut,
    summary="Create or update a customer by its external id",
    description=f"201 when created, 200 when updated or unchanged. {MERGE} `ownerCsmEmail` must "
    "be an active user; `consentLevel` starts as internal_only. " + WHO,
    responses=errors(
        {
            403: "The key's role may not write customers",
            409: "crmId already belongs to another customer",
            422: "Invalid body (field named), or unknown ownerCsmEmail",
        }
    )
    | {201: {"model": CustomerOut, "description": "Created"}},
)
def put_customer(
    external_id: ExternalId,
    body: CustomerIn,
    response: Response,
    key: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> CustomerOut:
    """Upsert the customer the source system calls `externalId`."""
    customer, created = upsert_customer(
        session=session, external_id=external_id, body=body, actor=f"api:{key.name}"
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return customer


@router.put(
    "/goals/{externalId}",
    response_model=GoalOut,
    summary="Create or update a goal by its external id",
    description=f"201 when created, 200 when updated or unchanged. {MERGE} Rules per type: kpi "
    "and roi need `metric` and `target`; onboarding with a metric needs `target`, without one it "
    "needs `milestones`; success_plan needs `milestones` and no metric; custom needs neither. "
    "`metric` must be a known metric key; `direction` defaults to the metric's. A stated "
    "`baseline` and `target` point the goal's way: the target above the baseline when higher is "
    "better, below it when lower is better (ratio ROI goals excepted; a stored goal keeps its "
    "numbers while they do not change). `milestones` "
    "replace the goal's milestones (omit to keep them); they belong to the success plan "
    "`planExternalId`, created as 'Imported plan' when new, or by default to the customer's "
    "'Imported plan' (external id `imported:<customerExternalId>`). Once a goal has an "
    "achievement its type, metric, target and direction cannot change (409). " + WHO,
    responses=errors(
        {
            403: "The key's role may not write goals",
            409: "Changing what an achieved goal measures, or moving a goal to another customer",
            422: "Invalid body (field named): unknown customerExternalId or metric, a type "
            "rule broken, or a target behind its baseline",
        }
    )
    | {201: {"model": GoalOut, "description": "Created"}},
)
def put_goal(
    external_id: ExternalId,
    body: GoalIn,
    response: Response,
    key: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> GoalOut:
    """Upsert the goal the source system calls `externalId`."""
    goal, created = upsert_goal(
        session=session, external_id=external_id, body=body, actor=f"api:{key.name}"
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return goal


@router.post(
    "/usage",
    response_model=UsageResult,
    summary="Record metric observations in bulk",
    description=f"Up to {MAX_OBSERVATIONS:,} observations per request, written in one statement. "
    "`customerId` is our UUID or the external id (a UUID matching one of ours wins). "
    "`observedAt` needs a UTC offset and may be at most a day ahead. Idempotent on customer + "
    "metric + observedAt: a new value updates the row (and makes goal detection read it again), "
    "the same value leaves it untouched. If any row is invalid nothing is written and the 422 "
    "names each bad row, e.g. `observations[12].metric: unknown metric 'x'`. " + WHO,
    responses=errors(
        {
            403: "The key's role may not send usage (marketing and sales keys)",
            413: f"More than {MAX_OBSERVATIONS:,} observations, or a body over 8 MB",
            422: "Invalid rows, each named by its index; nothing was written",
        }
    ),
)
def post_usage(
    body: UsageIn,
    _: ApiKey = Depends(require_roles(*WRITERS)),
    session: Session = Depends(get_session),
) -> UsageResult:
    """Upsert a batch of observations; answer how many were inserted, updated and unchanged."""
    if len(body.observations) > MAX_OBSERVATIONS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"observations: {len(body.observations):,} sent; send at most "
            f"{MAX_OBSERVATIONS:,} per request.",
        )
    return ingest_usage(session=session, observations=body.observations)
