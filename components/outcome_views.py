"""Upsell outcomes page blocks: filters, success measures, charts, signals, learnings, predictions.

Groups are shown by name: products by their catalogue name (`products`, key -> name), segments,
ARR bands and sales reps in words; a chart's points carry their group's key (`customdata`) so a
selection can drill down to the plans behind it (`components.outcome_drill`).
"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.charts import ACCENT, GRID, PRIMARY, style
from components.deltas import arrow, pct, target_words, vs_previous, vs_target, window_words
from components.format import SEGMENT_LABELS, escape_md, label, money, plural, when
from components.navigation import page_file
from core.formatting import duration, plain
from core.reporting.landing_schemas import OutcomePeriods
from core.upsell.analysis import ARR_BANDS, TARGETS
from core.upsell.analysis_schemas import Analysis, Bucket, Group, Kpi, KpiRow, PlanPrediction
from core.upsell.prediction import ARR_BAND_LIMITS, K

OUTCOME_COLORS = {
    "success": "#2E7D32",
    "partial": "#F9A825",
    "at_risk": "#EF6C00",
    "failed": "#C62828",
}
ANY = "Any"
UPSELLS_PAGE = "pages/upsells.py"
ROWS_SHOWN = 15
MIN_PLANS_FOR_LEARNING = 2
TARGET_REALIZATION = TARGETS["valueRealization"]
KPIS_PER_ROW = 3
# Shares are labelled as percentages, so a 0%/100% axis never reads as a yes/no in numbers.
SHARE_TICKS = {
    "tickvals": [i / 5 for i in range(6)],
    "ticktext": [f"{i * 20}%" for i in range(6)],
}
EARLY_WORDS = {"on_track": "on track or ahead at day 30", "lagging": "at risk or behind at day 30"}
_LOW, _MID, _HIGH = (money(limit) for limit in ARR_BAND_LIMITS)
BAND_WORDS = dict(
    zip(
        ARR_BANDS,
        (
            f"under {_LOW} added ARR",
            f"{_LOW}–{_MID} added ARR",
            f"{_MID}–{_HIGH} added ARR",
            f"over {_HIGH} added ARR",
        ),
        strict=True,
    )
)


def group_name(dimension: str, value: str | None, products: dict[str, str]) -> str:
    """Return a group's name in words: a product's name, a segment's label, an ARR band."""
    if value is None:
        return "All plans"
    if dimension == "product":
        return products.get(value, value)
    if dimension == "segment":
        return SEGMENT_LABELS.get(value, label(value))
    if dimension == "arrBand":
        return BAND_WORDS.get(value, value)
    if dimension == "salesRep" and value == "unassigned":
        return "No sales rep"
    return value


def filter_bar(options: dict[str, list[str]], products: dict[str, str]) -> dict:
    """Render the filters; return them as outcomes_analysis keyword arguments."""
    cols = st.columns([1.2, 1.2, 1.2, 1, 1.2, 2])
    segments = {SEGMENT_LABELS.get(s, label(s)): s for s in ("smb", "mid_market", "enterprise")}
    choice = {
        "product": cols[0].selectbox(
            "Product",
            [ANY, *options["product"]],
            key="oc_product",
            format_func=lambda code: code if code == ANY else products.get(code, code),
        ),
        "segment": segments.get(cols[1].selectbox("Segment", [ANY, *segments], key="oc_segment")),
        "industry": cols[2].selectbox("Industry", [ANY, *options["industry"]], key="oc_industry"),
        "arr_band": cols[3].selectbox(
            "ARR band",
            [ANY, *ARR_BANDS],
            key="oc_band",
            format_func=lambda band: BAND_WORDS.get(band, band),
        ),
        "sales_rep": cols[4].selectbox("Sales rep", [ANY, *options["sales_rep"]], key="oc_rep"),
    }
    picked = cols[5].date_input("Closed between", value=(), key="oc_dates", format="YYYY-MM-DD")
    picked = tuple(picked) if isinstance(picked, tuple | list) else (picked,) if picked else ()
    kwargs = {k: (None if v == ANY else v) for k, v in choice.items()}
    kwargs["date_from"] = picked[0] if picked else None
    kwargs["date_to"] = picked[1] if len(picked) > 1 else None
    return kwargs


def kpi_card(kpi: Kpi) -> None:
    """Render one success measure: its value, the gap to its target (green when met), counts."""
    delta, color = vs_target(kpi.value, kpi.target, kpi.higher_is_better)
    st.metric(
        kpi.label,
        "Not yet known" if kpi.value is None else pct(kpi.value),
        delta or target_words(kpi.target, kpi.higher_is_better),
        color,
        help=f"{kpi.detail}. {target_words(kpi.target, kpi.higher_is_better).capitalize()}; all "
        "plans to date (coverage and plan latency: every upsell, whatever the filters).",
        border=True,
        delta_arrow=arrow(kpi.value, kpi.target),
    )


def kpi_row(analysis: Analysis) -> None:
    """Render the success measures against their targets, then the rows behind them."""
    for start in range(0, len(analysis.kpis), KPIS_PER_ROW):  # room for the targets' words
        row = analysis.kpis[start : start + KPIS_PER_ROW]
        for column, kpi in zip(st.columns(KPIS_PER_ROW), row, strict=False):
            with column:
                kpi_card(kpi)
    st.caption(
        f"Median plan latency: {duration(analysis.latency_median_hours)} from the deal's close"
        f" · median time to value: {_days(analysis.overall.median_days_to_value)}"
    )
    for kpi in analysis.kpis:
        if kpi.rows or kpi.denominator:
            kpi_details(kpi)


def _kpi_row_text(row: KpiRow) -> str:
    name = f"**{escape_md(row.customer_name)}** — {escape_md(row.upsell_name)}"
    if row.kind == "late":
        fact = f"closed {when(row.since)}, planned {duration(row.hours)} later"
    elif row.kind == "unplanned":
        fact = f"closed {when(row.since)}, still no plan after {duration(row.hours)}"
    else:
        missing = ", ".join(row.metrics) or "the plan has no metrics"
        fact = f"first checkpoint {when(row.since)}; no data by then for {missing}"
    return f"{name} · {escape_md(fact)}"


def kpi_details(kpi: Kpi) -> None:
    """Render one KPI's expander: its counts in words, its distribution and the rows behind it."""
    with st.expander(f"{kpi.label}: {kpi.detail}"):
        if kpi.bins:
            st.markdown(" · ".join(f"{b.label}: **{b.count}**" for b in kpi.bins))
        if kpi.p50_hours is not None:
            st.caption(
                f"Half of the plans came within {duration(kpi.p50_hours)} of the close, nine "
                f"in ten within {duration(kpi.p90_hours)}."
            )
        if not kpi.rows:
            st.caption("Nothing holds this figure back.")
            return
        for row in kpi.rows[:ROWS_SHOWN]:
            if row.measurement_id is None:
                st.markdown(f":material/chevron_right: {_kpi_row_text(row)}")
                continue
            st.page_link(
                page_file(UPSELLS_PAGE),
                label=_kpi_row_text(row),
                query_params={"plan": str(row.measurement_id)},
                icon=":material/chevron_right:",
            )
        if kpi.rows_total > ROWS_SHOWN:
            st.caption(f"Showing {ROWS_SHOWN} of {kpi.rows_total:,}.")


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} days"


def period_row(periods: OutcomePeriods) -> None:
    """Render the decided plans of the last period against the period before, both named."""
    now, before = periods.current, periods.previous
    named = window_words(periods.current_window)
    st.markdown(
        f"**Outcomes decided {named}** (confirmed, else proposed; a plan counts in the period "
        f"its outcome was decided), against {window_words(periods.previous_window)}"
    )
    realization, color = vs_target(now.value_realization, TARGET_REALIZATION)
    cells = (
        (
            "Decided plans",
            f"{now.decided}",
            f"{now.decided - before.decided:+d} vs {before.decided} before",
            "gray",
            "Plans whose outcome was decided in the period.",
        ),
        (
            "Success rate",
            pct(now.success_rate),
            vs_previous(now.success_rate, before.success_rate, periods.previous_window),
            "normal",
            f"{now.success} of {plural(now.decided, 'decided plan')} succeeded "
            f"({before.success} of {before.decided} the period before).",
        ),
        (
            "Realization this period",
            pct(now.value_realization),
            vs_previous(now.value_realization, before.value_realization, periods.previous_window),
            "normal",
            f"{now.met} of {plural(now.metrics, 'goal')} of those plans reached their target "
            f"({before.met} of {before.metrics} the period before).",
        ),
        (
            "Realization vs target",
            pct(now.value_realization),
            realization or target_words(TARGET_REALIZATION),
            color,
            f"Our {target_words(TARGET_REALIZATION)} of goals reached.",
        ),
    )
    for column, (title, value, delta, tone, note) in zip(
        st.columns(len(cells)), cells, strict=True
    ):
        column.metric(
            title,
            value,
            delta,
            tone,
            help=note,
            border=True,
            # "on target" has no sign for "auto" to follow
            delta_arrow="auto" if tone != "gray" and delta and delta[0] in "+-" else "off",
        )


def mix_chart(group: Group) -> go.Figure:
    """Return a bar per outcome (confirmed, else proposed); each bar carries its outcome."""
    names = list(OUTCOME_COLORS)
    fig = go.Figure(
        go.Bar(
            x=[label(n) for n in names],
            y=[group.mix[n] for n in names],
            marker_color=[OUTCOME_COLORS[n] for n in names],
            text=[group.mix[n] for n in names],
            customdata=names,
            hovertext=[plural(group.mix[n], "plan") for n in names],
            hovertemplate="%{x}: %{hovertext}<extra></extra>",
        )
    )
    return style(fig)


def rate_bars(groups: list[Group], dimension: str, products: dict[str, str]) -> go.Figure:
    """Return success and churn rates side by side per group; each bar carries its group."""
    x = [group_name(dimension, g.value, products) for g in groups]
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
            customdata=[g.value for g in groups],
            hovertemplate="%{x}: %{y:.0%}<extra>" + title + "</extra>",
        )
    fig.update_yaxes(range=[0, 1], **SHARE_TICKS)
    return style(fig).update_layout(showlegend=True, barmode="group")


def realization_table(groups: list[Group], products: dict[str, str]) -> pd.DataFrame:
    """Return value realization per group as a table, each group by name."""
    return pd.DataFrame(
        [
            {
                "Group": group_name(g.dimension, g.value, products),
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
        mode="lines+markers",  # counts in the hover: labels beside the markers overlapped
        name="Confirmed outcomes",
        marker={"size": [8 + 2 * min(b.plans, 10) for b in buckets], "color": ACCENT},
        customdata=[[f"{b.low}-{b.high}", plural(b.plans, "plan")] for b in buckets],
        hovertemplate="Predicted %{customdata[0]}%: %{customdata[1]}<br>on average %{x:.0%} "
        "predicted, %{y:.0%} succeeded<extra></extra>",
    )
    fig.update_xaxes(range=[0, 1], title="Predicted success", **SHARE_TICKS)
    fig.update_yaxes(range=[0, 1], title="Succeeded", **SHARE_TICKS)
    return style(fig).update_layout(showlegend=True)


def learnings(analysis: Analysis, products: dict[str, str]) -> list[str]:
    """Return a few plain sentences the data supports (groups with too few plans are skipped)."""
    said = []
    for dim, noun in (("product", "product"), ("segment", "segment")):
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
            top, low = (escape_md(group_name(dim, g.value, products)) for g in (best, worst))
            said.append(
                f"Best {noun}: {top} ({pct(best.success_rate)} of {plural(best.decided, 'plan')} "
                f"succeeded); weakest: {low} ({pct(worst.success_rate)} of {worst.decided})."
            )
    ahead, behind = analysis.on_track_at_30_success, analysis.behind_at_30_success
    if ahead is not None and behind is not None:
        on_track = _decided_in(analysis, ("on_track", "exceeding"))
        lagging = _decided_in(analysis, ("at_risk", "behind"))
        said.append(
            f"Plans on track at day 30 succeeded {pct(ahead)} of the time (of "
            f"{plural(on_track, 'decided plan')}); plans at risk or behind at day 30, "
            f"{pct(behind)} (of {plural(lagging, 'decided plan')})."
        )
    return said


def _decided_in(analysis: Analysis, states: tuple[str, ...]) -> int:
    """How many decided plans were in one of `states` at their day-30 check."""
    return sum(s.total for s in analysis.signals if s.signal in states)


def prediction_checked(analysis: Analysis) -> bool:
    """Say whether enough outcomes were confirmed to check the predictions."""
    return analysis.scored_outcomes >= analysis.min_scored_outcomes


def prediction_check(analysis: Analysis) -> str:
    """Return the Brier score against the base-rate forecast in plain words."""
    n = analysis.scored_outcomes
    if not prediction_checked(analysis):
        return (
            f"Not enough confirmed outcomes yet ({n} of {analysis.min_scored_outcomes}) to check "
            "the predictions. Only outcomes a person confirmed count, not proposed ones."
        )
    said = (
        f"On {n} confirmed outcomes the predictions score {plain(analysis.brier_score)} "
        "(Brier score: the mean squared gap between chance and result; 0 is perfect). "
        f"Always predicting the base rate ({pct(analysis.scored_base_rate)} succeeded) would "
        f"score {plain(analysis.brier_reference)}"
    )
    skill = analysis.brier_skill
    if skill is None:
        return said + ", since every one of them ended the same way; there is nothing to beat yet."
    if skill <= 0:
        return said + ", so the predictions are no better than the base rate yet."
    return said + f", so the predictions are {skill:.0%} better than the base rate."


def _words(step: dict, features: dict) -> str:
    value = step["value"]
    if step["feature"] == "earlySignal":
        return EARLY_WORDS.get(value, label(value))
    if step["feature"] == "product":
        return features.get("productName") or value or "no product"
    if step["feature"] == "arrBand":
        return BAND_WORDS.get(value, value)
    return label(value)


def prediction_reasons(basis: dict) -> list[str]:
    """Return the main reasons behind a plan's predicted chance, in plain words."""
    if not basis:
        return ["Not predicted yet"]
    if "features" not in basis:
        return ["Predicted before reasons were kept; the next tracking run explains it"]
    features, steps = basis["features"], basis["steps"]
    if not basis["history"]:
        reasons = [
            f"No history yet: no upsell has a confirmed outcome, so every plan starts at the "
            f"assumed {basis['prior']:.0%}"
        ]
    else:
        # The closest group with enough examples to weigh, else the closest with any.
        known = [i for i, step in enumerate(steps) if step["n"] >= K] or [
            i for i, step in enumerate(steps) if step["n"]
        ]
        if known:
            step = steps[known[-1]]
            alike = ", ".join(_words(s, features) for s in steps[: known[-1] + 1])
            few = " (few so far, so they weigh little)" if step["n"] < K else ""
            won = f"{step['successes']} of {step['n']} succeeded"
            reasons = [f"Similar upsells ({alike}): {won}{few}"]
        else:
            reasons = ["No similar upsell has a confirmed outcome yet"]
        base = basis["base"]
        reasons.append(f"all confirmed upsells: {base['successes']} of {base['n']} succeeded")
    early = features.get("earlySignal")
    reasons.append(f"early adoption {EARLY_WORDS[early]}" if early else "no 30-day check yet")
    return reasons


def chance(row: PlanPrediction) -> str:
    """Return a plan's predicted chance, or why there is no meaningful number."""
    if row.predicted_success is None:
        return "Not predicted yet"
    if row.basis.get("history") == 0:
        return "No history yet"
    return f"{float(row.predicted_success):.0f}%"


def predictions_table(rows: list[PlanPrediction]) -> pd.DataFrame:
    """Return active plans with their chance of success and its main reasons."""
    return pd.DataFrame(
        [
            {
                "Customer": r.customer,
                "Upsell": r.upsell,
                "Chance of success": chance(r),
                "Why": "; ".join(prediction_reasons(r.basis)) + ".",
            }
            for r in rows
        ]
    )
