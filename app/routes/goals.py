"""Goals API: confirm achievements, list them, read a customer's goals, flag wins for marketing."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.deps import ANY_ROLE, get_read_session, get_session, require_roles
from core.accounts.models import ApiKey
from core.accounts.service import person
from core.base import Role
from core.documentation.prd import flagged_achievement, goal_achievements
from core.documentation.queries import (
    achievement_for_goal,
    customer_goals,
    get_achievement,
    list_achievements,
)
from core.documentation.schemas import (
    AchievementQuery,
    CustomerGoalsOut,
    FlaggedAchievement,
    GoalAchievement,
    GoalAchievementPage,
)
from core.documentation.service import confirm_win
from core.goals.queries import goal_id_for
from core.goals.schemas import AchieveIn
from core.marketing.queries import flag_out
from core.marketing.schemas import FlagIn
from core.marketing.service import flag_for_marketing
from core.schemas import SingleLine

router = APIRouter(prefix="/api/goals", tags=["goals"])

CONFIRMERS = {Role.CSM, Role.LEADER, Role.ADMIN}
AS_CONSENT_ALLOWS = (
    "Any key role may read; for a sales or marketing key, a customer whose consent does not allow "
    "naming is described (`customerName`: 'A mid-market fintech company'), its names are "
    "scrubbed from goal names and notes, and its external ids are null."
)
FLAGGERS = {Role.MARKETING, Role.ADMIN, Role.LEADER, Role.CSM}
REFERENCE_RULE = (
    "Either our UUID or the source system's external id: a value that is a UUID and matches one "
    "of our ids wins, otherwise it is looked up as an external id."
)
PRD_SHAPE = (
    "Each win answers as the PRD's GoalAchievement: `goal` {id, name, type, originalTarget, "
    "achievedResult}, `achievement` {achievedAt, timeToAchieve (whole days from the goal's "
    "start date), evidence, contributingFactors, customerQuotes}, `documentation` "
    "{summaryDocId, celebrationSent, customerNotified, marketingFlagged}, `marketingPotential` "
    "{caseStudyCandidate, testimonialCandidate, referenceCandidate, score} and `createdAt`, "
    "beside the flat fields of earlier answers."
)
GoalRef = Annotated[
    SingleLine, Path(alias="goalId", min_length=1, max_length=128, description=REFERENCE_RULE)
]
CustomerRef = Annotated[
    SingleLine,
    Path(alias="customerId", min_length=1, max_length=128, description=REFERENCE_RULE),
]


class ErrorOut(BaseModel):
    detail: str


def errors(codes: dict[int, str]) -> dict:
    """Document the error answers of an endpoint (401 always; 422 may be a list of field errors)."""
    documented = {401: "No API key, or an unknown or revoked one", **codes}
    return {
        code: {"description": text} if code == 422 else {"model": ErrorOut, "description": text}
        for code, text in sorted(documented.items())
    }


def _roles(roles: set[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


@router.post(
    "/{goalId}/achieve",
    status_code=201,
    response_model=GoalAchievement,
    summary="Confirm a goal's achievement",
    description="A person confirms the win: `verifiedBy` is the email of an active user whose "
    f"role may confirm ({_roles(CONFIRMERS)}), and the API key's role must be one of those too; "
    "a key bound to a person may name only that person. "
    "Confirms a held achievement or records a manual one, then documents it (success record, "
    f"repository entry, marketing score, Slack/Doc/email outbox) in the same transaction. "
    f"`goalId`: {REFERENCE_RULE} " + PRD_SHAPE,
    responses=errors(
        {
            403: "The key's role, or the verifier's role, may not confirm achievements, or the "
            "key is bound to another person than verifiedBy",
            404: "Unknown goal",
            409: "The goal's achievement is already confirmed",
            422: "Invalid body (missing note, naive achievedAt, …), unknown verifiedBy user, or "
            "a cancelled goal",
        }
    ),
)
def achieve(
    goal: GoalRef,
    body: AchieveIn,
    key: ApiKey = Depends(require_roles(*CONFIRMERS)),
    session: Session = Depends(get_session),
) -> GoalAchievement:
    """Confirm the goal's achievement on behalf of `verifiedBy`."""
    goal_id = goal_id_for(session=session, ref=goal)
    actor = person(
        session=session,
        email=body.verified_by,
        roles=CONFIRMERS,
        field="verifiedBy",
        action="confirm achievements",
        key=key,
    )
    achievement = confirm_win(
        session=session,
        goal_id=goal_id,
        actor=actor,
        note=body.note,
        achieved_value=body.achieved_value,
        achieved_at=body.achieved_at,
        evidence=body.evidence,
    )
    item = get_achievement(session=session, achievement_id=achievement.id, viewer=key.role)
    return goal_achievements(session=session, items=[item], viewer=key.role)[0]


@router.get(
    "/achievements",
    response_model=GoalAchievementPage,
    summary="List achievements",
    description="Newest first; page with `cursor` (the previous page's `nextCursor`; `offset` "
    "still works but is slower). Every filter given must match. `customerId` takes our UUID or the "
    "external id; `csm` is the owning CSM's email; `achievedFrom`/`achievedTo` are inclusive UTC "
    "days; `minScore` is the marketing score (0-100). " + AS_CONSENT_ALLOWS + " " + PRD_SHAPE,
    responses=errors(
        {422: "A filter or the paging is invalid (e.g. limit above 200, a cursor with an offset)"}
    ),
)
def achievements(
    query: Annotated[AchievementQuery, Query()],
    key: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> GoalAchievementPage:
    """Return one page of achievements matching the filters."""
    page = list_achievements(
        session=session,
        filters=query,
        limit=query.limit,
        offset=query.offset,
        cursor=query.cursor,
        viewer=key.role,
    )
    items = goal_achievements(session=session, items=page.items, viewer=key.role)
    return GoalAchievementPage(total=page.total, items=items, next_cursor=page.next_cursor)


@router.get(
    "/customer/{customerId}",
    response_model=CustomerGoalsOut,
    summary="A customer's goals and achievements",
    description="Each goal with its latest observed value and direction-aware progress toward "
    f"its target, plus the customer's achievements. `customerId`: {REFERENCE_RULE} "
    + AS_CONSENT_ALLOWS
    + " "
    + PRD_SHAPE,
    responses=errors({404: "Unknown customer"}),
)
def goals_of_customer(
    customer: CustomerRef,
    key: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> CustomerGoalsOut:
    """Return the customer's goals with progress, and its achievements."""
    found = customer_goals(session=session, customer_ref=customer, viewer=key.role)
    wins = goal_achievements(session=session, items=found.achievements, viewer=key.role)
    return CustomerGoalsOut(customer=found.customer, goals=found.goals, achievements=wins)


@router.post(
    "/{goalId}/marketing-flag",
    status_code=201,
    response_model=FlaggedAchievement,
    summary="Flag a goal's win for marketing",
    description="Flags the goal's confirmed achievement as a case study, testimonial, reference "
    "or social proof candidate (one flag per win and type). `flaggedBy` is the email of an active "
    f"user whose role may flag ({_roles(FLAGGERS)}); the key's role must be one of those too "
    "and a key bound to a person may name only that person. "
    f"`goalId`: {REFERENCE_RULE} " + PRD_SHAPE + " Here `id`, `status` and `notes` are the new "
    "flag's and `flaggedAt` is when it was made; `createdAt` is the achievement's.",
    responses=errors(
        {
            403: "The key's role, or the flagger's role, may not flag wins, or the key is bound "
            "to another person than flaggedBy",
            404: "Unknown goal, or the goal has no achievement yet",
            409: "The win is already flagged with this candidate type",
            422: "Invalid body (unknown candidateType, …), unknown flaggedBy user, or the "
            "achievement is not confirmed yet",
        }
    ),
)
def marketing_flag(
    goal: GoalRef,
    body: FlagIn,
    key: ApiKey = Depends(require_roles(*FLAGGERS)),
    session: Session = Depends(get_session),
) -> FlaggedAchievement:
    """Flag the goal's achievement as a marketing candidate on behalf of `flaggedBy`."""
    goal_id = goal_id_for(session=session, ref=goal)
    achievement_id = achievement_for_goal(session=session, goal_id=goal_id)
    actor = person(
        session=session,
        email=body.flagged_by,
        roles=FLAGGERS,
        field="flaggedBy",
        action="flag wins for marketing",
        key=key,
    )
    flag = flag_for_marketing(
        session=session,
        achievement_id=achievement_id,
        candidate_type=body.candidate_type,
        actor=actor,
        notes=body.notes,
    )
    item = get_achievement(session=session, achievement_id=achievement_id, viewer=key.role)
    return flagged_achievement(
        session=session,
        flag=flag_out(session=session, flag=flag, goal_id=goal_id),
        item=item,
        viewer=key.role,
    )
