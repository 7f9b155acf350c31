"""The long-running scheduler: every registered job on its interval, until stopped."""

import logging
import signal
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler

from jobs.registry import load_all, run_job

log = logging.getLogger("jobs")


def serve() -> None:
    """Run every job on its interval (and once at start) until SIGINT/SIGTERM."""
    jobs = load_all()
    scheduler = BlockingScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
    )
    for entry in jobs.values():
        scheduler.add_job(
            run_job,
            "interval",
            seconds=entry.seconds,
            args=[entry.name],
            id=entry.name,
            next_run_time=_now() + timedelta(seconds=entry.first_delay),
        )

    def stop(signum, _frame):
        log.info("stopping the scheduler (signal %s)", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started with %d jobs: %s", len(jobs), ", ".join(jobs))
    scheduler.start()


def _now() -> datetime:
    return datetime.now(UTC)
