"""Views of the jobs process for the System page: job runs and the items that failed."""

import pandas as pd

from components.format import label, when
from core.reporting.schemas import FailedItemRow, JobRunRow

RUN_STATUS = {
    "running": "Running",
    "ok": "Done",
    "failed": "Failed",
    "abandoned": "Abandoned (its process stopped)",
}


def run_status(run: JobRunRow) -> str:
    """Say how a run ended, with the items it had to leave out."""
    text = RUN_STATUS.get(run.status, label(run.status))
    failed = (run.details or {}).get("items_failed")
    if run.status == "ok" and failed:
        text += f", {failed} item{'s' if failed != 1 else ''} failed (listed below)"
    return text


def job_runs_frame(runs: list[JobRunRow]) -> pd.DataFrame:
    """One row per job run, newest first, in the words an admin reads."""
    return pd.DataFrame(
        [
            {
                "Job": label(r.job_name),
                "Started": when(r.started_at),
                "Finished": when(r.finished_at) if r.finished_at else "running…",
                "Status": run_status(r),
                "Error": r.error or "",
            }
            for r in runs
        ]
    )


def failed_items_frame(items: list[FailedItemRow]) -> pd.DataFrame:
    """One row per failed item: the job, what it was doing, on what, why, since when."""
    return pd.DataFrame(
        [
            {
                "Job": label(i.job_name) if i.job_name else "Run outside the scheduler",
                "What failed": i.step,
                "Item": i.item,
                "Reason": i.reason,
                "Tries": f"failed {i.failure_count} time{'s' if i.failure_count != 1 else ''}",
                "First failed": when(i.first_seen_at),
                "Last failed": when(i.last_seen_at),
            }
            for i in items
        ]
    )
