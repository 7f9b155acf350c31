"""Read models of marketing candidates, the flag board and utilization."""

import uuid
from datetime import date, datetime

from pydantic import Field

from core.base import Consent
from core.goals.models import GoalType
from core.marketing.models import CandidateType, FlagStatus
from core.schemas import (
    EMAIL_LENGTH,
    NOTE_LENGTH,
    CamelModel,
    Forgiving,
    InputModel,
    MultiLine,
    SingleLine,
    accept_aliases,
)

# How marketing tools and people spell candidate types besides our values (`Forgiving[...]`).
accept_aliases(
    CandidateType,
    {
        CandidateType.CASE_STUDY: ("case", "customer story"),
        CandidateType.REFERENCE: ("reference customer", "reference call"),
        CandidateType.SOCIAL_PROOF: ("social", "social media"),
    },
)

UTILIZATION_TARGET = 0.20  # PRD: more than a fifth of documented wins end up used


class FlagInfo(CamelModel):
    """One marketing flag on a win, with the version a move must carry."""

    id: uuid.UUID
    candidate_type: CandidateType
    status: FlagStatus
    version: int
    notes: str | None = None
    status_changed_at: datetime


class _Win(CamelModel):
    reference: str
    customer_label: str
    consent_level: Consent
    goal: str


class Candidate(_Win):
    """A documented win as a marketer sees it: consent-safe, scored and explained."""

    achievement_id: uuid.UUID
    customer_name: str | None
    industry: str
    goal_type: GoalType
    summary: str
    value: str | None
    achieved_on: date
    score: int
    reasons: list[str]
    candidate_types: list[CandidateType]
    quote: str | None = Field(description="The customer's best quote, consent-scrubbed")
    quote_by: str | None = Field(description="Who said it: no name unless the customer is named")
    csm_name: str | None
    flags: list[FlagInfo]

    @property
    def open_types(self) -> list[CandidateType]:
        """Return the types this win is not flagged as yet (one flag per win and type)."""
        taken = {f.candidate_type for f in self.flags}
        return [t for t in CandidateType if t not in taken]


class CandidatePage(CamelModel):
    """The candidates shown and how many match in all."""

    total: int
    items: list[Candidate]


class BoardCard(_Win):
    """A flag on the board with the steps it may take next."""

    flag_id: uuid.UUID
    version: int
    status: FlagStatus
    candidate_type: CandidateType
    score: int | None
    notes: str | None
    status_changed_at: datetime
    next_steps: list[FlagStatus]


class FlagCount(CamelModel):
    status: FlagStatus
    candidate_type: CandidateType
    count: int


class Utilization(CamelModel):
    """How many documented wins marketing flagged and used (target: used ÷ wins > 20%)."""

    wins: int
    candidates: int
    flagged: int
    used: int
    utilization: float
    target: float = UTILIZATION_TARGET
    counts: list[FlagCount]

    def by(self, field: str) -> dict[str, int]:
        """Return flag counts by "status" or "candidate_type", in the enum's order."""
        kinds = FlagStatus if field == "status" else CandidateType
        return {k.value: sum(c.count for c in self.counts if getattr(c, field) == k) for k in kinds}


class FlagIn(InputModel):
    flagged_by: SingleLine = Field(
        min_length=3,
        max_length=EMAIL_LENGTH,
        description="Email of the active marketing/admin/leader/csm",
    )
    candidate_type: Forgiving[CandidateType]
    notes: MultiLine | None = Field(None, max_length=NOTE_LENGTH)


class FlagOut(CamelModel):
    id: uuid.UUID
    achievement_id: uuid.UUID
    goal_id: uuid.UUID
    customer_id: uuid.UUID
    candidate_type: CandidateType
    status: FlagStatus
    score: int | None
    notes: str | None
    flagged_by: str
    created_at: datetime
