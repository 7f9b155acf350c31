"""Views of the outbox: status badges, the queue chart and the deliveries table."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.charts import count_axis, style
from components.format import label, when
from core.outbox.models import Channel, DeliveryStatus

STATUS_COLORS = {
    "pending": "#8DA9C4",
    "in_progress": "#3A9AB0",
    "sent": "#4F9D69",
    "failed": "#E0A458",
    "not_configured": "#A0A4A8",
    "dead": "#C8553D",
}


def queue_chart(summary: list[dict]) -> go.Figure:
    """Stacked bars: deliveries per channel, one colour per status."""
    channels = sorted({row["channel"] for row in summary})
    fig = go.Figure()
    for status, color in STATUS_COLORS.items():
        counts = {r["channel"]: r["count"] for r in summary if r["status"] == status}
        if counts:
            fig.add_bar(
                name=label(DeliveryStatus(status)),
                x=[label(Channel(c)) for c in channels],
                y=[counts.get(c, 0) for c in channels],
                marker_color=color,
            )
    largest = max(
        (sum(r["count"] for r in summary if r["channel"] == c) for c in channels), default=0
    )
    fig.update_yaxes(count_axis(largest))
    return style(fig, height=280, legend_y=-0.2).update_layout(barmode="stack")


ROW, HEADER, ROWS_SHOWN = 35, 38, 15  # pixels per row and header; rows before it scrolls
_COLUMN_WIDTHS = {
    "Channel": "small",
    "Status": "small",
    "Attempts": "small",
    "Next attempt": "small",
    "Last error": "large",
    "Reference": "small",
    "About": "small",
    "Created": "small",
    "Key": "small",
}


def deliveries_table(frame: pd.DataFrame) -> None:
    """Render the deliveries: every column in view, as tall as its rows up to ROWS_SHOWN."""
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=HEADER + ROW * max(min(len(frame), ROWS_SHOWN), 1),
        column_config={c: st.column_config.Column(c, width=w) for c, w in _COLUMN_WIDTHS.items()},
    )


def shown_of(shown: int, total: int) -> str:
    """Say how many rows the table lists of how many exist: 'The latest 200 of 488'."""
    return f"All {shown:,}" if shown >= total else f"The latest {shown:,} of {total:,}"


def deliveries_frame(deliveries) -> pd.DataFrame:
    """One row per delivery, in the words an admin reads."""
    return pd.DataFrame(
        [
            {
                "Channel": label(d.channel),
                "Status": label(d.status),
                "Attempts": f"{d.attempts}/{d.max_attempts}",
                "Next attempt": when(d.next_attempt_at) if d.status.value == "failed" else "",
                "Last error": d.last_error or "",
                "Reference": d.external_ref or "",
                "About": f"{label(d.related_type)}" if d.related_type else "",
                "Created": when(d.created_at),
                "Key": d.idempotency_key,
            }
            for d in deliveries
        ]
    )
