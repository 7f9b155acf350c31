"""What happened at one customer, on its page: goals, success plans and wins (each linking to
its details), upsells with their measurement plans, and the timeline with its links."""

import uuid

import pandas as pd
import streamlit as st

from components.cards import empty_state
from components.format import TIMELINE_LABELS, escape_md, label, money, when
from components.navigation import allowed, page_file
from components.upsell_views import badge, plan_state, prediction_words
from core.base import Role
from core.formatting import number
from core.goals.models import AchievementStatus
from core.reporting.schemas import CustomerDetail, SuccessPlanRow, TimelineRow, UpsellRow, WinRow

WIN_PAGE = "pages/achievement.py"
PLAN_PAGE = "pages/upsells.py"


def win_link(achievement_id: uuid.UUID, text: str, *, icon=":material/emoji_events:") -> None:
    """Link one win's details page."""
    st.page_link(
        page_file(WIN_PAGE),
        label=text,
        icon=icon,
        query_params={"achievement": str(achievement_id)},
    )


def plan_link(plan_id: uuid.UUID, text: str, role: Role) -> None:
    """Link one measurement plan on Upsell progress, for the roles that may open it."""
    if allowed(PLAN_PAGE, role):
        st.page_link(
            page_file(PLAN_PAGE),
            label=text,
            icon=":material/trending_up:",
            query_params={"plan": str(plan_id)},
        )


def goals_view(detail: CustomerDetail) -> None:
    """Render the goals table, the success plans and the wins."""
    st.markdown("**Goals**")
    if not detail.goals:
        empty_state(
            "No goals yet",
            "Goals come from success plans (API) or the CSM; achieved goals become wins.",
        )
    else:
        st.dataframe(_goal_frame(detail), hide_index=True, width="stretch")
    if detail.plans:
        st.markdown("**Success plans**")
        st.dataframe(_plan_frame(detail.plans), hide_index=True, width="stretch")
    st.markdown(f"**Wins** · {len(detail.wins)}")
    if not detail.wins:
        st.caption("No wins yet: a goal reached (or confirmed by a CSM) becomes one.")
    for win in detail.wins:
        _win(win)


def _goal_frame(detail: CustomerDetail) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Goal": g.name,
                "Type": label(g.type),
                "Status": label(g.status),
                "Metric": g.metric_name or "No metric",
                "Baseline": number(g.baseline, g.unit),
                "Target": number(g.target, g.unit),
                "Due": when(g.due_date) if g.due_date else "No due date",
                "Win": "Yes, listed below" if g.achievement_id else "—",
            }
            for g in detail.goals
        ]
    )


def _plan_frame(plans: list[SuccessPlanRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Plan": p.name,
                "Status": label(p.status),
                "Started": when(p.start_date),
                "Target date": when(p.target_date) if p.target_date else "No target date",
                "Milestones": f"{p.milestones_done} of {p.milestones_total} done"
                if p.milestones_total
                else "No milestones",
            }
            for p in plans
        ]
    )


def _win(win: WinRow) -> None:
    with st.container(border=True, gap="xxsmall"):
        title = win.record_title or win.goal_name
        win_link(win.achievement_id, f"**{escape_md(title)}**")
        parts = [
            f":gray-badge[{when(win.achieved_at.date())}]",
            f":blue-badge[{label(win.goal_type)}]",
        ]
        if win.status == AchievementStatus.HELD:
            parts.append(":orange-badge[Held for confirmation]")
        if win.record_title is None:
            parts.append(":red-badge[Not documented yet]")
        st.markdown(" ".join(parts))
        if win.record_title:
            st.caption(f"Goal: {escape_md(win.goal_name)}")


def upsells_view(detail: CustomerDetail, role: Role) -> None:
    """Render the customer's upsells, each with its measurement plan's state and a link."""
    if not detail.upsells:
        empty_state(
            "No upsells yet",
            "Expansions arrive from Salesforce (closed-won), contract amendments or a manual "
            "entry below; each gets a measurement plan.",
            icon=":material/trending_up:",
        )
        return
    for upsell in detail.upsells:
        _upsell(upsell, role)


def _upsell(u: UpsellRow, role: Role) -> None:
    with st.container(border=True, gap="xxsmall"):
        st.markdown(
            f"**{escape_md(u.name)}** · {label(u.type)} · {money(u.arr_increase)} added ARR · "
            f"closed {when(u.close_date)}"
        )
        if u.plan_id is None:
            st.caption("No measurement plan yet: one is built within one sync cycle.")
            return
        state = plan_state(u.plan_status, u.outcome, u.proposed_outcome)
        shown = [badge(u.progress_status) if state == "Active" else f":gray-badge[{state}]"]
        if state == "Active" and u.started_on:
            shown.append(f":gray-badge[Day {_day(u)} of {u.horizon_days}]")
        if u.predicted_success is not None:
            words = prediction_words(u.predicted_success, u.prediction_unlearned)
            shown.append(f":violet-badge[Predicted success {words}]")
        st.markdown(" ".join(shown))
        plan_link(u.plan_id, "Open in Upsell progress", role)


def _day(u: UpsellRow) -> int:
    return max((pd.Timestamp.now(tz="UTC").date() - u.started_on).days, 0)


def timeline_view(detail: CustomerDetail, role: Role) -> None:
    """Render the latest timeline lines, newest first, with links to wins and plans."""
    if not detail.timeline:
        empty_state("Nothing on the timeline yet", "Wins, reviews and notes appear here.")
        return
    st.caption(f"The latest {len(detail.timeline)} events, newest first.")
    for event in detail.timeline:
        _event(event, role)


def _event(event: TimelineRow, role: Role) -> None:
    kind = TIMELINE_LABELS.get(event.kind, label(event.kind))
    st.markdown(
        f"**{when(event.occurred_at.date())}** :blue-badge[{escape_md(kind)}] "
        f"{escape_md(event.title)}"
    )
    if event.body:
        st.caption(escape_md(event.body))
    if event.achievement_id:
        win_link(event.achievement_id, "Open the win", icon=":material/arrow_forward:")
    elif event.plan_id:
        plan_link(event.plan_id, "Open the measurement plan", role)
