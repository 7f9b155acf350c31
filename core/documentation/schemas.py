"""The API's read models of documented wins (camelCase in JSON)."""

import uuid
from datetime import datetime

from pydantic import ConfigDict, Field, model_validator

from core.goals.models import AchievementMethod, AchievementStatus, Confidence, GoalType
from core.goals.schemas import GoalProgress
from core.schemas import EMAIL_LENGTH, ID_LENGTH, CamelModel, Day, JsonNumber, Offset, SingleLine


class AchievementOut(CamelModel):
    """One achievement with its goal, customer, verification and marketing score."""

    id: uuid.UUID
    goal_id: uuid.UUID
    goal_external_id: str | None
    goal_name: str
    goal_type: GoalType
    metric: str | None
    customer_id: uuid.UUID
    customer_external_id: str | None
    customer_name: str
    industry: str
    status: AchievementStatus
    method: AchievementMethod
    achieved_at: datetime
    baseline_value: JsonNumber | None
    achieved_value: JsonNumber | None
    target_value: JsonNumber | None
    confidence: Confidence
    verified_by: str | None = Field(description="Email of the person who confirmed it")
    note: str | None
    marketing_score: int | None
    marketing_candidates: list[str]
    success_record_id: uuid.UUID | None


class AchievementPage(CamelModel):
    total: int
    items: list[AchievementOut]


class AchievementFilters(CamelModel):
    """Every filter set must match; unset means any."""

    customer_id: SingleLine | None = Field(
        None, max_length=ID_LENGTH, description="Our UUID or external id"
    )
    industry: SingleLine | None = Field(None, max_length=80)
    goal_type: GoalType | None = None
    status: AchievementStatus | None = None
    method: AchievementMethod | None = None
    achieved_from: Day | None = Field(None, description="On or after this UTC day")
    achieved_to: Day | None = Field(None, description="On or before this UTC day")
    min_score: int | None = Field(None, ge=0, le=100, description="Marketing score at least")
    csm: SingleLine | None = Field(
        None, max_length=EMAIL_LENGTH, description="Email of the owning CSM"
    )

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.achieved_from and self.achieved_to and self.achieved_to < self.achieved_from:
            raise ValueError("achievedTo must not be before achievedFrom")
        return self


class AchievementQuery(AchievementFilters):
    """The filters plus paging, as query parameters."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class CustomerRef(CamelModel):
    id: uuid.UUID
    external_id: str | None
    name: str


class CustomerGoals(CamelModel):
    customer: CustomerRef
    goals: list[GoalProgress]
    achievements: list[AchievementOut]
