"""Value-repository entries: documented wins, searchable and reusable.

`search_text` and `search_name` are written by database triggers (migration 0019), so every
writer keeps them current: an entry written or changed, its customer renamed, its success record
written. `search_text` never holds a customer's name; search adds `search_name` only while
consent allows naming the customer (`core.repository.queries`).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    Date,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Amount, Base, Consent, Timestamps, UUIDPk, enum_column, tz
from core.goals.models import GoalType


class RepositoryEntry(UUIDPk, Timestamps, Base):
    """A documented win in the searchable value repository."""

    __tablename__ = "value_repository_entries"
    __table_args__ = (
        # Writes go straight into the text indexes (migration 0024): no pending list for every
        # search to read through.
        Index(
            "ix_value_repository_entries_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
        Index(
            "ix_value_repository_entries_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
        # Listings and a search's walk read entries newest first, the id breaking ties.
        Index("ix_value_repository_entries_newest", text("achieved_on DESC"), "id"),
    )

    achievement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("goal_achievements.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    snippet: Mapped[str] = mapped_column(Text)
    industry: Mapped[str] = mapped_column(String(80), index=True)
    use_case: Mapped[str | None] = mapped_column(String(200))
    products: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), default=list, server_default="{}"
    )
    goal_type: Mapped[GoalType] = mapped_column(enum_column(GoalType, "repository_goal_type"))
    value_amount: Mapped[Decimal | None] = mapped_column(Amount)
    value_unit: Mapped[str | None] = mapped_column(String(32))
    achieved_on: Mapped[date] = mapped_column(Date)
    consent_level: Mapped[Consent] = mapped_column(enum_column(Consent, "repository_consent"))
    usage_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(tz())
    # Title, snippet, industry and use case with every name of the customer replaced.
    search_text: Mapped[str] = mapped_column(
        TSVECTOR, server_default=FetchedValue(), server_onupdate=FetchedValue(), deferred=True
    )
    # The customer's current name (weight A), matched only while consent allows naming them.
    search_name: Mapped[str] = mapped_column(
        TSVECTOR, server_default=FetchedValue(), server_onupdate=FetchedValue(), deferred=True
    )
