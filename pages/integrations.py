"""Integrations (admin): configuration state, the delivery queue, errors and dead-letter retry."""

import streamlit as st

from components import data, form_messages
from components.auth import require_user
from components.cards import Card, empty_state, metric_row, page_header
from components.format import label, when
from components.outbox_views import deliveries_frame, deliveries_table, queue_chart, shown_of
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


PER_ROW = 3
ATTENTION = ("dead", "failed", "not_configured")
LIMIT = 200

user = require_user(Role.ADMIN)
page_header(
    "Integrations",
    "Everything Outcomes sends goes through this queue: delivered at least once, retried with "
    "backoff, and kept here when it cannot be delivered.",
)

st.subheader("Configuration")
states = integration_states()
# Three to a row: narrower cards would break setting names like SALESFORCE_INSTANCE_URL.
cells = [cell for _ in range(0, len(states), PER_ROW) for cell in st.columns(PER_ROW)]
for column, state in zip(cells, states, strict=False):
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
statuses = list(ATTENTION) if show == "Needs attention" else None
deliveries = data.call(list_deliveries, statuses=statuses, limit=LIMIT)
if not deliveries:
    st.success("Nothing needs attention: every delivery went out or is on its way.")
    st.stop()
attention = sum(totals.get(s, 0) for s in ATTENTION)
# The totals are up to 15 seconds old: never say fewer exist than the table lists.
exist = max(attention if statuses else sum(totals.values()), len(deliveries))
what = "deliveries that need attention" if statuses else "deliveries"
st.caption(f"{shown_of(len(deliveries), exist)} {what}, most recently changed first.")
deliveries_table(deliveries_frame(deliveries))

retryable = [d for d in deliveries if d.status.value in ATTENTION]
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
        rest = max(attention - len(retryable), 0)
        everything = st.checkbox(
            f"All {len(retryable):,} listed above"
            + (f" (of {attention:,} that need attention)" if rest else ""),
            help=f"Retry acts on the deliveries listed; the other {rest:,} appear here once "
            "these leave the list."
            if rest
            else None,
        )
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
