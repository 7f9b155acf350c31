"""The job registry: decorated functions that own their session and record each run."""

import importlib
import logging
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from core.audit.models import JobRun
from core.db import get_engine, session_scope
from core.schemas import json_ready

log = logging.getLogger("jobs")

JobFunc = Callable[..., dict | None]


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


NOT_JOBS = {"registry", "scheduler", "__main__"}


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


def _run_locked(entry: Job) -> JobRun:
    with session_scope() as session:
        run = JobRun(job_name=entry.name, status="running")
        session.add(run)
    try:
        with session_scope() as session:
            details = entry.func(session=session) or {}
        status, error = "ok", None
    except Exception as exc:  # one failing job must not stop the scheduler
        log.exception("job %s failed", entry.name)
        details, status = {}, "failed"
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    with session_scope() as session:
        run = session.merge(run)
        run.finished_at = datetime.now(UTC)
        run.status, run.details, run.error = status, json_ready(details), error
        if entry.quiet and status == "ok" and not details:
            session.delete(run)  # an idle poll (e.g. an empty outbox) is not worth a row
    return run
