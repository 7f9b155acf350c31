"""Upsell outcomes page blocks: filters, PRD metric cards, charts, signals and learnings."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.cards import Card, metric_row
from components.charts import ACCENT, GRID, PRIMARY, style
from components.format import SEGMENT_LABELS, label
from core.upsell.analysis import ARR_BANDS
from core.upsell.schemas import Analysis, Bucket, Group, Kpi

OUTCOME_COLORS = {
    "success": "#2E7D32",
    "partial": "#F9A825",
    "at_risk": "#EF6C00",
    "failed": "#C62828",
}
ANY = "Any"
MIN_PLANS_FOR_LEARNING = 2


def pct(value: float | None) -> str:
    """Return a share as a whole percentage, or an em dash."""
    return "—" if value is None else f"{value:.0%}"


def filter_bar(options: dict[str, list[str]]) -> dict:
    """Render the filters; return them as outcomes_analysis keyword arguments."""
    cols = st.columns([1.2, 1.2, 1.2, 1, 1.2, 2])
    segments = {SEGMENT_LABELS.get(s, label(s)): s for s in ("smb", "mid_market", "enterprise")}
    choice = {
        "product": cols[0].selectbox("Product", [ANY, *options["product"]], key="oc_product"),
        "segment": segments.get(cols[1].selectbox("Segment", [ANY, *segments], key="oc_segment")),
        "industry": cols[2].selectbox("Industry", [ANY, *options["industry"]], key="oc_industry"),
        "arr_band": cols[3].selectbox("ARR band", [ANY, *ARR_BANDS], key="oc_band"),
        "sales_rep": cols[4].selectbox("Sales rep", [ANY, *options["sales_rep"]], key="oc_rep"),
    }
    picked = cols[5].date_input("Closed between", value=(), key="oc_dates", format="YYYY-MM-DD")
    picked = tuple(picked) if isinstance(picked, tuple | list) else (picked,) if picked else ()
    kwargs = {k: (None if v == ANY else v) for k, v in choice.items()}
    kwargs["date_from"] = picked[0] if picked else None
    kwargs["date_to"] = picked[1] if len(picked) > 1 else None
    return kwargs


def kpi_card(kpi: Kpi) -> Card:
    """Return one PRD metric as a card: value, target and whether it is met."""
    sign = "<" if not kpi.higher_is_better else ("=" if kpi.target == 1 else ">")
    verdict = {True: "✅", False: "⚠️", None: ""}[kpi.met]
    return Card(
        label=f"{kpi.label} {verdict}".strip(),
        value=pct(kpi.value),
        help=f"Target {sign} {kpi.target:.0%}. {kpi.detail}.",
    )


def kpi_row(analysis: Analysis) -> None:
    """Render the PRD success metrics against their targets."""
    metric_row([kpi_card(k) for k in analysis.kpis])
    hours = analysis.latency_median_hours
    st.caption(
        "Median plan latency: "
        + ("—" if hours is None else f"{hours:.1f} h")
        + f" · median time to value: {_days(analysis.overall.median_days_to_value)}"
    )


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} days"


def mix_chart(group: Group) -> go.Figure:
    """Return a bar per outcome (confirmed, else proposed)."""
    names = list(OUTCOME_COLORS)
    fig = go.Figure(
        go.Bar(
            x=[label(n) for n in names],
            y=[group.mix[n] for n in names],
            marker_color=[OUTCOME_COLORS[n] for n in names],
            text=[group.mix[n] for n in names],
            hovertemplate="%{x}: %{y} plans<extra></extra>",
        )
    )
    return style(fig)


def rate_bars(groups: list[Group], names: dict[str, str] | None = None) -> go.Figure:
    """Return success and churn rates side by side per group."""
    names = names or {}
    x = [names.get(g.value, g.value) for g in groups]
    fig = go.Figure()
    for title, values, color in (
        ("Success rate", [g.success_rate for g in groups], PRIMARY),
        ("Churn on expansion", [g.churn_rate for g in groups], "#C62828"),
    ):
        fig.add_bar(
            name=title,
            x=x,
            y=values,
            marker_color=color,
            hovertemplate="%{x}: %{y:.0%}<extra>" + title + "</extra>",
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return style(fig).update_layout(showlegend=True, barmode="group")


def realization_table(groups: list[Group]) -> pd.DataFrame:
    """Return value realization per group as a table."""
    return pd.DataFrame(
        [
            {
                "Group": g.value,
                "Decided plans": g.decided,
                "Goals met": g.met,
                "Goals": g.metrics,
                "Value realization": pct(g.value_realization),
                "Median days to value": _days(g.median_days_to_value),
            }
            for g in groups
        ]
    )


def signals_table(analysis: Analysis) -> pd.DataFrame:
    """Return the 30-day status against the final outcome (a contingency table)."""
    rows = []
    for s in analysis.signals:
        row = {"Status at day 30": label(s.signal) if s.signal != "unknown" else "Not reviewed"}
        row |= {label(o): s.outcomes.get(o, 0) for o in OUTCOME_COLORS}
        rows.append(row | {"Plans": s.total, "Succeeded": pct(s.success_rate)})
    return pd.DataFrame(rows)


def calibration_chart(buckets: list[Bucket]) -> go.Figure:
    """Return predicted vs realized success per prediction bucket, with the ideal diagonal."""
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name="Perfect calibration",
        line={"color": GRID, "dash": "dash"},
    )
    fig.add_scatter(
        x=[b.predicted for b in buckets],
        y=[b.actual for b in buckets],
        mode="lines+markers",
        name="Plans",
        marker={"size": [8 + 2 * min(b.plans, 10) for b in buckets], "color": ACCENT},
        text=[f"{b.low}–{b.high}%: {b.plans} plans" for b in buckets],
        hovertemplate="%{text}<br>predicted %{x:.0%}, succeeded %{y:.0%}<extra></extra>",
    )
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title="Predicted success")
    fig.update_yaxes(tickformat=".0%", range=[0, 1], title="Succeeded")
    return style(fig).update_layout(showlegend=True)


def learnings(analysis: Analysis) -> list[str]:
    """Return a few plain sentences the data supports (groups with too few plans are skipped)."""
    said = []
    for dim, noun, names in (("product", "product", {}), ("segment", "segment", SEGMENT_LABELS)):
        rated = [
            g
            for g in analysis.breakdowns[dim]
            if g.success_rate is not None and g.decided >= MIN_PLANS_FOR_LEARNING
        ]
        if len(rated) < 2:
            continue
        best = max(rated, key=lambda g: g.success_rate)
        worst = min(rated, key=lambda g: g.success_rate)
        if best.success_rate > worst.success_rate:
            top, low = names.get(best.value, best.value), names.get(worst.value, worst.value)
            said.append(
                f"Best {noun}: {top} ({pct(best.success_rate)} of {best.decided} plans "
                f"succeeded); weakest: {low} ({pct(worst.success_rate)} of {worst.decided})."
            )
    ahead, behind = analysis.on_track_at_30_success, analysis.behind_at_30_success
    if ahead is not None and behind is not None:
        said.append(
            f"Plans on track at day 30 succeeded {pct(ahead)} of the time; plans at risk "
            f"or behind at day 30, {pct(behind)}."
        )
    if analysis.brier_score is not None:
        said.append(
            f"The success prediction's Brier score is {analysis.brier_score:.2f} "
            "(0 is perfect; 0.25 is a coin flip)."
        )
    return said
