"""Upsell outcomes: PRD metrics, outcome mix, rates by group, signals and success predictions."""

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import empty_state, page_header
from components.format import SEGMENT_LABELS, when
from components.outcome_views import (
    calibration_chart,
    filter_bar,
    kpi_row,
    learnings,
    mix_chart,
    prediction_check,
    prediction_checked,
    predictions_table,
    rate_bars,
    realization_table,
    signals_table,
)
from core.base import Role
from core.errors import Invalid
from core.upsell.analysis import filter_options
from core.upsell.analysis_schemas import OutcomeReport
from core.upsell.outcome_report import report

CHART = {"displayModeBar": False}
GROUP_LABELS = {
    "product": "Product",
    "segment": "Segment",
    "industry": "Industry",
    "arrBand": "ARR band",
    "salesRep": "Sales rep",
}


@st.cache_data(ttl=60, show_spinner=False)
def load_report(**filters) -> OutcomeReport:
    """Return the report for `filters`: the stored one without any, cached for a minute."""
    return data.call(report, **filters)


def show_predictions(found: OutcomeReport) -> None:
    """Render the active plans' chances of success with their reasons, lowest first."""
    st.subheader("Chance of success of active plans")
    st.caption(
        "Learned from outcomes a person confirmed for similar upsells (product, segment, ARR "
        "band, and the 30-day check once a plan reaches it); few examples count for little, so "
        "a chance stays near the base rate until the history says otherwise. Lowest first."
    )
    if found.active_plans > len(found.predictions):
        st.caption(
            f"The {len(found.predictions):,} least likely to succeed of "
            f"{found.active_plans:,} active plans; the filters above narrow them down."
        )
    if found.predictions:
        st.dataframe(predictions_table(found.predictions), hide_index=True, width="stretch")
    else:
        st.caption("No active plans match these filters.")


require_user(Role.LEADER, Role.ADMIN)
page_header(
    "Upsell outcomes",
    "How expansions turned out: the PRD success metrics, which products and segments succeed, "
    "what the 30-day check says about day 90, and how well success was predicted.",
)
filters = filter_bar(data.call(filter_options))
try:
    found = load_report(**filters)
except Invalid as exc:
    st.warning(str(exc))
    st.stop()
analysis = found.analysis
filtered = any(v is not None for v in filters.values())
st.caption(
    f"As of {when(found.computed_at)} — "
    + (
        "worked out for these filters."
        if filtered
        else "the upsell tracking job brings these figures up to date every 10 minutes."
    )
)
kpi_row(analysis)
if not analysis.overall.decided:
    if filtered:
        empty_state(
            "No decided plans match these filters",
            "Widen or clear the filters.",
            icon=":material/filter_alt_off:",
        )
    else:
        empty_state(
            "No outcomes yet",
            "Outcomes appear after a plan's final checkpoint (day 90 by default), when an outcome "
            "is proposed from the data and the CSM confirms it. Until then the success metrics "
            "above show coverage and plan latency.",
            icon=":material/hourglass_top:",
        )
    show_predictions(found)
    st.stop()

for sentence in learnings(analysis):
    st.markdown(f"- {sentence}")
mix, products = st.columns(2)
with mix:
    st.subheader("Outcome mix")
    st.caption(f"{analysis.overall.decided} decided plans (confirmed outcome, else proposed).")
    st.plotly_chart(mix_chart(analysis.overall), width="stretch", config=CHART)
with products:
    st.subheader("By product")
    st.plotly_chart(rate_bars(analysis.breakdowns["product"]), width="stretch", config=CHART)
segments, calibration = st.columns(2)
with segments:
    st.subheader("By segment")
    figure = rate_bars(analysis.breakdowns["segment"], SEGMENT_LABELS)
    st.plotly_chart(figure, width="stretch", config=CHART)
with calibration:
    st.subheader("Prediction vs actual")
    st.caption(prediction_check(analysis))
    if prediction_checked(analysis):
        st.plotly_chart(calibration_chart(analysis.calibration), width="stretch", config=CHART)
st.subheader("30-day signals")
st.caption(
    "Status at the 30-day check (the review's assessment, else the checkpoint summary) "
    "against the final outcome."
)
st.dataframe(signals_table(analysis), hide_index=True, width="stretch")
st.subheader("Value realization")
dimension = st.segmented_control(
    "Group by",
    list(GROUP_LABELS),
    default="product",
    format_func=GROUP_LABELS.get,
    key="oc_dim",
)
rows = realization_table(analysis.breakdowns[dimension or "product"])
st.dataframe(rows, hide_index=True, width="stretch")
show_predictions(found)
