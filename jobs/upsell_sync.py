"""Upsell sync: read closed upsells from Salesforce, plan every unplanned one, predict success."""

import logging

from sqlalchemy.orm import Session

from core.audit.failures import fatal, reason_for
from core.integrations.base import IntegrationError
from core.upsell.plans import create_plans, replan
from core.upsell.prediction import predict
from core.upsell.sources import sync_salesforce
from jobs.registry import job

log = logging.getLogger("jobs.upsell_sync")


@job("upsell_sync", seconds=900)
def upsell_sync(*, session: Session) -> dict:
    """Sync Salesforce upsells, amendments and lost renewals; create, re-plan and predict plans."""
    try:
        with session.begin_nested():  # a Salesforce failure must not stop manual upsells' plans
            synced = sync_salesforce(session=session)
    except IntegrationError as exc:
        log.warning("Salesforce upsell sync failed: %s", exc)
        synced = {"status": f"failed: {type(exc).__name__}: {exc}"}
    except Exception as exc:  # a bug reading Salesforce must not stop them either
        if fatal(exc):
            raise
        log.exception("Salesforce upsell sync failed")
        synced = {"status": f"failed: {reason_for(exc)}"}
    created = create_plans(session=session)
    replanned = replan(session=session)
    predicted = predict(session=session, measurement_ids=[*created, *replanned])
    details = {"salesforce": synced["status"]}
    for source in ("opportunities", "amendments", "renewals"):
        details |= {f"{source}_{k}": v for k, v in synced.get(source, {}).items()}
    return details | {
        "plans_created": len(created),
        "replanned": len(replanned),
        "predicted": predicted,
    }
