"""Read models of people and of API keys, and what admins send to set them up."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from core.base import Role
from core.schemas import EMAIL_LENGTH, CamelModel, Forgiving, InputModel, SingleLine

# The columns' sizes (users.name, users.title, users.slack_user_id, api_keys.name).
USER_NAME_LENGTH = 120
TITLE_LENGTH = 120
SLACK_ID_LENGTH = 32
KEY_NAME_LENGTH = 120
SLACK_ID_RULE = (
    "A Slack member ID such as U0123ABCD (in Slack: the person's profile, ⋮, Copy member ID)"
)


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
    user_active: bool | None = Field(None, description="Whether that person is active")


class Actor(BaseModel):
    """Who makes a change, as the audit log names them: a person's email (with their id), or
    `api:<key name>` for an unbound key, or `cli:<login>` for the command line."""

    label: str
    user_id: uuid.UUID | None = None


UserStatus = Literal["active", "inactive", "all"]


class UserIn(InputModel):
    """A person as an admin sets them up; on an update, omitted optional fields keep their value."""

    name: SingleLine = Field(min_length=1, max_length=USER_NAME_LENGTH)
    role: Forgiving[Role]
    title: SingleLine | None = Field(
        None, max_length=TITLE_LENGTH, description="Job title; empty or null clears it"
    )
    slack_user_id: SingleLine | None = Field(
        None, max_length=SLACK_ID_LENGTH, description=f"{SLACK_ID_RULE}; empty or null clears it"
    )
    expected_updated_at: AwareDatetime | None = Field(
        None,
        description="The person's `updatedAt` as you read it. When given and someone changed "
        "the person since, nothing is saved and the answer is 409; leave it out to overwrite.",
    )


class UserView(CamelModel):
    """A person as the admin pages and `GET /api/users` show them."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    title: str | None
    slack_user_id: str | None
    active: bool = Field(description="Only active people sign in; their bound API keys work")
    bound_keys: int = Field(description="Unrevoked API keys bound to this person")
    created_at: datetime
    updated_at: datetime = Field(description="Send it back as `expectedUpdatedAt` to guard an edit")


class KeyOut(CamelModel):
    """An API key as the API shows it: never the key itself or its hash."""

    id: uuid.UUID
    name: str
    role: Role
    prefix: str = Field(description="The key's first characters, to recognise it")
    revoked: bool
    created_at: datetime
    last_used_at: datetime | None = Field(
        None, description="Noted at most once a minute, so up to a minute behind"
    )
    acts_as: str | None = Field(
        None, description="Email of the person a bound key acts as; null for an unbound key"
    )

    @classmethod
    def from_view(cls, view: KeyView) -> "KeyOut":
        """Return the API's shape of a key."""
        return cls.model_validate(view.model_dump() | {"acts_as": view.user_email})


class KeyIn(InputModel):
    """A new API key: its name, and either a role or the person it acts as."""

    name: SingleLine = Field(
        min_length=1, max_length=KEY_NAME_LENGTH, description="The system that will use it"
    )
    role: Forgiving[Role] | None = Field(
        None, description="admin when left out; a bound key takes its person's role"
    )
    acts_as: SingleLine | None = Field(
        None,
        max_length=EMAIL_LENGTH,
        description="Email of an active person: the key then acts only as them",
    )


class NewKeyOut(KeyOut):
    """A key just created, with the key itself: shown this once, never stored or shown again."""

    key: str = Field(description="The API key to send as `Authorization: Bearer <key>`")
    shown_once: Literal[True] = Field(
        True, description="Copy `key` now: only its hash is stored, so it cannot be shown again"
    )
