"""Figures built in one go keep the product's chart frame and say what the old builders said."""

from datetime import date

from components.charts import GRID, figure, monthly_upsells
from core.reporting.schemas import MonthPoint


def test_a_figure_keeps_the_frame_and_adds_its_own_axes_and_layout():
    fig = figure(
        [{"type": "bar", "x": ["a"], "y": [1]}],
        yaxis={"rangemode": "tozero"},
        height=220,
        right=24,
        barmode="stack",
    )
    assert fig.layout.height == 220 and fig.layout.margin.r == 24
    assert fig.layout.barmode == "stack" and fig.layout.showlegend is False
    assert fig.layout.yaxis.gridcolor == GRID and fig.layout.yaxis.rangemode == "tozero"
    assert fig.layout.xaxis.showgrid is False and fig.layout.xaxis.zeroline is False


def test_a_legend_shows_below_only_when_asked():
    fig = figure([{"type": "scatter", "x": [1], "y": [1]}], legend_y=-0.15)
    assert fig.layout.showlegend is True and fig.layout.legend.y == -0.15


def test_few_upsells_a_month_get_whole_number_ticks():
    few = [MonthPoint(month=date(2026, m, 1), count=m, arr=1000) for m in (1, 2)]
    many = [MonthPoint(month=date(2026, m, 1), count=10 * m, arr=1000) for m in (1, 2)]
    assert monthly_upsells(few).layout.yaxis.dtick == 1
    assert monthly_upsells(many).layout.yaxis.dtick is None
