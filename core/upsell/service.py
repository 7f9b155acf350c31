"""Use-cases callers call: make sure an upsell has its measurement plan, as asked for."""

from sqlalchemy.orm import Session

from core.errors import Conflict
from core.upsell.models import Measurement, Upsell
from core.upsell.plans import create_plans, criteria_changes, customize_plan
from core.upsell.prediction import predict
from core.upsell.queries import existing_plan_id, plan_id_for, success_measurement
from core.upsell.schemas import CriteriaIn, SuccessMeasurement


def ensure_plan(
    *, session: Session, upsell: Upsell, actor, criteria: CriteriaIn | None = None
) -> tuple[SuccessMeasurement, bool]:
    """Return the upsell's plan and whether it was created now; Conflict if it differs.

    Without a plan, creates one from the product templates (planning and predicting any other
    upsell still waiting too, as the sync job would) and gives it `criteria` when asked. With
    one, returns it when it matches `criteria` (or none is asked for), else raises Conflict: an
    existing plan is changed in the app, not by asking again.
    """
    plan_id = existing_plan_id(session=session, upsell=upsell)
    created = plan_id is None
    if created:
        # Whatever this plans, it predicts too: the sync job only predicts plans it created.
        predict(session=session, measurement_ids=create_plans(session=session))
        plan_id = plan_id_for(session=session, upsell=upsell)
    view = success_measurement(session=session, measurement_id=plan_id)
    if criteria is None:
        return view, created
    wanted = [c.model_dump(exclude_none=True) for c in criteria.metrics]
    changes = criteria_changes(view.success_criteria.metrics, wanted)
    days = criteria.checkpoint_days
    if days == view.success_criteria.checkpoint_days:
        days = None
    if not (changes or days):
        return view, created
    if not created:
        raise Conflict(
            f"Upsell '{upsell.opportunity_id}' already has a measurement plan with "
            "different criteria; change it in the app."
        )
    customize_plan(
        session=session,
        measurement_id=plan_id,
        metrics=changes,
        actor=actor,
        expected_version=session.get(Measurement, plan_id).version,
        checkpoint_days=days,
    )
    return success_measurement(session=session, measurement_id=plan_id), created
