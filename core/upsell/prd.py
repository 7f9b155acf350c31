"""The parts of the PRD's UpsellSuccessMeasurement that only the API's answer carries.

`core.upsell.queries.as_success_measurement` puts them beside the criteria, progress and reviews
it already shapes: the stated goals and industry benchmarks of the success criteria, the
measurement plan (tracking start, checkpoints as the PRD names them, the plan's page in the UI),
when progress last changed, and the outcome's evidence and lessons learned.
"""

from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.customers.models import Customer
from core.settings import get_settings
from core.upsell.models import (
    Checkpoint,
    IndustryBenchmark,
    Measurement,
    MeasurementMetric,
    Outcome,
    Review,
    Upsell,
)
from core.upsell.reviews import checkpoint_title
from core.upsell.schemas import CriterionBenchmark, MeasurementPlan, OutcomeOut, PlanCheckpointOut
from core.upsell.targets import criteria_sentences

# The Upsell progress page (`pages/upsells.py`, url path "upsells" in components/navigation.py)
# opens the plan named by its `plan` query parameter.
PLAN_PAGE = "upsells"
PLAN_PARAM = "plan"


def dashboard_url(measurement_id) -> str:
    """Return the address of the plan's page in the web UI."""
    base = get_settings().app_base_url.rstrip("/")
    return f"{base}/{PLAN_PAGE}?{urlencode({PLAN_PARAM: str(measurement_id)})}"


def stated_goals(upsell: Upsell) -> list[str]:
    """Return the success criteria the deal stated, a sentence each, as the plan read them."""
    return criteria_sentences(upsell.stated_criteria)


def benchmarks(
    *, session: Session, customer: Customer, metrics: list[MeasurementMetric]
) -> list[CriterionBenchmark]:
    """Return the industry benchmarks of the criteria's metrics for the customer's peer group."""
    by_key = {m.metric_key: m for m in metrics if m.metric_key}
    if not by_key:
        return []
    rows = session.scalars(
        select(IndustryBenchmark)
        .where(
            func.lower(IndustryBenchmark.industry) == customer.industry.lower(),
            IndustryBenchmark.segment == customer.segment,
            IndustryBenchmark.metric_key.in_(by_key),
        )
        .order_by(IndustryBenchmark.metric_key)
    )
    return [
        CriterionBenchmark(
            criterion=by_key[b.metric_key].name,
            metric_key=b.metric_key,
            industry=b.industry,
            segment=b.segment,
            median=b.median,
            top_quartile=b.top_quartile,
            unit=by_key[b.metric_key].unit,
        )
        for b in rows
    ]


def measurement_plan(
    plan: Measurement, checkpoints: list[Checkpoint], reviews: list[Review]
) -> MeasurementPlan:
    """Return the plan's tracking start, its checkpoints as the PRD names them and its page."""
    reviewed: dict = {}
    for review in sorted(reviews, key=lambda r: r.reviewed_at):
        reviewed.setdefault(review.checkpoint_id, review.reviewed_at.date())
    return MeasurementPlan(
        tracking_start=plan.started_on,
        checkpoints=[
            PlanCheckpointOut(
                day=c.day,
                type=c.kind,
                title=checkpoint_title(c.day),
                status=c.status,
                scheduled_date=c.due_on,
                completed_date=reviewed.get(c.id),
            )
            for c in checkpoints
        ],
        dashboard_url=dashboard_url(plan.id),
    )


def last_updated(plan: Measurement, metrics: list[MeasurementMetric]) -> datetime | None:
    """Return when the criteria's values or progress last changed (else the plan's last change)."""
    return max((m.updated_at for m in metrics), default=plan.updated_at)


def outcome_out(outcome: Outcome | None, reviews: list[Review]) -> OutcomeOut | None:
    """Return the outcome with its evidence and what people wrote when deciding it."""
    if outcome is None:
        return None
    evidence = [str(x) for x in outcome.proposed_reasons]
    last = max(reviews, key=lambda r: r.reviewed_at, default=None)
    lessons = [outcome.override_reason, *((last.findings, last.next_steps) if last else ())]
    return OutcomeOut(
        status=outcome.status,
        evidence=evidence,
        lessons_learned=[text for text in lessons if text and text.strip()],
        documented_at=outcome.decided_at or outcome.created_at,
        proposed_status=outcome.proposed_status,
        reasons=evidence,
    )
