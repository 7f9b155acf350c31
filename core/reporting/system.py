"""Report database status, recent job runs, failed job items and API keys for the admin's view."""

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.accounts.models import User
from core.accounts.service import list_api_keys
from core.audit.models import JobRun
from core.customers.models import Customer
from core.goals.models import Goal
from core.outbox.models import Delivery
from core.reporting.failed_items import failed_items
from core.reporting.schemas import ApiKeyRow, DatabaseStatus, JobRunRow, SystemStatus
from core.upsell.models import Upsell

COUNTED = {
    "users": User,
    "customers": Customer,
    "goals": Goal,
    "upsells": Upsell,
    "deliveries": Delivery,
}


def database_status(*, session: Session) -> DatabaseStatus:
    """Return the server version, database name and size, schema revision and row counts."""
    info = session.execute(
        text(
            "SELECT current_database() AS name, current_setting('server_version') AS version, "
            "pg_size_pretty(pg_database_size(current_database())) AS size, "
            "to_regclass('alembic_version') IS NOT NULL AS has_alembic"
        )
    ).one()
    revision = (
        session.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
        if info.has_alembic
        else None
    )
    counts = session.execute(
        select(
            *(
                select(func.count()).select_from(model).scalar_subquery().label(name)
                for name, model in COUNTED.items()
            )
        )
    ).one()
    return DatabaseStatus(
        ok=True,
        name=info.name,
        version=info.version,
        size=info.size,
        revision=revision,
        counts=counts._asdict(),
    )


def latest_job_runs(*, session: Session, limit: int = 25) -> list[JobRunRow]:
    """Return the most recent job runs, newest first."""
    runs = session.scalars(select(JobRun).order_by(JobRun.started_at.desc()).limit(limit))
    return [JobRunRow.model_validate(r, from_attributes=True) for r in runs]


def api_keys(*, session: Session) -> list[ApiKeyRow]:
    """Return every API key without its secret, newest first."""
    return [
        ApiKeyRow.model_validate(k, from_attributes=True) for k in list_api_keys(session=session)
    ]


def system_status(*, session: Session) -> SystemStatus:
    """Return everything the system view shows."""
    return SystemStatus(
        database=database_status(session=session),
        job_runs=latest_job_runs(session=session),
        failed_items=failed_items(session=session),
        api_keys=api_keys(session=session),
    )
