"""Tracking pieces of the Upsell progress page: recency, milestones, ROI realized, feedback."""

import streamlit as st

from components.cards import Card
from components.format import escape_md, when
from core.formatting import number
from core.upsell.frequency import LABELS as FREQUENCY_LABELS
from core.upsell.frequency import window
from core.upsell.page_schemas import MetricView, PlanDetail
from core.upsell.target_rules import MET_UNIT

MILESTONE_BADGES = {
    "completed": ":green-badge[Completed]",
    "overdue": ":red-badge[Overdue]",
    "upcoming": ":gray-badge[Upcoming]",
}


def current_text(metric: MetricView) -> str:
    """The current value as people read it, or 'no recent data' when it is too old to count."""
    if metric.no_recent_data:
        return "no recent data"
    if metric.current is None:
        return "—"
    if metric.unit == MET_UNIT:
        return "met" if metric.current >= 1 else "not met yet"
    return number(metric.current, metric.unit)


def recency_caption(metric: MetricView) -> None:
    """Say how often the metric is measured and, when its data is too old, since when."""
    if metric.frequency is None or metric.unit == MET_UNIT:  # a yes/no answer is not averaged
        return
    line = f"Measured {FREQUENCY_LABELS[metric.frequency]}"
    if metric.no_recent_data and metric.current_at is not None:
        days = window(metric.frequency).days
        line += (
            f" · :orange[no recent data: the newest value is from {when(metric.current_at)}, "
            f"older than {days} day{'s' if days > 1 else ''}, so it does not count]"
        )
    st.caption(line)


def milestones_panel(plan: PlanDetail) -> None:
    """The plan's adoption milestones with their status and the day each was reached."""
    st.markdown("**Adoption milestones**")
    if not plan.milestones:
        st.caption(
            "No adoption milestones for this plan: its products' templates define none and it "
            "has no usage or adoption criterion measured from usage data."
        )
        return
    for m in plan.milestones:
        if m.status == "completed":
            late = (m.reached_on - m.due_on).days if m.reached_on else 0
            detail = f"reached {when(m.reached_on)}" + (
                f", {late} days after it was due" if late > 0 else ""
            )
        elif m.status == "overdue":
            detail = f"was due {when(m.due_on)}"
        else:
            detail = f"due {when(m.due_on)}"
        st.markdown(
            f"{MILESTONE_BADGES[m.status]} **{escape_md(m.name)}** by day {m.due_day} · {detail}"
        )


def roi_card(plan: PlanDetail) -> Card:
    """ROI realized as a fact card: the multiple, or a dash, with its explanation as help."""
    roi = plan.roi
    if roi is None or roi.multiple_text is None:
        value = "—" if roi is None or roi.realized is None else number(roi.realized, "USD")
    else:
        value = roi.multiple_text
    helptext = None if roi is None else escape_md(" ".join([roi.text, *roi.basis]))
    return Card("ROI realized", value, help=helptext)


def roi_caption(plan: PlanDetail) -> None:
    """Say what the ROI figure means (or why there is none), in one line."""
    if plan.roi is not None:
        st.caption(f":material/savings: {escape_md(plan.roi.text)}")


def feedback_panel(plan: PlanDetail) -> None:
    """The 60-day feedback ask: where it stands and what the customer said since."""
    st.markdown("**Customer feedback**")
    ask = plan.feedback
    if ask is None:
        st.caption(
            "On day 60 a short satisfaction question to the customer's primary contact is "
            "drafted into your approval queue."
        )
        return
    sent = f", sent {when(ask.sent_at)}" if ask.sent_at else ""
    to = ", ".join(ask.to)
    st.caption(f"Feedback request to {escape_md(to)}: {ask.status_label}{sent}.")
    for line in ask.lines:
        st.markdown(f"- {escape_md(line)}")
