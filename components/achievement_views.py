"""Achievement page blocks: the before/after chart, the success record, evidence and follow-up."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.cards import Card, empty_state, fact_row
from components.charts import GRID, PRIMARY, figure
from components.format import escape_md, label, when
from components.navigation import allowed, page_file
from core.base import Role
from core.documentation.detail import AchievementDetail, DeliveryInfo, RecordView
from core.formatting import number
from core.goals.models import AchievementStatus
from core.repository.consent import CS_STAFF

GOOD, MUTED, WARN = "#4E9F6B", "#8A99A8", "#D9A441"
CHANNELS = {
    "slack_message": "Slack announcement",
    "google_doc": "Google Doc",
    "slack_dm": "Slack DM to the CSM",
    "gmail": "Congratulations email",
}
# What CS staff who are not admins read: whether it went out, never why not.
PLAIN_CHANNELS = {
    "slack_message": ("Posted to Slack", "Not posted to Slack yet"),
    "google_doc": ("Google Doc written", "Google Doc not written yet"),
    "slack_dm": ("CSM told in Slack", "CSM not told in Slack yet"),
    "gmail": ("Congratulations email sent", "Congratulations email not sent yet"),
}
DRAFT_STATES = {
    "pending": "waiting for approval",
    "approved": "approved",
    "rejected": "rejected",
    "sent": "sent",
    "failed": "approved, not sent yet",
}
STATUS_COLORS = {
    "sent": "green",
    "pending": "orange",
    "in_progress": "orange",
    "failed": "red",
    "dead": "red",
    "not_configured": "gray",
    "approved": "blue",
    "rejected": "gray",
}


def _fmt(d: AchievementDetail, value: Decimal | None) -> str:
    return number(value, d.unit, money=d.is_money)


def header(d: AchievementDetail) -> None:
    """Render the badges and key figures under the title."""
    held = d.status == AchievementStatus.HELD
    badges = [
        ":orange-badge[:material/pan_tool: Held for confirmation]"
        if held
        else ":green-badge[:material/verified: Verified]",
        f":blue-badge[{label(d.goal_type)}]",
        f":gray-badge[{label(d.method)}]",
        f":gray-badge[{label(d.confidence)} confidence]",
        f":gray-badge[Achieved {when(d.achieved_at.date())}]",
    ]
    st.markdown(" ".join(badges))
    if held:
        st.warning(
            f"Held for confirmation: {escape_md(d.rule)}. Check the data below, then confirm it "
            "under 'Needs your confirmation' on the Wins page; nothing is announced until then.",
            icon=":material/pan_tool:",
        )
    days = max(0, (d.achieved_at.date() - d.start_date).days)
    fact_row(
        [
            *_result_cards(d),
            Card("Days to achieve", days, "From the goal's start"),
            Card("Started", when(d.start_date)),
        ]
    )


def _result_cards(d: AchievementDetail) -> list[Card]:
    """Return the baseline, target and result, or the milestones done for a goal without them."""
    if any(v is not None for v in (d.baseline, d.target, d.achieved)):
        return [
            Card("Baseline", _fmt(d, d.baseline)),
            Card("Target", _fmt(d, d.target)),
            Card("Achieved", _fmt(d, d.achieved)),
        ]
    done = d.evidence.get("milestones")
    return [Card("Milestones done", done, "Every milestone of the plan")] if done else []


def _at(day) -> datetime:
    return day if isinstance(day, datetime) else datetime.combine(day, time())


def _marker(x: datetime, text: str, color: str, dash: str) -> tuple[dict, dict]:
    """Return a vertical line at `x` across the plot and its label above it."""
    line = {
        "type": "line",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"color": color, "width": 1.5, "dash": dash},
    }
    note = {
        "x": x,
        "y": 1,
        "yref": "paper",
        "text": text,
        "showarrow": False,
        "yanchor": "bottom",
        "font": {"color": color},
    }
    return line, note


def _points(d: AchievementDetail, name: str, rows: list, **style) -> dict:
    return {
        "type": "scatter",
        "x": [getattr(r, "observed_at", None) or r.day for r in rows],
        "y": [float(r.value) for r in rows],
        "name": name,
        "hovertemplate": f"%{{x|%b %d, %Y}}: %{{y:,.2f}} {d.unit or ''}<extra>{name}</extra>",
        **style,
    }


def before_after(d: AchievementDetail) -> go.Figure:
    """The metric before and after the goal: baseline, target, start, win, qualifying points.

    Built in one go: plotly's add_hline/add_vrect re-validate the layout on every call.
    """
    ring = {"color": "white", "size": 8, "line": {"color": MUTED, "width": 1.5}}
    dot = {"color": GOOD, "size": 9, "line": {"color": "white", "width": 1}}
    traces = [
        _points(d, "Daily value", d.series, mode="lines", line={"color": PRIMARY, "width": 2}),
        _points(
            d,
            "Other evidence",
            [o for o in d.observations if not o.qualifying],
            mode="markers",
            marker=ring,
        ),
        _points(
            d,
            "Qualifying observations",
            [o for o in d.observations if o.qualifying],
            mode="markers",
            marker=dot,
        ),
    ]
    first = _at(d.series[0].day if d.series else d.start_date)
    last = _at(max(d.series[-1].day if d.series else d.start_date, d.achieved_at.date()))
    shapes = [
        {
            "type": "rect",
            "x0": first,
            "x1": _at(d.start_date),
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "fillcolor": GRID,
            "opacity": 0.5,
            "line": {"width": 0},
        }
    ]
    notes = []
    values = [float(p.value) for p in [*d.series, *d.observations]]
    lines = [
        (v, n, c)
        for v, n, c in ((d.baseline, "Baseline", MUTED), (d.target, "Target", GOOD))
        if v is not None
    ]
    top = max((float(v) for v, _, _ in lines), default=None)
    for value, name, color in lines:
        values.append(float(value))
        shapes.append(
            {
                "type": "line",
                "x0": 0,
                "x1": 1,
                "xref": "paper",
                "y0": float(value),
                "y1": float(value),
                "line": {"color": color, "dash": "dash", "width": 1.5},
            }
        )
        # Labels sit in the right margin, the higher one above its line, so they never collide.
        notes.append(
            {
                "x": 1,
                "xref": "paper",
                "xanchor": "left",
                "y": float(value),
                "showarrow": False,
                "yanchor": "bottom" if float(value) == top else "top",
                "font": {"color": color},
                "text": f"{name}<br>{_fmt(d, value)}",
                "align": "left",
            }
        )
    for marker in (
        _marker(_at(d.start_date), "Goal start", MUTED, "dot"),
        _marker(d.achieved_at, "Achieved", GOOD, "solid"),
    ):
        shapes.append(marker[0])
        notes.append(marker[1])
    low, high = min(values, default=0), max(values, default=1)
    pad = (high - low) * 0.12 or abs(high) * 0.1 or 1
    return figure(
        traces,
        xaxis={"range": [first, last + timedelta(days=3)]},
        yaxis={
            "range": [low - pad, high + pad],
            "title": {"text": d.unit or None},
            "tickformat": "~s",
        },
        height=380,
        legend_y=-0.12,
        right=96,
        top=28,
        shapes=shapes,
        annotations=notes,
    )


def chart(d: AchievementDetail) -> None:
    """Render the before/after chart, or say why this win has none."""
    with st.container(border=True):
        st.markdown(
            f"**{escape_md(d.metric_name or 'Progress')} before and after the goal**",
            help="Daily values from 60 days before the goal started until today. Shaded: before "
            "the goal. Green points: the latest observations meeting the target when the win was "
            "detected; 'Achieved' marks where that run began.",
        )
        if d.series:
            st.plotly_chart(before_after(d), key="before_after", config={"displayModeBar": False})
            if d.measure != "value":
                st.caption(f"Measured as {escape_md(d.measure)}, like the goal's target.")
        else:
            empty_state(
                "No metric to chart",
                "This goal is proven by its milestones or confirmed "
                "by a CSM, so there is no series; the evidence below says how.",
            )


def _markdown_table(rows: list[tuple[str, str]]) -> str:
    cells = [f"| {escape_md(k)} | {escape_md(v)} |" for k, v in rows]
    return "\n".join([cells[0], "|---|---|", *cells[1:]]) if cells else ""


def record(view: RecordView, slug: str) -> None:
    """Render the success record (summary, result table, sections) with its downloads."""
    with st.container(border=True):
        st.subheader("Success record")
        if not view.documented:
            st.caption("Not written yet: this is how it will read once the win is confirmed.")
        st.markdown(escape_md(view.summary))
        if view.goal_description:
            st.markdown(f"**Goal** — {escape_md(view.goal_description)}")
        st.markdown(_markdown_table(view.result_rows))
        for heading, items in view.sections:
            st.markdown(f"**{escape_md(heading)}**")
            st.markdown("\n".join(f"- {escape_md(item)}" for item in items))
        with st.container(horizontal=True):
            st.download_button(
                "Markdown",
                view.markdown,
                f"{slug}.md",
                "text/markdown",
                icon=":material/download:",
                on_click="ignore",
            )
            st.download_button(
                "HTML",
                view.html,
                f"{slug}.html",
                "text/html",
                icon=":material/download:",
                on_click="ignore",
            )
            if view.doc_url:
                st.link_button("Google Doc", view.doc_url, icon=":material/description:")
        if view.written_at:
            st.caption(f"Written {when(view.written_at)}.")


def slug(title: str) -> str:
    """Return a file-name-safe version of a record title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "success-record"


def evidence(d: AchievementDetail) -> None:
    """Render the rule, confidence and observations that proved the win."""
    with st.container(border=True):
        st.subheader("Evidence")
        st.markdown(
            f"**Rule:** {escape_md(d.rule)}  \n**Confidence:** {label(d.confidence)}"
            f" · **Method:** {label(d.method)}"
        )
        if d.verified_by:
            note = f" — “{escape_md(d.note)}”" if d.note else ""
            st.markdown(f"**Confirmed by** {escape_md(d.verified_by)}{note}")
        if d.observations:
            frame = pd.DataFrame(
                {
                    "Observed": [when(o.observed_at) for o in d.observations],
                    "Value": [_fmt(d, o.value) for o in d.observations],
                    "Qualifies": [o.qualifying for o in d.observations],
                }
            )
            st.dataframe(
                frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 300)
            )
        elif d.evidence.get("milestones"):
            st.caption(f"All {d.evidence['milestones']} milestones of the plan were completed.")


def follow_up(d: AchievementDetail, role: Role) -> None:
    """Render the Slack, Doc and email status of the win: in full for admins, plainly for CS."""
    if role not in CS_STAFF:
        return  # how a win is announced is the CS team's business, not sales' or marketing's
    with st.container(border=True):
        st.subheader("Announcements")
        if not d.deliveries and not d.draft:
            st.caption("Nothing queued yet: announcements follow once the win is documented.")
        for item in d.deliveries:
            if role == Role.ADMIN:
                _delivery_for_admin(item)
            else:
                st.markdown(_delivery_plainly(item))
        if d.draft:
            if role == Role.ADMIN:
                color = STATUS_COLORS.get(d.draft.status, "gray")
                st.markdown(f"Congratulations email draft :{color}-badge[{label(d.draft.status)}]")
            else:
                st.markdown(f"Congratulations email draft: {DRAFT_STATES[d.draft.status]}")
            if d.draft.status == "pending" and allowed("pages/approvals.py", role):
                st.page_link(
                    page_file("pages/approvals.py"),
                    label="Review it in Approvals",
                    icon=":material/fact_check:",
                )


def _delivery_for_admin(item: DeliveryInfo) -> None:
    color = STATUS_COLORS.get(item.status, "gray")
    detail = item.last_error or (f"ref {item.external_ref}" if item.external_ref else "")
    st.markdown(
        f"{CHANNELS.get(item.channel, label(item.channel))} :{color}-badge[{label(item.status)}]"
    )
    if detail:
        st.caption(escape_md(detail))


def _delivery_plainly(item: DeliveryInfo) -> str:
    """Say whether a delivery went out, without the integration's state or settings."""
    done, waiting = PLAIN_CHANNELS.get(item.channel, ("Sent", "Not sent yet"))
    return f":green-badge[{done}]" if item.status == "sent" else f":gray-badge[{waiting}]"


def marketing(d: AchievementDetail) -> None:
    """Render the marketing score, its reasons, the candidate types and any flags."""
    with st.container(border=True):
        st.subheader("Marketing potential")
        if d.marketing_score is None:
            st.caption("Scored when the win is documented.")
            return
        st.metric("Score", f"{d.marketing_score}/100", border=False)
        st.markdown("\n".join(f"- {escape_md(r)}" for r in d.marketing_reasons))
        if d.marketing_candidates:
            st.markdown(" ".join(f":violet-badge[{label(c)}]" for c in d.marketing_candidates))
        for flag in d.flags:
            st.caption(
                f"Flagged as {label(flag.candidate_type).lower()}: {label(flag.status)}"
                f" since {when(flag.status_changed_at.date())}"
            )
