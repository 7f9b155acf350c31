"""Customers, their contacts, usage observations, feedback, health and timeline."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.base import (
    Amount,
    Base,
    Consent,
    Direction,
    Money,
    Score,
    Segment,
    Timestamps,
    UUIDPk,
    enum_column,
    tz,
)


class MetricKind(enum.StrEnum):
    USAGE = "usage"
    ADOPTION = "adoption"
    ROI = "roi"
    SATISFACTION = "satisfaction"
    OUTCOME = "outcome"


class FeedbackKind(enum.StrEnum):
    NPS = "nps"  # 0-10
    CSAT = "csat"  # 1-5
    QUOTE = "quote"  # words a CSM heard (say on a call), without a score


class FeedbackSource(enum.StrEnum):
    """Where a piece of feedback came from (stored as text: integrations may add their own)."""

    SURVEY = "survey"  # imported before the API existed (and the demo data)
    API = "api"  # POST /api/customers/{externalId}/feedback
    CALL = "call"  # logged by a CSM on the customer page


# The score each kind allows: NPS 0-10, CSAT 1-5, a quote none. A CHECK lets NULL through, so
# an NPS or CSAT row without a score (an unknown result) is turned into a refusal.
FEEDBACK_SCORE_RULE = (
    "coalesce((kind = 'nps' AND score BETWEEN 0 AND 10) "
    "OR (kind = 'csat' AND score BETWEEN 1 AND 5) "
    "OR (kind = 'quote' AND score IS NULL), false)"
)


class CustomerEventKind(enum.StrEnum):
    CHURN = "churn"
    CONTRACTION = "contraction"
    RENEWAL = "renewal"


class Customer(UUIDPk, Timestamps, Base):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("arr >= 0", name="arr_not_negative"),)

    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    crm_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str] = mapped_column(String(80), index=True)
    segment: Mapped[Segment] = mapped_column(enum_column(Segment, "segment"))
    region: Mapped[str] = mapped_column(String(40))
    arr: Mapped[Decimal] = mapped_column(Money)
    owner_csm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    health_score: Mapped[Decimal | None] = mapped_column(Score)
    consent_level: Mapped[Consent] = mapped_column(
        enum_column(Consent, "consent_level"), default=Consent.INTERNAL_ONLY
    )
    use_case: Mapped[str | None] = mapped_column(String(200))
    customer_since: Mapped[date | None] = mapped_column(Date)
    website: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The combined health score's write-back state (core/customers/health.py): when the app last
    # computed it (None: never, so a stored score came from outside) and how often it changed.
    health_refreshed_at: Mapped[datetime | None] = mapped_column(tz())
    health_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}


class Contact(UUIDPk, Timestamps, Base):
    """A person at the customer: email recipient, meeting invitee; one is the primary contact."""

    __tablename__ = "customer_contacts"
    __table_args__ = (
        UniqueConstraint("customer_id", "external_id"),
        UniqueConstraint("customer_id", "email"),
        # At most one primary per customer; core/customers/contacts.py keeps exactly one.
        Index(
            "ix_customer_contacts_one_primary",
            "customer_id",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    title: Mapped[str | None] = mapped_column(String(120))
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # The CRM's id of the contact (PUT .../contacts/{id}); None for contacts added on the page.
    external_id: Mapped[str | None] = mapped_column(String(128))


class Metric(Base):
    """The catalogue of metrics that observations, goals and plans refer to."""

    __tablename__ = "metrics"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(32))
    kind: Mapped[MetricKind] = mapped_column(enum_column(MetricKind, "metric_kind"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "metric_direction"))
    is_money: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    description: Mapped[str | None] = mapped_column(Text)


class Observation(Base):
    """One value of one metric for one customer at one moment; the natural key is the identity."""

    __tablename__ = "metric_observations"
    __table_args__ = (
        # "What arrived since T" for goal detection (a btree: see migration 0017).
        Index("ix_metric_observations_ingested_at", "ingested_at"),
        Index("ix_metric_observations_metric_time", "metric_key", "observed_at"),
        # Monthly partitions (migration 0021, kept ahead by core/customers/partitions.py).
        {"postgresql_partition_by": "RANGE (observed_at)"},
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    metric_key: Mapped[str] = mapped_column(ForeignKey("metrics.key"), primary_key=True)
    observed_at: Mapped[datetime] = mapped_column(tz(), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Amount)
    source: Mapped[str] = mapped_column(String(32), default="api")
    ingested_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())


class Feedback(UUIDPk, Base):
    """An NPS or CSAT response or a logged quote; its comment is where customer quotes come from."""

    __tablename__ = "customer_feedback"
    __table_args__ = (
        CheckConstraint(FEEDBACK_SCORE_RULE, name="score_range"),
        UniqueConstraint("source", "source_id"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # The contact who said it (matched by email); removing the contact keeps the feedback.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customer_contacts.id", ondelete="SET NULL")
    )
    kind: Mapped[FeedbackKind] = mapped_column(enum_column(FeedbackKind, "feedback_kind"))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    respondent_name: Mapped[str | None] = mapped_column(String(120))
    respondent_title: Mapped[str | None] = mapped_column(String(120))
    respondent_email: Mapped[str | None] = mapped_column(String(254))
    responded_at: Mapped[datetime] = mapped_column(tz())
    source: Mapped[str] = mapped_column(
        String(32), default=FeedbackSource.SURVEY.value, server_default=FeedbackSource.SURVEY.value
    )
    # The sending system's id: (source, source_id) is unique, so a repeat changes nothing.
    source_id: Mapped[str | None] = mapped_column(String(128))


class HealthFactor(UUIDPk, Base):
    """One named factor of a customer's health score, kept current."""

    __tablename__ = "health_factors"
    __table_args__ = (UniqueConstraint("customer_id", "factor"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    factor: Mapped[str] = mapped_column(String(64))
    score: Mapped[Decimal] = mapped_column(Score)
    weight: Mapped[Decimal] = mapped_column(Score, default=Decimal("1"))
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    source: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())


class TimelineEvent(UUIDPk, Base):
    """A line on the customer's activity timeline."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_customer_time", "customer_id", "occurred_at"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(tz(), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    related_type: Mapped[str | None] = mapped_column(String(48))
    related_id: Mapped[uuid.UUID | None] = mapped_column()


class CustomerEvent(UUIDPk, Timestamps, Base):
    """A churn, contraction or renewal reported by the CRM or an integration, once per source id."""

    __tablename__ = "customer_events"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_customer_events_customer_date", "customer_id", "occurred_on"),
        CheckConstraint(
            "(kind = 'renewal' AND arr_change >= 0) OR (kind <> 'renewal' AND arr_change < 0)",
            name="arr_change_sign",
        ),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[CustomerEventKind] = mapped_column(
        enum_column(CustomerEventKind, "customer_event_kind")
    )
    occurred_on: Mapped[date] = mapped_column(Date)
    arr_change: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    # What the event is about when it is narrower than the account (a contracted upsell).
    related_type: Mapped[str | None] = mapped_column(String(48))
    related_id: Mapped[uuid.UUID | None] = mapped_column()
    timeline_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="SET NULL")
    )
