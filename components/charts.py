"""Plotly figure builders; each returns a go.Figure styled the same calm way."""

import pandas as pd
import plotly.graph_objects as go

from components.format import BAND_COLORS, label, money, unit_label
from core.formatting import is_money_unit
from core.reporting.schemas import MetricSeries, MonthPoint, Slice
from core.upsell.target_rules import MET_UNIT

PRIMARY = "#2F6690"
ACCENT = "#3A9AB0"
GRID = "#E6EBF0"
HEIGHT = 300


def frame(
    *,
    height: int = HEIGHT,
    legend_y: float | None = None,
    right: int = 8,
    top: int = 8,
) -> dict:
    """Return the product's chart frame as a layout: transparent, quiet grid, legend when asked.

    A figure built in one go from this layout skips plotly's costly one-by-one updates.
    """
    layout = {
        "height": height,
        "margin": {"l": 8, "r": right, "t": top, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": legend_y is not None,
        "hoverlabel": {"bgcolor": "white"},
        "xaxis": {"showgrid": False, "zeroline": False},
        "yaxis": {"gridcolor": GRID, "zeroline": False},
    }
    if legend_y is not None:
        layout["legend"] = {"orientation": "h", "y": legend_y, "x": 0}
    return layout


def style(
    fig: go.Figure,
    *,
    height: int = HEIGHT,
    legend_y: float | None = None,
    right: int = 8,
    top: int = 8,
) -> go.Figure:
    """Apply the product's chart frame (see `frame`) to every axis of a built figure."""
    layout = frame(height=height, legend_y=legend_y, right=right, top=top)
    xaxis, yaxis = layout.pop("xaxis"), layout.pop("yaxis")
    fig.update_layout(layout)
    fig.update_xaxes(xaxis)
    fig.update_yaxes(yaxis)
    return fig


def value_axis(unit: str | None, values: list[float] = ()) -> dict:
    """Return the value axis of a metric's chart, in the metric's own terms.

    A 0/1 criterion (unit "met") reads "Not met"/"Met"; dollars get "$" and K/M; small values
    keep their decimals instead of SI prefixes ("500m" for 0.5), and whole counts whole ticks.
    """
    unit = (unit or "").strip()
    if unit == MET_UNIT:
        return {"tickvals": [0, 1], "ticktext": ["Not met", "Met"], "range": [-0.1, 1.1]}
    if is_money_unit(unit):
        return {"tickprefix": "$", "tickformat": "~s", "title": {"text": ""}}
    axis = {"title": {"text": unit_label(unit)}}
    largest = max((abs(v) for v in values), default=0)
    if largest >= 10_000:
        axis["tickformat"] = "~s"
    elif all(float(v).is_integer() for v in values):
        axis.update(count_axis(largest))  # counts: no half an escalation
    else:
        axis["tickformat"] = ",~r"
    return axis


def figure(
    traces: list[dict],
    *,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    height: int = HEIGHT,
    legend_y: float | None = None,
    right: int = 8,
    top: int = 8,
    **layout,
) -> go.Figure:
    """Build a figure in one go inside the product's frame; `traces` are dicts with a "type".

    `xaxis` and `yaxis` add to the frame's axes; other keyword arguments are layout settings.
    """
    spec = frame(height=height, legend_y=legend_y, right=right, top=top)
    spec["xaxis"].update(xaxis or {})
    spec["yaxis"].update(yaxis or {})
    spec.update(layout)
    return go.Figure({"data": traces, "layout": spec})


def count_axis(largest: float) -> dict:
    """Return an axis of whole counts: ticks 0, 1, 2 … while they fit, never '0.5'."""
    return {"tickformat": ",d", "dtick": 1} if largest <= 5 else {"tickformat": ",d"}


def money_bars(slices: list[Slice]) -> go.Figure:
    """Vertical bars of amounts per category (e.g. ARR by segment)."""
    bars = {
        "type": "bar",
        "x": [label(s.label) for s in slices],
        "y": [float(s.value) for s in slices],
        "text": [money(s.value) for s in slices],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": PRIMARY},
        "hovertemplate": "%{x}: %{text}<extra></extra>",
    }
    return figure([bars], yaxis={"tickprefix": "$", "tickformat": "~s", "rangemode": "tozero"})


def count_bars(slices: list[Slice], *, limit: int = 12) -> go.Figure:
    """Horizontal bars of counts, largest on top; the rest fold into 'Other'."""
    top = list(slices[:limit])
    rest = sum(float(s.value) for s in slices[limit:])
    labels = [s.label for s in top] + (["Other"] if rest else [])
    values = [float(s.value) for s in top] + ([rest] if rest else [])
    bars = {
        "type": "bar",
        "x": values[::-1],
        "y": labels[::-1],
        "orientation": "h",
        "text": [f"{v:,.0f}" for v in values[::-1]],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": ACCENT},
        "hovertemplate": "%{y}: %{x:,.0f} customers<extra></extra>",
    }
    return figure(
        [bars], xaxis={"showgrid": False, "showticklabels": False}, yaxis={"showgrid": False}
    )


def health_donut(slices: list[Slice]) -> go.Figure:
    """A donut of customers per health band, in traffic-light colours."""
    shown = [s for s in slices if s.value]
    total = sum(float(s.value) for s in shown)
    pie = {
        "type": "pie",
        "labels": [label(s.label) for s in shown],
        "values": [float(s.value) for s in shown],
        "marker": {"colors": [BAND_COLORS[s.label] for s in shown], "line": {"color": "white"}},
        "hole": 0.62,
        "sort": False,
        "direction": "clockwise",
        "texttemplate": "%{value:,.0f}",
        "hovertemplate": "%{label}: %{value:,.0f} (%{percent})<extra></extra>",
    }
    return figure(
        [pie],
        showlegend=True,
        legend={"orientation": "v", "x": 1.0, "y": 0.5},
        annotations=[
            {"text": f"<b>{total:,.0f}</b><br>customers", "showarrow": False, "font": {"size": 14}}
        ],
    )


def monthly_upsells(points: list[MonthPoint]) -> go.Figure:
    """Bars of upsells closed per month with their added ARR on hover."""
    bars = {
        "type": "bar",
        "x": [_month_label(p, i) for i, p in enumerate(points)],
        "y": [p.count for p in points],
        "customdata": [money(p.arr) for p in points],
        "marker": {"color": PRIMARY},
        "hovertemplate": "%{x}: %{y:,} closed, %{customdata} ARR<extra></extra>",
    }
    yaxis = {"rangemode": "tozero"}
    if max((p.count for p in points), default=0) < 6:
        yaxis["dtick"] = 1
    return figure([bars], xaxis={"tickangle": 0}, yaxis=yaxis)


def _month_label(point: MonthPoint, index: int) -> str:
    month = point.month.strftime("%b")
    return f"{month}<br>{point.month.year}" if index == 0 or point.month.month == 1 else month


def metric_line(series: MetricSeries) -> go.Figure:
    """Daily values of one metric (thin) with their 7-day average (bold), from zero."""
    days = [p.day for p in series.points]
    values = pd.Series([float(p.value) for p in series.points], dtype="float64")
    hover = f"%{{x|%b %d, %Y}}: %{{y:,.1f}} {series.unit}<extra>%{{fullData.name}}</extra>"
    lines = [
        {
            "type": "scatter",
            "x": days,
            "y": values.tolist(),
            "mode": "lines",
            "name": "Daily",
            "line": {"color": "#A9C1D6", "width": 1},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "x": days,
            "y": values.rolling(7, min_periods=1).mean().tolist(),
            "mode": "lines",
            "name": "7-day average",
            "line": {"color": PRIMARY, "width": 2.5},
            "hovertemplate": hover,
        },
    ]
    return figure(
        lines,
        yaxis={**value_axis(series.unit, values.tolist()), "rangemode": "tozero"},
        height=340,
        legend_y=1.08,
    )
