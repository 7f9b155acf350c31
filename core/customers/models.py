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
    NPS = "nps"
    CSAT = "csat"


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
    __tablename__ = "customer_contacts"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    title: Mapped[str | None] = mapped_column(String(120))
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)


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
        Index("ix_metric_observations_ingested_at", "ingested_at", postgresql_using="brin"),
        Index("ix_metric_observations_metric_time", "metric_key", "observed_at"),
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
    """An NPS or CSAT response; its comment is where customer quotes come from."""

    __tablename__ = "customer_feedback"
    __table_args__ = (CheckConstraint("score >= 0 AND score <= 10", name="score_range"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer_contacts.id"))
    kind: Mapped[FeedbackKind] = mapped_column(enum_column(FeedbackKind, "feedback_kind"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    respondent_name: Mapped[str | None] = mapped_column(String(120))
    respondent_title: Mapped[str | None] = mapped_column(String(120))
    responded_at: Mapped[datetime] = mapped_column(tz())


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
