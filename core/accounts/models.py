"""People who use the app and the API keys other systems call it with."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, SmallInteger, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, Role, Timestamps, UUIDPk, enum_column, tz


class User(UUIDPk, Timestamps, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    title: Mapped[str | None] = mapped_column(String(120))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)


class ApiKey(UUIDPk, Timestamps, Base):
    """A key another system calls the API with; bound to a person, it can act only as them."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role, "api_key_role"))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    last_used_at: Mapped[datetime | None] = mapped_column(tz())
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)


class SignInPolicy(Timestamps, Base):
    """Who may sign in without being added first: one row, the admin's allowed domain and role."""

    __tablename__ = "sign_in_policy"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint(
            "(allowed_domain IS NULL) = (default_role IS NULL)", name="domain_with_role"
        ),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    allowed_domain: Mapped[str | None] = mapped_column(String(253))
    default_role: Mapped[Role | None] = mapped_column(enum_column(Role, "sign_in_default_role"))
