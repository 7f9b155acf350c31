"""Upsell outcomes: the success measures against their targets and the period before, outcome
mix, rates by group with the plans behind them, signals and success predictions."""

from datetime import UTC, date, datetime

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import empty_state, page_header
from components.format import when
from components.outcome_drill import drill_down, pick_from_chart
from components.outcome_views import (
    calibration_chart,
    filter_bar,
    kpi_row,
    learnings,
    mix_chart,
    period_row,
    prediction_check,
    prediction_checked,
    predictions_table,
    rate_bars,
    realization_table,
    signals_table,
)
from core.base import Role
from core.errors import Invalid
from core.reporting.landing_schemas import OutcomePeriods, OutcomePlans
from core.reporting.outcome_periods import outcome_periods
from core.reporting.outcome_plans import outcome_plans, product_names
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


SELECTABLE = {"on_select": "rerun", "selection_mode": "points", "width": "stretch"}


# Cached per viewer (their id): what a role may see of the plans could come to differ.
@st.cache_data(ttl=60, show_spinner=False)
def load_report(viewer: str, **filters) -> OutcomeReport:
    """Return the report for `filters`: the stored one without any, cached for a minute."""
    return data.call(report, **filters)


@st.cache_data(ttl=60, show_spinner=False)
def load_choices(viewer: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Return the filter choices and every product's name by its key."""
    return data.read(filter_options), data.read(product_names)


@st.cache_data(ttl=60, show_spinner=False)
def load_periods(viewer: str, today: date, **filters) -> OutcomePeriods:
    """Return the outcomes decided in the last period and the one before, for `filters`."""
    return data.read(outcome_periods, today=today, **filters)


@st.cache_data(ttl=60, show_spinner=False)
def load_plans(viewer: str, **filters) -> OutcomePlans:
    """Return the plans behind the charts for `filters`."""
    return data.read(outcome_plans, **filters)


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


user = require_user(Role.LEADER, Role.ADMIN)
viewer = str(user.id)
page_header(
    "Upsell outcomes",
    "How expansions turned out: the success measures against our targets and the period "
    "before, which products and segments succeed (select a bar to list its plans), what the "
    "30-day check says about day 90, and how well success was predicted.",
)
options, products = load_choices(viewer)
filters = filter_bar(options, products)
try:
    found = load_report(viewer, **filters)
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
period_row(load_periods(viewer, datetime.now(UTC).date(), **filters))
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

for sentence in learnings(analysis, products):
    st.markdown(f"- {sentence}")
mix, by_product = st.columns(2)
with mix:
    st.subheader("Outcome mix")
    st.caption(
        f"{analysis.overall.decided} decided plans"
        + (" matching the filters" if filtered else ", all time")
        + " (confirmed outcome, else proposed)."
    )
    event = st.plotly_chart(mix_chart(analysis.overall), config=CHART, key="oc_mix", **SELECTABLE)
    pick_from_chart(event, "outcome")
with by_product:
    st.subheader("By product")
    st.caption("Success rate of decided plans and year-1 churn of expanded ARR, per main product.")
    figure = rate_bars(analysis.breakdowns["product"], "product", products)
    pick_from_chart(
        st.plotly_chart(figure, config=CHART, key="oc_product_bars", **SELECTABLE), "product"
    )
segments, calibration = st.columns(2)
with segments:
    st.subheader("By segment")
    st.caption("The same rates per customer segment.")
    figure = rate_bars(analysis.breakdowns["segment"], "segment", products)
    pick_from_chart(
        st.plotly_chart(figure, config=CHART, key="oc_segment_bars", **SELECTABLE), "segment"
    )
with calibration:
    st.subheader("Prediction vs actual")
    st.caption(prediction_check(analysis))
    if prediction_checked(analysis):
        figure = calibration_chart(analysis.calibration)
        event = st.plotly_chart(figure, config=CHART, key="oc_calibration", **SELECTABLE)
        pick_from_chart(event, "chance")
drill_down(load_plans(viewer, **filters))
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
rows = realization_table(analysis.breakdowns[dimension or "product"], products)
st.dataframe(rows, hide_index=True, width="stretch")
show_predictions(found)
