"""A person recording an upsell by hand in the app: the upsell and its measurement plan at once.

The entry is the API's `POST /api/upsell` body (`ManualUpsellIn`), so the form refuses what the
API refuses, in the same words; the signed-in person is the one who records it. Where the API
leaves planning to the next sync, the app plans at once, with the code the sync job and
`ensure_plan` run (`create_plans`, then `predict`), so the person sees the plan the upsell got.
"""

import uuid

from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.schemas import UserSummary
from core.base import Role
from core.errors import Forbidden
from core.upsell.plans import create_plans
from core.upsell.prediction import predict
from core.upsell.queries import plan_id_for
from core.upsell.schemas import ManualUpsellIn
from core.upsell.sources import create_manual_upsell

WRITERS = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})


def record_manual_upsell(
    *, session: Session, entry: ManualUpsellIn, actor: User | UserSummary
) -> uuid.UUID:
    """Record the upsell (audited) and create its measurement plan; return the plan's id."""
    if actor.role not in WRITERS:
        raise Forbidden("Only CSMs, CS leaders and admins can enter upsells.")
    fields = entry.model_dump(exclude={"created_by"})
    upsell = create_manual_upsell(session=session, actor=actor, **fields)
    # Whatever this plans (other upsells still waiting too), it predicts, as the sync job does.
    predict(session=session, measurement_ids=create_plans(session=session))
    return plan_id_for(session=session, upsell=upsell)
