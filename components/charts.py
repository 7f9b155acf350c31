"""Plotly figure builders; each returns a go.Figure styled the same calm way."""

import pandas as pd
import plotly.graph_objects as go

from components.format import BAND_COLORS, label, money
from core.reporting.schemas import MetricSeries, MonthPoint, Slice

PRIMARY = "#2F6690"
ACCENT = "#3A9AB0"
GRID = "#E6EBF0"
HEIGHT = 300


def style(
    fig: go.Figure,
    *,
    height: int = HEIGHT,
    legend_y: float | None = None,
    right: int = 8,
    top: int = 8,
) -> go.Figure:
    """Apply the product's chart frame: transparent, quiet grid, a legend below only when asked."""
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": right, "t": top, "b": 8},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        showlegend=legend_y is not None,
        hoverlabel={"bgcolor": "white"},
    )
    if legend_y is not None:
        fig.update_layout(legend={"orientation": "h", "y": legend_y, "x": 0})
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(gridcolor=GRID, zeroline=False)
    return fig


def money_bars(slices: list[Slice]) -> go.Figure:
    """Vertical bars of amounts per category (e.g. ARR by segment)."""
    fig = go.Figure(
        go.Bar(
            x=[label(s.label) for s in slices],
            y=[float(s.value) for s in slices],
            text=[money(s.value) for s in slices],
            textposition="outside",
            cliponaxis=False,
            marker_color=PRIMARY,
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(tickprefix="$", tickformat="~s", rangemode="tozero")
    return style(fig)


def count_bars(slices: list[Slice], *, limit: int = 12) -> go.Figure:
    """Horizontal bars of counts, largest on top; the rest fold into 'Other'."""
    top = list(slices[:limit])
    rest = sum(float(s.value) for s in slices[limit:])
    labels = [s.label for s in top] + (["Other"] if rest else [])
    values = [float(s.value) for s in top] + ([rest] if rest else [])
    fig = go.Figure(
        go.Bar(
            x=values[::-1],
            y=labels[::-1],
            orientation="h",
            text=[f"{v:.0f}" for v in values[::-1]],
            textposition="outside",
            cliponaxis=False,
            marker_color=ACCENT,
            hovertemplate="%{y}: %{x:.0f} customers<extra></extra>",
        )
    )
    fig.update_xaxes(showgrid=False, showticklabels=False)
    fig.update_yaxes(showgrid=False)
    return style(fig)


def health_donut(slices: list[Slice]) -> go.Figure:
    """A donut of customers per health band, in traffic-light colours."""
    shown = [s for s in slices if s.value]
    total = sum(float(s.value) for s in shown)
    fig = go.Figure(
        go.Pie(
            labels=[label(s.label) for s in shown],
            values=[float(s.value) for s in shown],
            marker={"colors": [BAND_COLORS[s.label] for s in shown], "line": {"color": "white"}},
            hole=0.62,
            sort=False,
            direction="clockwise",
            textinfo="value",
            hovertemplate="%{label}: %{value} (%{percent})<extra></extra>",
        )
    )
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "v", "x": 1.0, "y": 0.5},
        annotations=[
            {"text": f"<b>{total:.0f}</b><br>customers", "showarrow": False, "font_size": 14}
        ],
    )
    style(fig)
    fig.update_layout(showlegend=True)
    return fig


def monthly_upsells(points: list[MonthPoint]) -> go.Figure:
    """Bars of upsells closed per month with their added ARR on hover."""
    fig = go.Figure(
        go.Bar(
            x=[_month_label(p, i) for i, p in enumerate(points)],
            y=[p.count for p in points],
            customdata=[money(p.arr) for p in points],
            marker_color=PRIMARY,
            hovertemplate="%{x}: %{y} closed, %{customdata} ARR<extra></extra>",
        )
    )
    fig.update_xaxes(tickangle=0)
    fig.update_yaxes(
        rangemode="tozero", dtick=1 if max((p.count for p in points), default=0) < 6 else None
    )
    return style(fig)


def _month_label(point: MonthPoint, index: int) -> str:
    month = point.month.strftime("%b")
    return f"{month}<br>{point.month.year}" if index == 0 or point.month.month == 1 else month


def metric_line(series: MetricSeries) -> go.Figure:
    """Daily values of one metric (thin) with their 7-day average (bold), from zero."""
    days = [p.day for p in series.points]
    values = pd.Series([float(p.value) for p in series.points], dtype="float64")
    hover = f"%{{x|%b %d, %Y}}: %{{y:,.1f}} {series.unit}<extra>%{{fullData.name}}</extra>"
    fig = go.Figure(
        [
            go.Scatter(
                x=days,
                y=values,
                mode="lines",
                name="Daily",
                line={"color": "#A9C1D6", "width": 1},
                hovertemplate=hover,
            ),
            go.Scatter(
                x=days,
                y=values.rolling(7, min_periods=1).mean(),
                mode="lines",
                name="7-day average",
                line={"color": PRIMARY, "width": 2.5},
                hovertemplate=hover,
            ),
        ]
    )
    fig.update_yaxes(title_text=series.unit, tickformat="~s", rangemode="tozero")
    style(fig, height=340)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.08, "x": 0})
    return fig
