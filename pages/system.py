"""System (admin): database status, latest job runs, items that failed and API keys."""

import pandas as pd
import streamlit as st

from components import data
from components.auth import require_user
from components.cards import Card, empty_state, fact_row, metric_row, page_header
from components.format import label, when
from components.system_views import failed_items_frame, job_runs_frame
from core.base import Role
from core.reporting.schemas import SystemStatus
from core.reporting.system import system_status


@st.cache_data(ttl=30, show_spinner=False)
def load_status() -> SystemStatus:
    """Return the database, job runs, failed items and API keys, at most half a minute old."""
    return data.call(system_status)


require_user(Role.ADMIN)
page_header(
    "System", "Health of the database, the jobs process and API access. Refreshed every 30 seconds."
)
status = load_status()

st.subheader("Database")
db = status.database
fact_row(
    [
        Card("Status", "Connected" if db.ok else "Down"),
        Card("Server", f"PostgreSQL {db.version}"),
        Card("Database", db.name),
        Card("Size", db.size),
        Card("Schema revision", db.revision or "not migrated"),
    ]
)
metric_row([Card(label(name), count) for name, count in db.counts.items()])

st.subheader("Latest job runs")
if status.job_runs:
    st.dataframe(job_runs_frame(status.job_runs), hide_index=True, width="stretch")
else:
    empty_state(
        "No job runs yet",
        "The jobs process (`python -m jobs`, started by `make run`) records each run here: goal "
        "detection, checkpoint triggers, Salesforce sync and outbox delivery. "
        "Run due work once by hand with `python -m jobs run-once`.",
        icon=":material/schedule:",
    )

st.subheader("Items that failed")
st.caption(
    "A job goes on without an item it cannot process (a win, a plan, a checkpoint, a "
    "Salesforce row …) and tries it again on its next run; the item leaves this list once it "
    "succeeds."
)
if status.failed_items:
    st.dataframe(failed_items_frame(status.failed_items), hide_index=True, width="stretch")
else:
    empty_state("No failed items", "Every item of the latest job runs went through.")

st.subheader("API keys")
st.caption("Keys are stored hashed; only their prefix is shown. Create one with:")
st.code("python -m app.keys create NAME --role ROLE", language="bash")
if status.api_keys:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": k.name,
                    "Role": label(k.role),
                    "Prefix": k.prefix,
                    "Created": when(k.created_at),
                    "Last used": when(k.last_used_at) if k.last_used_at else "never",
                    "Revoked": "yes" if k.revoked else "no",
                }
                for k in status.api_keys
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    empty_state("No API keys yet", "Other systems call the API with a key created as above.")
