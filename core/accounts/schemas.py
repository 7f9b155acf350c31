"""Read models of people."""

import uuid

from pydantic import BaseModel

from core.base import Role


class UserSummary(BaseModel):
    """A person who can sign in."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    title: str | None
