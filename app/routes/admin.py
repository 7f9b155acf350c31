"""People and API keys for admins: invite, change, deactivate and reactivate users; keys.

Only admin keys get in. A change is audited as the person an admin key is bound to (who must
still be an active admin), or as `api:<key name>` for an unbound key; every entry also names the
key itself.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy.orm import Session

from app.deps import get_read_session, get_session, require_roles
from app.paging import PAGED, CursorParam, Limit, next_page
from app.routes.goals import errors
from app.routing import SharedPathRoute
from core.accounts import people
from core.accounts.models import ApiKey
from core.accounts.queries import user_page
from core.accounts.schemas import (
    Actor,
    KeyIn,
    KeyOut,
    NewKeyOut,
    UserIn,
    UserStatus,
    UserView,
)
from core.accounts.service import (
    api_key_page,
    create_api_key,
    find_active_user,
    key_view,
    revoke_api_key,
)
from core.base import Role
from core.schemas import EMAIL_LENGTH, SingleLine

# GET and POST share /api/keys: a 405 names both in `Allow`.
router = APIRouter(prefix="/api", tags=["admin"], route_class=SharedPathRoute)

ADMIN_ONLY = "Only admin keys may manage people and keys"
BOUND_NOT_ADMIN = "; or the key is bound to someone who is no longer an admin"
Email = Annotated[
    SingleLine,
    Path(
        alias="email",
        min_length=1,
        max_length=EMAIL_LENGTH,
        description="The person's email (any case; stored in lower case)",
    ),
]


def acting(key: ApiKey, session: Session) -> Actor:
    """Return who a change made with `key` is audited as."""
    if key.user_id is None:
        return Actor(label=f"api:{key.name}")
    person = find_active_user(session=session, user_id=key.user_id)
    if person is None:  # authentication refuses such a key; kept for a clear answer anyway
        return Actor(label=f"api:{key.name}", user_id=key.user_id)
    return Actor(label=person.email, user_id=person.id)


@router.get(
    "/users",
    response_model=list[UserView],
    summary="List people",
    description="Active people by default (`status`: active, inactive or all), optionally of one "
    "`role`; active ones first, then by name. With `limit`, a page of them and the next page's "
    "`cursor` in the `X-Next-Cursor` header. Admin keys only.",
    responses=errors(
        {403: ADMIN_ONLY, 422: "An unknown status or role, or a bad cursor (field named)"}
    )
    | PAGED,
)
def list_users(
    response: Response,
    status_: Annotated[UserStatus, Query(alias="status")] = "active",
    role: Annotated[Role | None, Query()] = None,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_read_session),
) -> list[UserView]:
    """Return the people admins manage."""
    views, following = user_page(
        session=session, status=status_, role=role, limit=limit, cursor=cursor
    )
    next_page(response, following)
    return views


@router.put(
    "/users/{email}",
    response_model=UserView,
    summary="Invite a person, or change one",
    description="201 when `email` is new (the person is active and can sign in), 200 when the "
    "person exists (active or not; this never reactivates). On a change, optional fields left "
    "out keep their value and empty or null ones are cleared. Send `expectedUpdatedAt` (the "
    "`updatedAt` you read) so that a change someone made meanwhile answers 409 instead of being "
    "overwritten. Taking the admin role from the last active admin is refused (409). Admin "
    "keys only.",
    responses=errors(
        {
            403: ADMIN_ONLY + BOUND_NOT_ADMIN,
            409: "Someone changed the person after expectedUpdatedAt, or the change would leave "
            "no active admin",
            422: "Invalid body or email (field named), e.g. 'slackUserId: must be a Slack member "
            "ID such as U0123ABCD …'",
        }
    )
    | {201: {"model": UserView, "description": "Invited"}},
)
def put_user(
    email: Email,
    body: UserIn,
    response: Response,
    key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> UserView:
    """Invite or update the person with `email`."""
    view, created = people.save_user(
        session=session, email=email, body=body, actor=acting(key, session)
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return view


@router.post(
    "/users/{email}/deactivate",
    response_model=UserView,
    summary="Deactivate a person",
    description="They can no longer sign in, and API keys bound to them stop working (401) "
    "until they are reactivated. Deactivating someone already deactivated changes nothing. "
    "The last active admin cannot be deactivated (409). Admin keys only.",
    responses=errors(
        {
            403: ADMIN_ONLY + BOUND_NOT_ADMIN,
            404: "Nobody has this email",
            409: "This is the last active admin",
            422: "The email is not one line of text",
        }
    ),
)
def deactivate(
    email: Email,
    key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> UserView:
    """Deactivate the person with `email`."""
    return people.deactivate_user(session=session, email=email, actor=acting(key, session))


@router.post(
    "/users/{email}/reactivate",
    response_model=UserView,
    summary="Reactivate a person",
    description="They can sign in again and their unrevoked bound API keys work again. "
    "Reactivating someone active changes nothing. Admin keys only.",
    responses=errors(
        {
            403: ADMIN_ONLY + BOUND_NOT_ADMIN,
            404: "Nobody has this email",
            422: "The email is not one line of text",
        }
    ),
)
def reactivate(
    email: Email,
    key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> UserView:
    """Reactivate the person with `email`."""
    return people.reactivate_user(session=session, email=email, actor=acting(key, session))


@router.get(
    "/keys",
    response_model=list[KeyOut],
    response_model_by_alias=True,
    summary="List API keys",
    description="Newest first, revoked ones included, with whom bound keys act as; the keys "
    "themselves are never shown again after their creation. With `limit`, a page of them and "
    "the next page's `cursor` in the `X-Next-Cursor` header. Admin keys only.",
    responses=errors({403: ADMIN_ONLY, 422: "A bad limit or cursor (field named)"}) | PAGED,
)
def keys(
    response: Response,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_read_session),
) -> list[KeyOut]:
    """List API keys and whom bound keys act as (admins only; secrets are never returned)."""
    views, following = api_key_page(session=session, limit=limit, cursor=cursor)
    next_page(response, following)
    return [KeyOut.from_view(view) for view in views]


@router.post(
    "/keys",
    status_code=201,
    response_model=NewKeyOut,
    response_model_by_alias=True,
    summary="Create an API key",
    description="Answers the new key once, in `key` (`shownOnce` is true): only its hash is "
    "stored, so copy it now. With `actsAs` the key is bound to that active person: it takes "
    "their role (a different `role` is refused), may act only as them, and stops working while "
    "they are deactivated. Without it the key is unbound and `role` defaults to admin. Admin "
    "keys only.",
    responses=errors(
        {
            403: ADMIN_ONLY + BOUND_NOT_ADMIN,
            422: "Invalid body (field named), an unknown or inactive actsAs person, or a role "
            "other than that person's",
        }
    ),
)
def create_key(
    body: KeyIn,
    key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> NewKeyOut:
    """Create a key and answer it this one time."""
    created, token = create_api_key(
        session=session,
        name=body.name,
        role=body.role,
        user_email=body.acts_as or None,
        actor=acting(key, session),
        user_field="actsAs",
    )
    shown = KeyOut.from_view(key_view(session=session, key_id=created.id))
    return NewKeyOut(**shown.model_dump(), key=token)


@router.post(
    "/keys/{keyId}/revoke",
    response_model=KeyOut,
    response_model_by_alias=True,
    summary="Revoke an API key",
    description="The key stops working at once; revoking a revoked key changes nothing. A key "
    "may revoke itself. Admin keys only.",
    responses=errors(
        {
            403: ADMIN_ONLY + BOUND_NOT_ADMIN,
            404: "No key has this id",
            422: "keyId is not a UUID",
        }
    ),
)
def revoke(
    key_id: Annotated[uuid.UUID, Path(alias="keyId")],
    key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> KeyOut:
    """Revoke the key with `keyId`."""
    revoke_api_key(session=session, key_id=key_id, actor=acting(key, session))
    return KeyOut.from_view(key_view(session=session, key_id=key_id))
