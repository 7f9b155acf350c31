"""A customer's value pack for QBRs and renewals: download it, or have it made a Google Doc."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app.deps import ANY_ROLE, get_read_session, get_session, require_roles
from app.routes.customers import ExternalId
from app.routes.goals import errors
from app.routing import SharedPathRoute
from core.accounts.models import ApiKey
from core.customers.queries import customer_id_for
from core.reporting import value_pack_pdf, value_pack_render
from core.reporting.value_pack import build_value_pack
from core.reporting.value_pack_schemas import (
    PackAudience,
    PackFormat,
    PackRequestIn,
    PackRequestOut,
)
from core.reporting.value_pack_service import request_google_doc
from core.schemas import Forgiving

# GET and POST share the path: a 405 names both in `Allow`.
router = APIRouter(prefix="/api/customers", tags=["value pack"], route_class=SharedPathRoute)

MEDIA = {
    PackFormat.MARKDOWN: ("text/markdown; charset=utf-8", "md"),
    PackFormat.HTML: ("text/html; charset=utf-8", "html"),
    PackFormat.PDF: ("application/pdf", "pdf"),
}
CONSENT = (
    "`internal` (keys with role admin, leader or csm) names everything; `customer`, the pack to "
    "share, follows the value repository's consent rules: a customer without naming consent is "
    "described ('A mid-market logistics company') and never named. Sales and marketing keys get "
    "the pack to share only."
)


@router.get(
    "/{externalId}/value-pack",
    summary="Download a customer's value pack (Markdown, HTML or PDF)",
    description="Verified wins with their before (baseline) and after figures, returns, and "
    "each expansion's outcome, every figure measured from its baseline in the better direction "
    "(a lower-is-better metric improves when it falls); a figure without a baseline says so. "
    f"{CONSENT} Reading does not count as a use of the wins; asking for the Google Doc does.",
    response_class=Response,
    responses=errors(
        {
            403: "An internal pack asked for with a sales or marketing key",
            404: "No customer has this external id",
            422: "Unknown format or audience",
        }
    )
    | {
        200: {
            "description": "The pack as a file (Content-Disposition: attachment)",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def download(
    external_id: ExternalId,
    file_format: Annotated[
        Forgiving[PackFormat], Query(alias="format", description="markdown, html or pdf")
    ] = (PackFormat.MARKDOWN),
    audience: Annotated[
        Forgiving[PackAudience], Query(description="internal, or customer (to share)")
    ] = PackAudience.CUSTOMER,
    key: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> Response:
    """Return the customer's value pack as a file."""
    customer_id = customer_id_for(session=session, ref=external_id)
    pack = build_value_pack(
        session=session, customer_id=customer_id, viewer=key.role, audience=audience
    )
    media, suffix = MEDIA[PackFormat(file_format)]
    body: str | bytes
    if file_format == PackFormat.PDF:
        body = value_pack_pdf.pdf(pack)
    elif file_format == PackFormat.HTML:
        body = value_pack_render.html(pack)
    else:
        body = value_pack_render.markdown(pack)
    name = f"value-pack-{pack.prepared_on.isoformat()}-{pack.audience.value}.{suffix}"
    return Response(
        content=body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/{externalId}/value-pack",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PackRequestOut,
    response_model_by_alias=True,
    summary="Have a customer's value pack made a Google Doc",
    description="Queues today's pack as a Google Doc through the outbox (delivered within a "
    "minute once Google is set up) and records the use of its wins in the value repository, as "
    "the key's name (and the person a bound key acts as). Once per customer, day and audience: "
    f"asking again answers the same delivery with `queued` false and counts nothing again. "
    f"{CONSENT}",
    responses=errors(
        {
            403: "An internal pack asked for with a sales or marketing key",
            404: "No customer has this external id",
            422: "Invalid body (field named)",
        }
    ),
)
def create_doc(
    external_id: ExternalId,
    body: Annotated[PackRequestIn, Body()] = PackRequestIn(),
    key: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_session),
) -> PackRequestOut:
    """Queue the customer's value pack as a Google Doc and record the use of its wins."""
    customer_id = customer_id_for(session=session, ref=external_id)
    return request_google_doc(
        session=session,
        customer_id=customer_id,
        viewer=key.role,
        audience=body.audience,
        purpose=body.purpose,
        actor=f"api:{key.name}",
        actor_user_id=key.user_id,
    )
