"""The API's read models of documented wins (camelCase in JSON), the PRD's GoalAchievement too."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from core.goals.models import AchievementMethod, AchievementStatus, Confidence, GoalType
from core.goals.schemas import GoalProgress
from core.marketing.models import CandidateType
from core.marketing.schemas import FlagOut
from core.paging import Cursor
from core.schemas import (
    EMAIL_LENGTH,
    ID_LENGTH,
    CamelModel,
    Day,
    Forgiving,
    JsonNumber,
    Offset,
    SingleLine,
)


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
    next_cursor: str | None = None


class AchievementFilters(CamelModel):
    """Every filter set must match; unset means any."""

    customer_id: SingleLine | None = Field(
        None, max_length=ID_LENGTH, description="Our UUID or external id"
    )
    industry: SingleLine | None = Field(None, max_length=80)
    goal_type: Forgiving[GoalType] | None = None
    status: Forgiving[AchievementStatus] | None = None
    method: Forgiving[AchievementMethod] | None = None
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
    offset: Offset = Field(
        0, description="Rows to skip (slower than `cursor`; kept for older clients)"
    )
    cursor: Cursor | None = None


class CustomerRef(CamelModel):
    id: uuid.UUID
    external_id: str | None
    name: str


class CustomerGoals(CamelModel):
    customer: CustomerRef
    goals: list[GoalProgress]
    achievements: list[AchievementOut]


# The PRD's GoalAchievement: nested parts beside the flat fields above (kept for existing clients).


class PrdGoal(CamelModel):
    """The goal the win reached."""

    id: uuid.UUID
    name: str
    type: GoalType
    original_target: JsonNumber | None = Field(
        description="The target when the win was recorded, in the goal's terms (a multiple of "
        "the cost for ROI goals measured that way); null for goals without a number"
    )
    achieved_result: JsonNumber | None = Field(
        description="The value reached, in the target's terms; null for a milestone or a "
        "confirmation without a number"
    )
    unit: str | None
    result_text: str | None = Field(description="The result in words, as the record states it")


class CustomerQuote(CamelModel):
    """A customer's words the success record quotes, as the caller may see them."""

    text: str
    name: str | None = Field(description="Who said it; null unless consent allows the name")
    title: str | None = Field(description="Their job title")
    kind: str = Field(description="nps or csat: the survey it came from; quote: a CSM logged it")
    score: int | None = Field(description="The survey score; null for a logged quote")
    by: str = Field(description="Who said it in words: 'Dana Ortiz, VP Support' or 'VP Support'")


class AchievementFacts(CamelModel):
    """When and how the goal was achieved, and what the success record says about it."""

    achieved_at: datetime
    time_to_achieve: int = Field(
        description="Whole days from the goal's start date to the UTC day it was achieved "
        "(0 when achieved on or before its start day)"
    )
    evidence: dict[str, Any] = Field(
        description="The verification evidence the record was written from (the rule, the "
        "observations, the baseline's source, a confirmer's note)"
    )
    contributing_factors: list[str] = Field(
        description="What helped, derived from the period's data; empty until documented"
    )
    customer_quotes: list[CustomerQuote] = Field(
        description="The customer's best quotes at the time; empty when consent keeps them back"
    )


class DocumentationState(CamelModel):
    """What has been done with the win so far."""

    summary_doc_id: str | None = Field(
        description="The Google Doc's Drive file id once the success record's Doc was written; "
        "null before that, or when the caller may not read the record as written"
    )
    summary_doc_url: str | None = Field(description="The Google Doc's address")
    celebration_sent: bool = Field(description="The Slack announcement was delivered")
    customer_notified: bool = Field(description="The congratulations email was sent")
    marketing_flagged: bool = Field(description="Flagged for marketing at least once")
    marketing_flags: list[CandidateType] = Field(description="The candidate types flagged")


class MarketingPotential(CamelModel):
    """The marketing score and the candidate types it suggests."""

    case_study_candidate: bool
    testimonial_candidate: bool
    reference_candidate: bool
    social_proof_candidate: bool
    score: int | None = Field(description="0-100; null until scored")


class GoalAchievementParts(CamelModel):
    """The PRD's GoalAchievement fields."""

    goal: PrdGoal
    achievement: AchievementFacts
    documentation: DocumentationState
    marketing_potential: MarketingPotential
    created_at: datetime = Field(description="When the achievement was recorded")


class GoalAchievement(AchievementOut, GoalAchievementParts):
    """The PRD's GoalAchievement, with the flat fields of earlier answers as extras."""


class GoalAchievementPage(CamelModel):
    total: int
    items: list[GoalAchievement]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


class CustomerGoalsOut(CustomerGoals):
    """A customer's goals with progress, and its achievements as the PRD's GoalAchievement."""

    achievements: list[GoalAchievement]


class FlaggedAchievement(FlagOut, GoalAchievementParts):
    """A new marketing flag (its flat fields) on the win it flags, as the PRD's GoalAchievement."""

    created_at: datetime = Field(description="When the achievement was recorded (the PRD's)")
    flagged_at: datetime = Field(description="When this flag was made")
