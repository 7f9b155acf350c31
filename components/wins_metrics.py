"""The Wins page's success measures: cards against their targets and the rows behind each."""

import plotly.graph_objects as go
import streamlit as st

from components.charts import ACCENT, figure
from components.deltas import arrow, target_words, vs_target
from components.format import escape_md, when
from components.navigation import page_file
from components.wins_views import ACHIEVEMENT_PAGE
from core.formatting import duration
from core.reporting.schemas import MetricRow, SuccessMetric

CUSTOMERS_PAGE = "pages/customers.py"
ROWS_SHOWN = 15
METRIC_TEXT = {
    "capture": (
        "Achievement capture",
        "Wins with a success record, of every win reached in the period: verified wins, goals "
        "whose data met the target but were never recorded, and custom goals past their due "
        "date that nobody confirmed",
    ),
    "communication": ("Customer communication", "Wins whose congratulations email was sent"),
    "utilization": ("Marketing utilization", "Wins with a marketing flag marked used"),
    "documented_24h": (
        "Documented within 24 h",
        "Wins whose success record was written at most 24 h after the goal was reached (not "
        "after the app noticed); wins never documented count as late once 24 h have passed",
    ),
}
# What each figure is out of, under its card: the PRD gives each metric its own denominator.
DENOMINATORS = {
    "capture": "Out of every win reached: verified, met in the data but never recorded, "
    "or custom and past due.",
    "communication": "Out of verified wins only.",
    "utilization": "Out of verified wins only.",
    "documented_24h": "Out of wins reached, except custom goals past due and wins reached in "
    "the last 24 h.",
}
# How many rows of a kind stand behind a metric, in words: "2 wins verified but not written up".
GAP_WORDS = {
    "not_documented": ("win verified but not written up", "wins verified but not written up"),
    "not_recorded": (
        "goal met its target in the data but was never recorded",
        "goals met their target in the data but were never recorded",
    ),
    "milestones_done": (
        "goal finished every milestone but was never recorded",
        "goals finished every milestone but were never recorded",
    ),
    "custom_overdue": (
        "custom goal past its due date without confirmation",
        "custom goals past their due date without confirmation",
    ),
    "late": ("win documented later than 24 h", "wins documented later than 24 h"),
    "not_emailed": ("win without a sent email", "wins without a sent email"),
    "used": ("win used in marketing", "wins used in marketing"),
}
LISTS = {
    "capture": "The wins missing from the record, newest first:",
    "communication": "Wins without a sent congratulations email, newest first:",
    "utilization": "Wins used in marketing, newest first:",
    "documented_24h": "Never documented (oldest first), then the slowest write-ups:",
}


def summary(m: SuccessMetric) -> str:
    """Say the metric with its honest denominator: '41 of 44 wins documented; 3 missed'."""
    n, d = m.numerator, m.denominator
    if m.key == "capture":
        missed = d - n
        return f"{n:,} of {d:,} wins documented" + (f"; {missed:,} missed" if missed else "")
    if m.key == "communication":
        return f"{n:,} of {d:,} wins got a congratulations email"
    if m.key == "utilization":
        return f"{n:,} of {d:,} wins used in marketing"
    late = d - n
    return f"{n:,} of {d:,} wins documented within 24 h of being reached" + (
        f"; {late:,} later or never" if late else ""
    )


def _gap_sentence(m: SuccessMetric) -> str:
    parts = [f"{count:,} {GAP_WORDS[kind][count != 1]}" for kind, count in m.gaps.items()]
    return "; ".join(parts) + "." if parts else ""


def reason(row: MetricRow) -> str:
    """Say why a row stands behind its metric, in plain words."""
    day = when(row.at.date())
    return {
        "not_documented": f"verified, reached {day}; no success record written",
        "not_recorded": f"its data met the target from {day}; never recorded as a win",
        "milestones_done": f"every milestone done by {day}; never recorded as a win",
        "custom_overdue": f"custom goal due {day}; not confirmed by its CSM",
        "late": f"reached {day}; documented {duration(row.hours)} later",
        "not_emailed": f"won {day}; congratulations email not sent",
        "used": f"won {day}; used in marketing",
    }[row.kind]


def metric_cards(metrics: list[SuccessMetric]) -> None:
    """Render the success measures against their targets, green when met."""
    for column, m in zip(st.columns(len(metrics)), metrics, strict=True):
        title, meaning = METRIC_TEXT[m.key]
        note = f"{meaning}. {summary(m)} ({target_words(m.target)})."
        if m.rate is None:
            column.metric(
                title, "—", "no wins yet", "gray", help=note, border=True, delta_arrow="off"
            )
            column.caption(DENOMINATORS[m.key])
            continue
        delta, _ = vs_target(m.rate, m.target)
        column.metric(
            title,
            f"{m.rate:.0%}",
            delta,
            "green" if m.met else "red",
            help=note,
            border=True,
            delta_arrow=arrow(m.rate, m.target),
        )
        column.caption(DENOMINATORS[m.key])


def delay_chart(m: SuccessMetric) -> go.Figure:
    """Bars of wins by time from reaching the goal to its success record."""
    bars = {
        "type": "bar",
        "x": [b.label for b in m.bins],
        "y": [b.count for b in m.bins],
        "marker": {"color": ACCENT},
        "text": [f"{b.count:,}" for b in m.bins],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{x}: %{y:,} wins<extra></extra>",
    }
    return figure(
        [bars],
        xaxis={
            "type": "category",
            "title": {"text": "from reaching the goal to its success record"},
        },
        yaxis={"rangemode": "tozero", "showticklabels": False, "showgrid": False},
        height=220,
        right=24,
    )


def _row_link(row: MetricRow, mine: bool) -> None:
    name = f"**{escape_md(row.customer_name)}** — {escape_md(row.goal_name)}"
    csm = "" if mine else f" · CSM: {escape_md(row.csm_name or 'unassigned')}"
    text = f"{name} · {escape_md(reason(row))}{csm}"
    if row.achievement_id:
        target, params = ACHIEVEMENT_PAGE, {"achievement": str(row.achievement_id)}
    else:
        target, params = CUSTOMERS_PAGE, {"customer": str(row.customer_id)}
    st.page_link(
        page_file(target), label=text, query_params=params, icon=":material/chevron_right:"
    )


def drill_down(m: SuccessMetric, *, mine: bool) -> None:
    """Render one metric's expander: its count in words, its distribution and its rows."""
    title, _ = METRIC_TEXT[m.key]
    with st.expander(f"{title}: {summary(m)}"):
        if m.key == "documented_24h" and m.bins and any(b.count for b in m.bins):
            documented = sum(b.count for b in m.bins[:-1])
            st.caption(
                f"Half of the {documented} documented wins were written up within "
                f"{duration(m.p50_hours)} of being reached, nine in ten within "
                f"{duration(m.p90_hours)}."
            )
            st.plotly_chart(delay_chart(m), key="wins_doc_delay", config={"displayModeBar": False})
        if gaps := _gap_sentence(m):
            st.markdown(escape_md(gaps))
        if not m.rows:
            st.caption("Nothing to list.")
            return
        st.caption(LISTS[m.key])
        for row in m.rows[:ROWS_SHOWN]:
            _row_link(row, mine)
        if m.listed > ROWS_SHOWN:
            st.caption(f"Showing {ROWS_SHOWN} of {m.listed:,}.")


def success_metrics(metrics: list[SuccessMetric], *, mine: bool) -> None:
    """Render the metric cards, then the rows behind each metric."""
    metric_cards(metrics)
    for m in metrics:
        drill_down(m, mine=mine)
