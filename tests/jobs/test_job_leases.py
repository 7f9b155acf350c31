"""Job runs hold a lease their process renews; a run whose process died is closed as abandoned."""

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.audit.models import JobRun
from core.db import session_scope
from jobs import registry
from tests.pg import ROOT


def _runs():
    with session_scope() as session:
        return {r.job_name: r for r in session.scalars(select(JobRun))}


def _register(monkeypatch, name, func):
    monkeypatch.setitem(registry.JOBS, name, registry.Job(name, func, 60, name))


def test_a_run_whose_lease_lapsed_is_closed_as_abandoned(scratch_db, monkeypatch):
    now = datetime.now(UTC)
    with session_scope() as session:
        session.add(JobRun(job_name="killed", status="running", lease_until=now - timedelta(1)))
        session.add(JobRun(job_name="alive", status="running", lease_until=now + timedelta(1)))
    _register(monkeypatch, "noop", lambda *, session: {"did": 1})
    assert registry.run_job("noop").status == "ok"
    runs = _runs()
    assert runs["killed"].status == "abandoned" and runs["killed"].finished_at is not None
    assert "stopped before this run finished" in runs["killed"].error
    assert (runs["alive"].status, runs["alive"].finished_at) == ("running", None)


def test_a_long_run_keeps_renewing_its_lease(scratch_db, monkeypatch):
    monkeypatch.setattr(registry, "RUN_LEASE_SECONDS", 0.6)
    seen = {}

    def long(*, session):
        time.sleep(1.5)  # more than two leases
        with session_scope() as other:
            seen["lease"] = other.scalar(
                select(JobRun.lease_until).where(JobRun.job_name == "long")
            )
            registry.close_abandoned(session=other)  # another process's run starting now
            seen["status"] = other.scalar(select(JobRun.status).where(JobRun.job_name == "long"))
        return {"slept": 1.5}

    _register(monkeypatch, "long", long)
    run = registry.run_job("long")
    assert run.status == "ok" and seen["status"] == "running"
    assert seen["lease"] > run.started_at + timedelta(seconds=1)  # renewed, not the first lease


STUCK = textwrap.dedent(
    """
    import time
    from jobs import registry

    registry.RUN_LEASE_SECONDS = 0.5

    @registry.job("stuck", seconds=60, description="never ends")
    def stuck(*, session):
        print("started", flush=True)
        time.sleep(60)

    registry.run_job("stuck")
    """
)


def test_a_killed_process_leaves_an_abandoned_run_not_a_running_one(scratch_db, monkeypatch):
    env = {**os.environ, "DATABASE_URL": scratch_db}
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "started"
        assert _runs()["stuck"].status == "running"
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.6)  # its lease runs out: nobody renews it now
    _register(monkeypatch, "noop", lambda *, session: {"did": 1})
    registry.run_job("noop")
    assert _runs()["stuck"].status == "abandoned"
