"""Customer events (churn, contraction, renewal) in; a customer's health with its factors out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from sqlalchemy.orm import Session

from app.deps import get_session, require_roles
from app.routes.goals import errors
from core.accounts.models import ApiKey
from core.base import Role
from core.customers.events import record_event
from core.customers.health import customer_health
from core.customers.queries import customer_id_for
from core.customers.schemas import CustomerEventIn, CustomerEventOut, CustomerHealthOut
from core.schemas import SingleLine

router = APIRouter(prefix="/api/customers", tags=["customers"])

# CRM hooks and integrations use an admin key; CS staff may too (as for the other customer routes).
STAFF = (Role.ADMIN, Role.LEADER, Role.CSM)
ExternalId = Annotated[
    SingleLine,
    Path(
        alias="externalId",
        min_length=1,
        max_length=128,
        description="The source system's id of the customer (our UUID works too)",
    ),
]


@router.post(
    "/{externalId}/events",
    response_model=CustomerEventOut,
    summary="Record a churn, contraction or renewal",
    description="201 when recorded, 200 when this `sourceId` was recorded before (the same body "
    "changes nothing; a corrected date, ARR change or note updates the event and its timeline "
    "line). `arrChange` is negative for churn (the ARR lost) and contraction (the ARR given "
    "back), zero or more for a renewal (the uplift). Churn and contraction count against "
    "expansions closed in the 12 months before them (the outcomes report's churn on expansion) "
    "and fail the plans they fall in. Keys with role admin, leader or csm.",
    responses=errors(
        {
            403: "The key's role may not record customer events",
            404: "No customer has this external id",
            409: "This sourceId is already recorded for another customer",
            422: "Invalid body (field named), e.g. 'kind: must be one of churn, contraction, "
            "renewal' or 'arrChange: must be negative for churn'",
        }
    )
    | {201: {"model": CustomerEventOut, "description": "Recorded"}},
)
def post_event(
    external_id: ExternalId,
    body: CustomerEventIn,
    response: Response,
    key: ApiKey = Depends(require_roles(*STAFF)),
    session: Session = Depends(get_session),
) -> CustomerEventOut:
    """Record one event of the customer the source system calls `externalId`."""
    event, created = record_event(
        session=session, customer_ref=external_id, body=body, actor=f"api:{key.name}"
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return event


@router.get(
    "/{externalId}/health",
    response_model=CustomerHealthOut,
    summary="A customer's health score with its factors, weights and sources",
    description="The score is the weighted mean of the factors present: goal attainment, "
    "upsell realization and adoption (weight 1 each) and the CRM's own health score (weight "
    "2). Each factor says its weight, its share of the score and which part of the system "
    "wrote it. Keys with role admin, leader or csm.",
    responses=errors(
        {
            403: "The key's role may not read customer health",
            404: "No customer has this external id",
        }
    ),
)
def get_health(
    external_id: ExternalId,
    _: ApiKey = Depends(require_roles(*STAFF)),
    session: Session = Depends(get_session),
) -> CustomerHealthOut:
    """Return the customer's health and what it is made of."""
    customer_id = customer_id_for(session=session, ref=external_id)
    return customer_health(session=session, customer_id=customer_id)
