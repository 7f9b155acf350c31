"""The job registry: decorated functions that own their session and record each run.

A run holds a lease (`job_runs.lease_until`) that a thread of its process renews while it runs;
a run whose lease lapsed (its process was killed or cut off) is closed as "abandoned" by the next
run of any job, instead of staying "running" forever.
"""

import importlib
import logging
import pkgutil
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, text, update
from sqlalchemy.orm import Session

from core.audit.failures import running
from core.audit.models import JobRun
from core.db import get_engine, session_scope
from core.schemas import json_ready

log = logging.getLogger("jobs")

JobFunc = Callable[..., dict | None]

RUN_LEASE_SECONDS = 60  # renewed every third of it; a run not renewed this long is abandoned
ABANDONED = (
    "The jobs process stopped before this run finished (killed or cut off); what it had not "
    "committed was rolled back and a later run takes the work up again."
)


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    seconds: int
    description: str
    exclusive: bool = True
    first_delay: int = 0  # seconds after start-up before the first run
    quiet: bool = False  # do not keep runs that did nothing


JOBS: dict[str, Job] = {}


def job(
    name: str,
    *,
    seconds: int,
    description: str = "",
    exclusive: bool = True,
    first_delay: int = 0,
    quiet: bool = False,
) -> Callable[[JobFunc], JobFunc]:
    """Register `func(*, session) -> dict | None` to run every `seconds`.

    Exclusive jobs run in one process at a time; others (the outbox) may run in every replica
    because they claim their rows with SKIP LOCKED.
    """

    def register(func: JobFunc) -> JobFunc:
        doc = description or (func.__doc__ or "").strip().splitlines()[0]
        JOBS[name] = Job(name, func, seconds, doc, exclusive, first_delay, quiet)
        return func

    return register


NOT_JOBS = {"registry", "scheduler", "memory", "__main__"}


def load_all() -> dict[str, Job]:
    """Import every module of the jobs package, so no job family can be left out."""
    package = Path(__file__).parent
    for module in pkgutil.iter_modules([str(package)]):
        if module.name not in NOT_JOBS:
            importlib.import_module(f"jobs.{module.name}")
    return JOBS


def run_job(name: str) -> JobRun | None:
    """Run one job now unless another process is running it; return its run record."""
    entry = JOBS[name]
    if not entry.exclusive:
        return _run_locked(entry)
    with get_engine().connect() as lock_conn:
        # A session-level advisory lock keeps replicas from running the same job at once.
        got = lock_conn.scalar(
            text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": _lock(name)}
        )
        if not got:
            log.info("job %s is running elsewhere; skipped", name)
            return None
        try:
            return _run_locked(entry)
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": _lock(name)})
            lock_conn.commit()


def _lock(name: str) -> str:
    return f"outcomes-job:{name}"


def close_abandoned(*, session: Session) -> int:
    """Close as "abandoned" the runs whose lease lapsed; return how many."""
    return session.execute(
        update(JobRun)
        .where(JobRun.status == "running", JobRun.lease_until < func.now())
        .values(status="abandoned", finished_at=func.now(), error=ABANDONED)
        .execution_options(synchronize_session=False)
    ).rowcount


class _Lease:
    """Renew a running job's lease from a background thread until stopped."""

    def __init__(self, run_id: uuid.UUID, seconds: float) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, args=(run_id, seconds), name=f"lease-{run_id}", daemon=True
        )
        self._thread.start()

    def _renew(self, run_id: uuid.UUID, seconds: float) -> None:
        while not self._stopped.wait(seconds / 3):
            try:
                with get_engine().begin() as conn:
                    conn.execute(
                        update(JobRun)
                        .where(JobRun.id == run_id, JobRun.status == "running")
                        .values(lease_until=func.now() + timedelta(seconds=seconds))
                    )
            except Exception:  # the next renewal may work; the run's own result is what counts
                log.warning("could not renew the lease of job run %s", run_id, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()


def _run_locked(entry: Job) -> JobRun:
    lease_seconds = RUN_LEASE_SECONDS
    with session_scope() as session:
        close_abandoned(session=session)
        run = JobRun(
            job_name=entry.name,
            status="running",
            lease_until=func.now() + timedelta(seconds=lease_seconds),
        )
        session.add(run)
        session.flush()
        session.refresh(run)
    lease = _Lease(run.id, lease_seconds)
    try:
        with running(entry.name) as items, session_scope() as session:
            details = entry.func(session=session) or {}
        if items.items_failed:  # the rest of the batch went on; the System page lists them
            details = {**details, "items_failed": items.items_failed}
        status, error = "ok", None
    except Exception as exc:  # one failing job must not stop the scheduler
        log.exception("job %s failed", entry.name)
        details, status = {}, "failed"
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    finally:
        lease.stop()
    with session_scope() as session:
        run = session.merge(run)
        run.finished_at = datetime.now(UTC)
        run.status, run.details, run.error = status, json_ready(details), error
        if entry.quiet and status == "ok" and not details:
            session.delete(run)  # an idle poll (e.g. an empty outbox) is not worth a row
    return run
