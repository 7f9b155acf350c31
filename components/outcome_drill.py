"""Drill down from the outcome charts to the plans behind them, each linking to its plan.

A bar or point selected in a chart (its `customdata` is the group's key) picks the group here; the
two select boxes pick it too, and stay the one place the choice is kept.
"""

import pandas as pd
import streamlit as st

from components.format import SEGMENT_LABELS, label, plural
from components.navigation import page_file
from core.reporting.landing_schemas import OutcomePlan, OutcomePlans
from core.upsell.prediction import DECIDED

BY_KEY = "oc_drill_by"
VALUE_KEY = "oc_drill_value"
PICKED_KEY = "oc_drill_picked"
UPSELLS_URL = "upsells?plan="  # relative: the same app, wherever it is served
UPSELLS_PAGE = "pages/upsells.py"
BY = {
    "outcome": "Outcome",
    "product": "Product",
    "segment": "Segment",
    "chance": "Predicted chance (confirmed outcomes)",
}
OUTCOMES = ("success", "partial", "at_risk", "failed")
CHANCES = ("0-20", "20-40", "40-60", "60-80", "80-100")  # the calibration chart's buckets


def _first(value):
    return value[0] if isinstance(value, list | tuple) and value else value


def pick_from_chart(event, by: str) -> None:
    """Make a new selection in the `by` chart the drill-down's choice (a later pick wins)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    values = [_first(p.get("customdata")) for p in points]
    value = next((v for v in values if v is not None), None)
    if value is None:
        return
    picked = (by, str(value))
    if st.session_state.get(PICKED_KEY) == picked:
        return  # the chart keeps its selection across reruns; act on new ones only
    st.session_state[PICKED_KEY] = picked
    st.session_state[BY_KEY] = by
    st.session_state[VALUE_KEY] = str(value)


def _choices(by: str, found: OutcomePlans) -> dict[str, str]:
    if by == "outcome":
        return {o: label(o) for o in OUTCOMES}
    if by == "product":
        keys = sorted({p.product for p in found.plans}, key=lambda k: found.products.get(k, k))
        return {k: found.products.get(k, k) for k in keys}
    if by == "segment":
        return {
            s: SEGMENT_LABELS.get(s, label(s)) for s in sorted({p.segment for p in found.plans})
        }
    return {c: f"{c.replace('-', '–')}% predicted" for c in CHANCES}


def _matches(plan: OutcomePlan, by: str, value: str) -> bool:
    if by == "outcome":
        return plan.outcome == value
    if by == "product":
        return plan.product == value
    if by == "segment":
        return plan.segment == value
    low, high = (int(x) for x in value.split("-"))
    chance = plan.predicted_success
    return (
        plan.confirmed in DECIDED
        and chance is not None
        and low <= chance
        and (chance < high or high == 100)
    )


def plans_table(plans: list[OutcomePlan]) -> pd.DataFrame:
    """Return the plans as a table, each with a link to its progress page."""
    return pd.DataFrame(
        [
            {
                "Plan": f"{UPSELLS_URL}{p.measurement_id}",
                "Customer": p.customer,
                "Upsell": p.upsell,
                "Product": p.product_name,
                "Segment": SEGMENT_LABELS.get(p.segment, label(p.segment)),
                "Outcome": label(p.outcome) if p.outcome else "Not decided yet",
                "Goals met": f"{p.met} of {p.metrics}",
                "Status at day 30": label(p.signal_30) if p.signal_30 else "Not reviewed",
                "Predicted chance": "—"
                if p.predicted_success is None
                else f"{p.predicted_success:.0f}%",
            }
            for p in plans
        ],
        columns=[
            "Plan",
            "Customer",
            "Upsell",
            "Product",
            "Segment",
            "Outcome",
            "Goals met",
            "Status at day 30",
            "Predicted chance",
        ],
    )


def drill_down(found: OutcomePlans) -> None:
    """Render the group pickers and the table of the plans behind the chosen group."""
    st.subheader("Plans behind the charts")
    by_col, value_col = st.columns([1, 2])
    by = by_col.selectbox("Group by", list(BY), format_func=BY.get, key=BY_KEY)
    choices = _choices(by, found)
    if st.session_state.get(VALUE_KEY) not in choices:
        st.session_state[VALUE_KEY] = None  # the group belongs to another grouping
    value = value_col.selectbox(
        "Group",
        list(choices),
        index=None,
        format_func=choices.get,
        placeholder="Every plan: select a bar in a chart above, or pick a group",
        key=VALUE_KEY,
    )
    plans = found.plans if value is None else [p for p in found.plans if _matches(p, by, value)]
    shown = "every plan" if value is None else f"{BY[by].split(' (')[0].lower()}: {choices[value]}"
    more = (
        f" (the first {len(found.plans):,} of {found.total:,})"
        if found.total > len(found.plans)
        else ""
    )
    st.caption(
        f"{plural(len(plans), 'plan')} — {shown}{more}. Outcome: confirmed, else proposed. "
        "Goals met: the plan's goals at their target now. Select a row to open its plan."
    )
    event = st.dataframe(
        plans_table(plans),
        hide_index=True,
        width="stretch",
        column_config={
            "Plan": st.column_config.LinkColumn(
                "Plan", display_text="Open plan", help="Opens the plan in a new tab"
            ),
        },
        key="oc_drill_table",
        on_select="rerun",
        selection_mode="single-row",
    )
    if rows := event.selection.rows:  # a selected row opens its plan here, in this tab
        plan = plans[rows[0]]
        st.switch_page(page_file(UPSELLS_PAGE), query_params={"plan": str(plan.measurement_id)})
