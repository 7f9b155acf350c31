"""The job registry, run-once command and locking."""

import threading
from pathlib import Path

from sqlalchemy import create_engine, select, text

from core.audit.models import JobRun
from core.db import session_scope
from jobs import registry
from jobs.__main__ import main as jobs_main
from jobs.registry import NOT_JOBS, load_all


def test_list_names_every_job(capsys):
    assert jobs_main(["list"]) == 0
    assert "heartbeat" in capsys.readouterr().out


def test_run_once_records_a_run(scratch_db, capsys):
    assert jobs_main(["run-once", "heartbeat"]) == 0
    assert "heartbeat: ok" in capsys.readouterr().out
    with session_scope() as session:
        runs = session.scalars(select(JobRun)).all()
    assert [(r.job_name, r.status) for r in runs] == [("heartbeat", "ok")]
    assert runs[0].finished_at is not None
    assert runs[0].details["customers"] == 0


def test_run_once_rejects_unknown_names(scratch_db, capsys):
    assert jobs_main(["run-once", "no-such-job"]) == 2
    assert "Unknown job" in capsys.readouterr().err


def test_failing_job_is_recorded_not_raised(scratch_db):
    def explode(*, session):
        raise RuntimeError("boom")

    registry.JOBS["explode"] = registry.Job("explode", explode, 60, "fails")
    try:
        run = registry.run_job("explode")
    finally:
        registry.JOBS.pop("explode")
    assert run.status == "failed"
    assert "boom" in run.error


def test_a_job_running_elsewhere_is_skipped(scratch_db):
    """While another process holds the job's advisory lock, this one skips it."""
    holder_engine = create_engine(scratch_db)
    holder = holder_engine.connect()
    holder.execute(text("SELECT pg_advisory_lock(hashtext('outcomes-job:heartbeat'))"))
    try:
        assert registry.run_job("heartbeat") is None
    finally:
        # Unlock explicitly: a closed connection's locks vanish only when the server notices.
        holder.execute(text("SELECT pg_advisory_unlock(hashtext('outcomes-job:heartbeat'))"))
        holder.close()
        holder_engine.dispose()
    results = []
    thread = threading.Thread(target=lambda: results.append(registry.run_job("heartbeat")))
    thread.start()
    thread.join()
    assert results[0].status == "ok"


def test_every_job_module_is_loaded():
    jobs = load_all()
    folder = Path(__file__).resolve().parents[2] / "jobs"
    families = {p.stem for p in folder.glob("*.py") if p.stem not in NOT_JOBS | {"__init__"}}
    registered = {j.func.__module__.removeprefix("jobs.") for j in jobs.values()}
    assert families == registered
