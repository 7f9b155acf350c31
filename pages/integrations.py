"""Integrations (admin): configuration state, the delivery queue, errors and dead-letter retry."""

import streamlit as st

from components import data, form_messages
from components.auth import require_user
from components.cards import Card, empty_state, metric_row, page_header
from components.format import label, when
from components.outbox_views import deliveries_frame, queue_chart
from core.base import Role
from core.errors import DomainError
from core.integrations.status import integration_states
from core.outbox.service import list_deliveries, queue_summary, retry_many


@st.cache_data(ttl=15, show_spinner=False)
def load_summary() -> list[dict]:
    """Return how many deliveries each channel has per status, at most 15 seconds old.

    A group-by over the whole queue; the latest deliveries below stay live.
    """
    return data.call(queue_summary)


user = require_user(Role.ADMIN)
page_header(
    "Integrations",
    "Everything Outcomes sends goes through this queue: delivered at least once, retried with "
    "backoff, and kept here when it cannot be delivered.",
)

st.subheader("Configuration")
for column, state in zip(st.columns(len(integration_states())), integration_states(), strict=True):
    with column, st.container(border=True, height="stretch"):
        badge = ":green-badge[Configured]" if state.configured else ":gray-badge[Not configured]"
        st.markdown(f"**{state.name}** {badge}")
        st.caption(state.purpose)
        if not state.configured:
            st.caption("Needs  \n" + "  \n".join(f"`{s}`" for s in state.settings))

summary = load_summary()
totals = {}
for row in summary:
    totals[row["status"]] = totals.get(row["status"], 0) + row["count"]
st.subheader("Delivery queue")
if not summary:
    empty_state(
        "Nothing has been queued yet",
        "Celebrations, emails, documents, meetings and Salesforce updates appear here as soon as "
        "the app queues them; the jobs process delivers them within seconds.",
        icon=":material/outbox:",
    )
    st.stop()
metric_row(
    [
        Card("Waiting", totals.get("pending", 0) + totals.get("in_progress", 0)),
        Card("Retrying", totals.get("failed", 0), help="Transient failures waiting for backoff"),
        Card("Dead letters", totals.get("dead", 0), help="Need a person: fix the cause, retry"),
        Card("Not configured", totals.get("not_configured", 0)),
        Card("Sent", totals.get("sent", 0)),
    ]
)
st.plotly_chart(queue_chart(summary), width="stretch", config={"displayModeBar": False})

show = st.segmented_control(
    "Show",
    ["Needs attention", "All recent"],
    default="Needs attention",
    key="outbox_filter",
)
statuses = ["dead", "failed", "not_configured"] if show == "Needs attention" else None
deliveries = data.call(list_deliveries, statuses=statuses, limit=200)
if not deliveries:
    st.success("Nothing needs attention: every delivery went out or is on its way.")
    st.stop()
st.dataframe(deliveries_frame(deliveries), hide_index=True, width="stretch")

retryable = [d for d in deliveries if d.status.value in ("dead", "failed", "not_configured")]
if retryable:
    with st.form("retry"):
        st.markdown("**Retry deliveries**: fix the cause first (settings, channel, address).")
        chosen = st.multiselect(
            "Deliveries",
            retryable,
            format_func=lambda d: (
                f"{label(d.channel)} · {label(d.status)} · queued {when(d.created_at)}"
            ),
        )
        everything = st.checkbox(f"All {len(retryable)} shown above")
        if st.form_submit_button("Retry now", type="primary"):
            targets = retryable if everything else chosen
            if not targets:
                st.warning("Choose at least one delivery, or tick 'All'.")
            else:
                try:
                    data.call(
                        retry_many,
                        delivery_ids=[d.id for d in targets],
                        actor=user.email,
                        actor_user_id=user.id,
                    )
                except DomainError as exc:
                    form_messages.show(
                        form_messages.form_messages(exc, {"deliveryIds": "Deliveries"})
                    )
                else:
                    load_summary.clear()
                    st.toast(f"{len(targets)} deliveries queued again.")
                    st.rerun()
