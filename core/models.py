"""Import every table so metadata (Alembic, tests) sees the whole schema."""

from core.accounts.models import ApiKey, User
from core.audit.models import AuditEntry, JobItemFailure, JobRun, Watermark
from core.base import Base
from core.customers.models import (
    Contact,
    Customer,
    Feedback,
    HealthFactor,
    Metric,
    Observation,
    TimelineEvent,
)
from core.drafts.models import Draft, MessageTemplate
from core.goals.models import Achievement, Goal, Milestone, SuccessPlan
from core.marketing.models import MarketingFlag
from core.outbox.models import Delivery
from core.records.models import SuccessRecord
from core.reporting.models import GoalFirstReach
from core.repository.models import RepositoryEntry
from core.upsell.models import (
    Checkpoint,
    IndustryBenchmark,
    Measurement,
    MeasurementMetric,
    Outcome,
    Product,
    Review,
    SuccessTemplate,
    Upsell,
    UpsellProduct,
)

__all__ = [
    "Achievement",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Checkpoint",
    "Contact",
    "Customer",
    "Delivery",
    "Draft",
    "Feedback",
    "Goal",
    "GoalFirstReach",
    "HealthFactor",
    "IndustryBenchmark",
    "JobItemFailure",
    "JobRun",
    "MarketingFlag",
    "Measurement",
    "MeasurementMetric",
    "MessageTemplate",
    "Metric",
    "Milestone",
    "Observation",
    "Outcome",
    "Product",
    "RepositoryEntry",
    "Review",
    "SuccessPlan",
    "SuccessRecord",
    "SuccessTemplate",
    "TimelineEvent",
    "Upsell",
    "UpsellProduct",
    "User",
    "Watermark",
]
