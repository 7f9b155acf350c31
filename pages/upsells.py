"""Upsell progress: every measurement plan, its charts, reviews, criteria and outcome."""

import uuid

import streamlit as st

from components import data, plan_tracking, upsell_data, upsell_forms, upsell_views
from components.auth import require_user
from components.cards import Card, empty_state, fact_row, page_header
from components.format import escape_md, money, when
from core.base import Role
from core.errors import NotFound
from core.upsell.queries import list_plans

user = require_user(Role.CSM, Role.LEADER, Role.ADMIN)
page_header(
    "Upsell progress",
    "Is each expansion delivering? Adoption vs the expected curve, checkpoint reviews and "
    "outcomes." + (" Plans of your customers." if user.role == Role.CSM else " All plans."),
)
upsell_views.notices()
status = upsell_views.status_filter()
rows = data.call(list_plans, viewer_id=user.id, viewer_role=user.role, status=status)
if not rows:
    empty_state(
        "No upsell plans here yet" if status is None else "No plans with this status",
        "Plans appear within one sync cycle after an upsell closes (Salesforce closed-won, a "
        "contract amendment or a manual entry)."
        + ("" if status is None else " Pick 'All' to see every plan."),
        icon=":material/trending_up:",
    )
else:
    upsell_views.plan_table(rows)

selected = upsell_views.plan_picker(rows)
if not selected:
    if rows:
        st.caption(":material/touch_app: Choose a plan to see its charts, reviews and outcome.")
    st.stop()
try:
    plan = upsell_data.plan(uuid.UUID(selected))
except (NotFound, ValueError):
    st.warning("That plan does not exist (any more). Choose another one above.")
    st.stop()

st.divider()
st.subheader(escape_md(upsell_views.title(plan.customer_name, plan.upsell_name)))
st.markdown(
    f"{upsell_views.badge(plan.progress_status)} :gray-badge[{upsell_views.detail_state(plan)}] "
    f"upsell closed {when(plan.close_date)}, {plan.days_since_close} days ago"
)
if reason := upsell_views.status_reason(plan):
    st.caption(reason)
fact_row(
    [
        Card("ARR increase", money(plan.arr_increase)),
        upsell_views.prediction_card(plan),
        *upsell_views.checkpoint_cards(plan),
        upsell_views.health_card(plan),
        plan_tracking.roi_card(plan),
    ]
)
plan_tracking.roi_caption(plan)
charts, reviews, criteria, outcome = st.tabs(
    ["Progress", f"Reviews ({len(plan.reviews)})", "Criteria", "Outcome"]
)
with charts:
    plan_tracking.milestones_panel(plan)
    if not plan.metrics:
        empty_state("No criteria yet", "Add one in the Criteria tab.", icon=":material/rule:")
    for metric in plan.metrics:
        upsell_views.metric_card(metric, plan)
with reviews:
    upsell_views.reviews_timeline(plan)
    plan_tracking.feedback_panel(plan)
    st.markdown("**Record a review**")
    upsell_forms.review_form(plan, user)
with criteria:
    st.markdown("**Enter manual metric values**")
    upsell_forms.manual_values_form(plan, user)
    st.markdown("**Customize criteria**")
    upsell_forms.customize_form(plan, user)
with outcome:
    upsell_forms.outcome_form(plan, user)
