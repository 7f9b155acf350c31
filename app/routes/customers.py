"""Customer events (churn, contraction, renewal), contacts and feedback in; health out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy.orm import Session

from app.deps import get_read_session, get_session, require_roles
from app.paging import PAGED, CursorParam, Limit, next_page
from app.routes.goals import errors
from app.routing import SharedPathRoute
from core.accounts.models import ApiKey
from core.base import Role
from core.customers.contacts import contact_page, upsert_contact
from core.customers.events import record_event
from core.customers.feedback import list_feedback, record_feedback
from core.customers.health import customer_health
from core.customers.queries import customer_id_for
from core.customers.schemas import (
    ContactIn,
    ContactOut,
    CustomerEventIn,
    CustomerEventOut,
    CustomerHealthOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackPage,
)
from core.paging import Cursor
from core.schemas import Offset, SingleLine

# GET and POST share .../feedback: a 405 names both in `Allow`.
router = APIRouter(prefix="/api/customers", tags=["customers"], route_class=SharedPathRoute)

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
ContactExternalId = Annotated[
    SingleLine,
    Path(
        alias="contactExternalId",
        min_length=1,
        max_length=128,
        description="The CRM's id of the contact",
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
    session: Session = Depends(get_read_session),
) -> CustomerHealthOut:
    """Return the customer's health and what it is made of."""
    customer_id = customer_id_for(session=session, ref=external_id)
    return customer_health(session=session, customer_id=customer_id)


@router.put(
    "/{externalId}/contacts/{contactExternalId}",
    response_model=ContactOut,
    summary="Create or update a contact the CRM knows",
    description="201 when created, 200 when this `contactExternalId` is already a contact of "
    "the customer (updated with the body; an omitted `title` or `primary` keeps the stored "
    "one). The email is stored lower-cased and belongs to one contact per customer. A customer "
    "has one primary contact (congratulations emails and feedback requests go to it; meeting "
    "invitations go to every contact): its first contact becomes primary, `primary: true` moves "
    "the role here, `primary: false` passes it to the longest-standing other contact. Feedback "
    "already given from this email is linked to the contact. Keys with role admin, leader or "
    "csm.",
    responses=errors(
        {
            403: "The key's role may not change contacts",
            404: "No customer has this external id",
            409: "Another contact of this customer has this email",
            422: "Invalid body (field named), e.g. 'email: must be an email address, e.g. "
            "name@company.com'",
        }
    )
    | {201: {"model": ContactOut, "description": "Created"}},
)
def put_contact(
    external_id: ExternalId,
    contact_external_id: ContactExternalId,
    body: ContactIn,
    response: Response,
    key: ApiKey = Depends(require_roles(*STAFF)),
    session: Session = Depends(get_session),
) -> ContactOut:
    """Upsert the contact the CRM calls `contactExternalId` of the customer `externalId`."""
    contact, created = upsert_contact(
        session=session,
        customer_ref=external_id,
        external_id=contact_external_id,
        body=body,
        actor=f"api:{key.name}",
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return contact


@router.get(
    "/{externalId}/contacts",
    response_model=list[ContactOut],
    summary="A customer's contacts, the primary one first",
    description="Contacts from the CRM (with their `externalId`) and those a CSM added on the "
    "customer page (`externalId` null). With `limit`, a page of them and the next page's "
    "`cursor` in the `X-Next-Cursor` header. Keys with role admin, leader or csm.",
    responses=errors(
        {
            403: "The key's role may not read contacts",
            404: "No customer has this external id",
            422: "A bad limit or cursor (field named)",
        }
    )
    | PAGED,
)
def get_contacts(
    response: Response,
    external_id: ExternalId,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(*STAFF)),
    session: Session = Depends(get_read_session),
) -> list[ContactOut]:
    """Return the customer's contacts (or a page of them)."""
    customer_id = customer_id_for(session=session, ref=external_id)
    found, following = contact_page(
        session=session, customer_id=customer_id, limit=limit, cursor=cursor
    )
    next_page(response, following)
    return found


@router.post(
    "/{externalId}/feedback",
    response_model=FeedbackOut,
    summary="Record an NPS or CSAT response",
    description="201 when recorded, 200 when this `sourceId` was recorded before (the same "
    "body changes nothing; a corrected score, comment, respondent or time updates it). NPS is "
    "scored 0-10, CSAT 1-5; `respondedAt` must not be in the future. A `respondent.email` that "
    "matches one of the customer's contacts links the response to that contact (an empty name "
    "or title is taken from it). Positive comments (NPS 9-10, CSAT 4-5, at least 30 "
    "characters) are quoted in the customer's success records. Keys with role admin, leader "
    "or csm.",
    responses=errors(
        {
            403: "The key's role may not record feedback",
            404: "No customer has this external id",
            409: "This sourceId is already recorded for another customer",
            422: "Invalid body (field named), e.g. 'kind: must be one of nps (scored 0-10), "
            "csat (scored 1-5)' or 'score: CSAT is scored from 1 to 5, not 9'",
        }
    )
    | {201: {"model": FeedbackOut, "description": "Recorded"}},
)
def post_feedback(
    external_id: ExternalId,
    body: FeedbackIn,
    response: Response,
    key: ApiKey = Depends(require_roles(*STAFF)),
    session: Session = Depends(get_session),
) -> FeedbackOut:
    """Record one survey response of the customer the source system calls `externalId`."""
    feedback, created = record_feedback(
        session=session, customer_ref=external_id, body=body, actor=f"api:{key.name}"
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return feedback


@router.get(
    "/{externalId}/feedback",
    response_model=FeedbackPage,
    summary="A customer's feedback, newest first",
    description="NPS and CSAT responses and the quotes CSMs logged from calls (`kind` quote, "
    "`source` call, no score unless the customer gave one); `quotable` says whether success "
    "records may quote it. Page with `cursor` (the previous page's `nextCursor`). Keys with "
    "role admin, leader or csm.",
    responses=errors(
        {
            403: "The key's role may not read feedback",
            404: "No customer has this external id",
            422: "The paging is invalid (e.g. limit above 200, a cursor with an offset)",
        }
    ),
)
def get_feedback(
    external_id: ExternalId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[
        Offset, Query(description="Rows to skip (slower than `cursor`; kept for older clients)")
    ] = 0,
    cursor: Annotated[Cursor | None, Query()] = None,
    _: ApiKey = Depends(require_roles(*STAFF)),
    session: Session = Depends(get_read_session),
) -> FeedbackPage:
    """Return one page of the customer's feedback."""
    customer_id = customer_id_for(session=session, ref=external_id)
    return list_feedback(
        session=session, customer_id=customer_id, limit=limit, offset=offset, cursor=cursor
    )
