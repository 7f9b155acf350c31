"""Read models of people and of API keys."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from core.base import Role


class UserSummary(BaseModel):
    """A person who can sign in."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    title: str | None


class KeyView(BaseModel):
    """An API key as its admin sees it: never the key or its hash."""

    id: uuid.UUID
    name: str
    role: Role
    prefix: str
    revoked: bool
    created_at: datetime
    last_used_at: datetime | None
    user_id: uuid.UUID | None = Field(description="The person a bound key acts as")
    user_email: str | None = Field(description="That person's email; None for an unbound key")
