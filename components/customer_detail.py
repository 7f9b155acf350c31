"""The detail view of one customer: facts, health factors, goals, a metric chart, contacts and
feedback, timeline."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components import charts
from components.cards import Card, empty_state, fact_row
from components.customer_contacts import contacts_and_feedback
from components.format import escape_md, label, money, score, when
from core.customers.schemas import CustomerHealthOut
from core.reporting.schemas import CustomerDetail, MetricSeries


def detail_view(
    detail: CustomerDetail,
    load_series: Callable[[str], MetricSeries],
    health: CustomerHealthOut | None = None,
) -> None:
    """Render one customer; `load_series(metric_key)` returns that metric's history."""
    c = detail.customer
    value, band = c.health_score, c.health_band
    if health and health.factors:  # the factors' mean, so the card and the Health tab agree
        value, band = health.score, health.band
    st.subheader(escape_md(c.name))
    facts = [c.industry, c.region, label(c.segment)]
    if detail.customer_since:
        facts.append(f"customer since {detail.customer_since:%b %Y}")
    if detail.use_case:
        facts.append(detail.use_case)
    if detail.external_id:
        facts.append(f"customer id {detail.external_id}")
    st.caption(escape_md(" · ".join(facts)))
    fact_row(
        [
            Card("ARR", money(c.arr)),
            Card("Segment", label(c.segment)),
            Card("CSM", escape_md(c.csm_name or "Unassigned"), detail.csm_email),
            Card(
                "Health",
                f"{score(value)} · {label(band)}",
                "Weighted mean of the health factors (see the Health tab)",
            ),
            Card("Consent", label(c.consent_level), "How far we may use their name in public"),
        ]
    )
    goals, factors, usage, feedback, timeline = st.tabs(
        [
            f"Goals ({len(detail.goals)})",
            f"Health ({len(health.factors) if health else 0} factors)",
            "Usage metrics",
            "Contacts & feedback",
            f"Timeline ({len(detail.timeline)})",
        ]
    )
    with goals:
        _goals(detail)
    with factors:
        _health(health)
    with usage:
        _usage(detail, load_series)
    with feedback:
        contacts_and_feedback(detail)
    with timeline:
        _timeline(detail)


def _goals(detail: CustomerDetail) -> None:
    if not detail.goals:
        empty_state(
            "No goals yet",
            "Goals come from success plans (API) or the CSM; achieved goals become wins.",
        )
        return
    frame = pd.DataFrame(
        [
            {
                "Goal": g.name,
                "Type": label(g.type),
                "Status": label(g.status),
                "Metric": g.metric_name or "—",
                "Baseline": None if g.baseline is None else float(g.baseline),
                "Target": None if g.target is None else float(g.target),
                "Unit": g.unit or "",
                "Due": g.due_date,
            }
            for g in detail.goals
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def _health(health: CustomerHealthOut | None) -> None:
    if health is None or not health.factors:
        empty_state(
            "No health factors yet",
            "The score appears once the CRM sends one, a goal is tracked, an upsell outcome is "
            "confirmed or adoption metrics arrive.",
        )
        return
    st.markdown(f"**Health {score(health.score)}** · {label(health.band)}")
    st.caption(
        "The score is the weighted mean of the factors below; a factor with no data is left out, "
        "not counted as zero."
    )
    frame = pd.DataFrame(
        [
            {
                "Factor": f.label,
                "Score": score(f.score),
                "Weight": f"{float(f.weight):g}",
                "Share of the score": f"{f.share:.0%}",
                "Source": f.source,
                "Updated": when(f.updated_at),
                "What it is": f.explanation,
            }
            for f in health.factors
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def _usage(detail: CustomerDetail, load_series: Callable[[str], MetricSeries]) -> None:
    if not detail.metrics:
        empty_state(
            "No usage data yet",
            "Observations arrive through the usage pipeline API and show here as daily lines.",
        )
        return
    # Metrics the customer's goals track come first: that is what people open the chart for.
    tracked = {g.metric_name for g in detail.goals}
    ordered = sorted(detail.metrics, key=lambda m: (m.name not in tracked, m.name))
    options = {m.key: m for m in ordered}
    key = st.selectbox(
        "Metric",
        list(options),
        format_func=lambda k: f"{options[k].name} ({options[k].unit})",
        key=f"metric_{detail.customer.id}",
    )
    series = load_series(key)
    if not series.points:
        empty_state(
            "No observations in the last 12 months",
            f"The latest {options[key].name} value is from {when(options[key].last_observed_at)}.",
        )
        return
    st.caption(f"Daily {escape_md(series.name.lower())} over the last 12 months.")
    st.plotly_chart(charts.metric_line(series), key=f"series_{detail.customer.id}_{key}")


def _timeline(detail: CustomerDetail) -> None:
    if not detail.timeline:
        empty_state("Nothing on the timeline yet", "Wins, reviews and notes appear here.")
        return
    for event in detail.timeline:
        st.markdown(
            f"**{when(event.occurred_at.date())}** :blue-badge[{escape_md(label(event.kind))}] "
            f"{escape_md(event.title)}"
        )
        if event.body:
            st.caption(escape_md(event.body))
