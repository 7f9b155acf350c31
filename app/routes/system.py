"""Who am I, and key management for admins."""

from datetime import datetime

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.deps import ANY_ROLE, get_session, require_roles
from core.accounts.models import ApiKey
from core.accounts.service import list_api_keys
from core.base import Role
from core.schemas import CamelModel

router = APIRouter(prefix="/api", tags=["system"])


class KeyOut(CamelModel):
    name: str
    role: Role
    prefix: str
    revoked: bool
    created_at: datetime
    last_used_at: datetime | None = None


@router.get("/me", response_model=KeyOut, response_model_by_alias=True)
def me(key: ApiKey = Depends(require_roles(*ANY_ROLE))) -> ApiKey:
    """Describe the key making the call."""
    return key


@router.get("/keys", response_model=list[KeyOut], response_model_by_alias=True)
def keys(
    _: ApiKey = Depends(require_roles(Role.ADMIN)), session: Session = Depends(get_session)
) -> list[ApiKey]:
    """List API keys (admins only; secrets are never returned)."""
    return list_api_keys(session=session)
