"""One customer at a glance: the header a CSM reads before a call, the section picker, the
health section (factors, weights, readings over time) and the usage chart."""

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import charts
from components.cards import Card, empty_state, fact_row
from components.format import CONSENT_LABELS, escape_md, label, money, score, when
from core.base import Consent, Role
from core.customers.health import PASS_MINUTES, pending
from core.customers.schemas import CustomerHealthOut
from core.reporting.schemas import CustomerDetail, HealthReading, MetricSeries

HEALTH, GOALS, UPSELLS, PEOPLE, USAGE, TIMELINE, VALUE_PACK = (
    "health",
    "goals",
    "upsells",
    "people",
    "usage",
    "timeline",
    "value-pack",
)
SECTION_LABELS = {
    HEALTH: "Health",
    GOALS: "Goals, plans & wins",
    UPSELLS: "Upsells",
    PEOPLE: "Contacts & feedback",
    USAGE: "Usage",
    TIMELINE: "Timeline",
    VALUE_PACK: "Value pack",
}
SECTION_ICONS = {
    HEALTH: ":material/monitor_heart:",
    GOALS: ":material/flag:",
    UPSELLS: ":material/trending_up:",
    PEOPLE: ":material/forum:",
    USAGE: ":material/show_chart:",
    TIMELINE: ":material/history:",
    VALUE_PACK: ":material/folder_zip:",
}
SECTION_KEY = "section"  # also the query parameter: ?customer=<id>&section=timeline
STAFF = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})
CONSENT_MEANINGS = {
    Consent.INTERNAL_ONLY: "Not to be named or quoted outside the company",
    Consent.ANONYMIZED: "May be described and quoted, never named",
    Consent.LOGO: "May be named with its logo; quotes without the speaker's name",
    Consent.FULL_PUBLIC: "May be named and quoted, speakers by name",
}
MOMENTS = {
    "plan_start": "when the plan for {upsell} started",
    "plan_outcome": "after the outcome of {upsell}",
    "current": "now",
}


def header(detail: CustomerDetail) -> None:
    """Render the customer's name, key facts and the numbers a CSM needs before a call."""
    c = detail.customer
    # The stored score, as the customer list, Home and the CRM show it.
    value, band = c.health_score, c.health_band
    st.subheader(escape_md(c.name))
    facts = [c.industry, c.region]
    if detail.use_case:
        facts.append(detail.use_case)
    if detail.website:
        facts.append(detail.website)
    st.caption(escape_md(" · ".join(facts)))
    factors = len(detail.health.factors) if detail.health else 0
    cards = [
        Card("ARR", money(c.arr)),
        Card("Segment", label(c.segment)),
        Card("Owner CSM", escape_md(c.csm_name or "Unassigned"), detail.csm_email),
        Card(
            "Health",
            f"{score(value)} · {label(band)}",
            _health_note(detail.health) if factors else "No health factor yet: see Health below",
        ),
        Card("Consent", CONSENT_LABELS[c.consent_level], CONSENT_MEANINGS[c.consent_level]),
        Card(
            "Customer since",
            f"{detail.customer_since:%b %Y}" if detail.customer_since else "Not recorded",
        ),
    ]
    if detail.last_renewal:
        cards.append(Card("Last renewal", when(detail.last_renewal), "As the CRM reported it"))
    fact_row(cards)
    ids = f"Customer id {escape_md(detail.external_id)}" if detail.external_id else None
    st.caption(" · ".join(filter(None, [glance(detail), ids])))


_PENDING = (
    "A factor below changed after this score was computed; the score updates at the next "
    f"health pass, within {PASS_MINUTES} minutes."
)


def _health_note(health: CustomerHealthOut) -> str:
    if pending(health):
        return f"Factors changed; updates within {PASS_MINUTES} minutes: see Health below"
    return f"Weighted mean of {_count(len(health.factors), 'health factor')}: see Health below"


def glance(detail: CustomerDetail) -> str:
    """Say in one line what is open and what happened lately."""
    open_goals = sum(g.status in ("active", "pending_confirmation") for g in detail.goals)
    active = [u for u in detail.upsells if u.plan_status == "active"]
    parts = [
        _count(open_goals, "open goal"),
        _count(len(detail.wins), "win"),
    ]
    if detail.upsells:
        parts.append(_count(len(active), "upsell plan") + " running")
    if detail.timeline:
        parts.append(f"last activity {when(detail.timeline[0].occurred_at.date())}")
    return " · ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def sections(role: Role, *, value_pack: bool) -> list[str]:
    """Return the sections `role` may open, in order."""
    shown = [HEALTH, GOALS]
    if role in STAFF:
        shown.append(UPSELLS)
    shown += [PEOPLE, USAGE, TIMELINE]
    if value_pack:
        shown.append(VALUE_PACK)
    return shown


def section_picker(options: list[str]) -> str:
    """Let the reader choose one section (kept in the address); return it."""
    # Bound to the address: the widget reads ?section= itself, and a default equal to the asked
    # section would drop it from the address (a bound value equal to its default is left out).
    chosen = st.segmented_control(
        "Section",
        options,
        format_func=lambda s: f"{SECTION_ICONS[s]} {SECTION_LABELS[s]}",
        default=HEALTH,
        key=SECTION_KEY,
        required=True,
        bind="query-params",
        label_visibility="collapsed",
    )
    return chosen or HEALTH


def health_section(detail: CustomerDetail) -> None:
    """Render the score, what it is made of and how it moved."""
    health = detail.health
    if health is None or not health.factors:
        empty_state(
            "No health factors yet",
            "The score appears once the CRM sends one, a goal is tracked, an upsell outcome is "
            "confirmed or adoption metrics arrive.",
        )
        _readings(detail.health_readings)
        return
    st.markdown(f"**Health {score(health.score)}** · {label(health.band)}")
    st.caption(
        f"The score is the weighted mean of the {_count(len(health.factors), 'factor')} below; "
        "a factor with no data is left out, not counted as zero. "
        + (f"Computed {when(health.computed_at)}." if health.computed_at else "Not computed yet.")
    )
    if pending(health):
        st.info(_PENDING, icon=":material/schedule:")
    frame = pd.DataFrame(
        [
            {
                "Factor": f.label,
                "Score": score(f.score),
                "Weight": f"{float(f.weight):g}",
                "Share of the score": f"{f.share:.0%}",
                "Source": f.source,
                "Updated": when(f.updated_at),
                "What it is": f.explanation or "—",
            }
            for f in health.factors
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    _readings(detail.health_readings)


def _readings(readings: list[HealthReading]) -> None:
    st.markdown("**Trend**")
    if len(readings) < 2:
        st.caption(
            "No health history yet: the app keeps the current score, and the score when an "
            "upsell plan starts and after its outcome. A trend appears once there are two."
        )
        return
    said = [f"{score(r.score)} {_moment(r)}, {when(r.at)}" for r in readings]
    st.caption(f"{len(readings)} stored scores: " + "; ".join(said) + ".")
    st.plotly_chart(_trend(readings), key="health_trend")


def _moment(reading: HealthReading) -> str:
    return MOMENTS[reading.moment].format(upsell=escape_md(reading.upsell_name))


def _trend(readings: list[HealthReading]) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=[r.at for r in readings],
            y=[float(r.score) for r in readings],
            mode="lines+markers",
            line={"color": charts.PRIMARY, "width": 2},
            hovertemplate="%{x|%b %d, %Y}: %{y:.0f}<extra></extra>",
        )
    )
    fig.update_yaxes(range=[0, 100], title_text="Health")
    charts.style(fig, height=240)
    return fig


def usage_section(detail: CustomerDetail, load_series: Callable[[str], MetricSeries]) -> None:
    """Render one chosen metric's last 12 months."""
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
