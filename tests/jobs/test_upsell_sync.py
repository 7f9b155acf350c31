"""`upsell_sync` on the demo data: every seeded upsell gets a plan; a second run adds nothing."""

from sqlalchemy import create_engine, func, select

from core.db import session_scope
from core.upsell.models import Checkpoint, Measurement, MeasurementMetric, Upsell
from core.upsell.queries import plan_latency
from data.demo import generate
from jobs.__main__ import main as jobs_main
from jobs.registry import load_all, run_job


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_every_demo_upsell_gets_a_plan_once(scratch_db, capsys):
    engine = create_engine(scratch_db)
    with engine.begin() as conn:
        generate(conn, customers=200, seed=7)  # the `make run` demo: ~100 upsells
    engine.dispose()
    load_all()
    with session_scope() as session:
        planned = _count(session, Measurement)  # the older upsells, planned at the time

    run = run_job("upsell_sync")
    assert run.status == "ok", run.error
    assert run.details["salesforce"] == "not configured"
    with session_scope() as session:
        upsells = _count(session, Upsell)
        assert upsells > planned and run.details["plans_created"] == upsells - planned
        report = plan_latency(session=session)
        # Every upsell is planned; the 48 h share is measured from each deal's close, and the
        # demo's deals closed before this run, so it is not asserted here.
        assert (report.coverage, report.planned, report.due) == (1.0, upsells, upsells)
        counts = [_count(session, m) for m in (Measurement, MeasurementMetric, Checkpoint)]
        unpredicted = session.scalar(
            select(func.count()).where(Measurement.predicted_success.is_(None))
        )
        assert unpredicted == 0
        assert counts[1] >= 2 * upsells and counts[2] >= 3 * upsells

    assert jobs_main(["run-once", "upsell_sync"]) == 0
    assert "plans_created': 0" in capsys.readouterr().out
    with session_scope() as session:
        assert [_count(session, m) for m in (Measurement, MeasurementMetric, Checkpoint)] == counts
