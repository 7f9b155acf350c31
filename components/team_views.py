"""The leaders' landing: the team's wins and upsell outcomes headlines, linking to their pages."""

import streamlit as st

from components.deltas import (
    arrow,
    count_vs_previous,
    pct,
    vs_previous,
    vs_target,
    window_words,
)
from components.format import money
from components.navigation import page_file
from components.wins_metrics import summary
from core.reporting.landing_schemas import OutcomePeriods, TeamHeadlines
from core.upsell.analysis_schemas import Analysis, Kpi

WINS_PAGE = "pages/wins.py"
OUTCOMES_PAGE = "pages/outcomes.py"
OUTCOME_KPIS = ("valueRealization", "adoptionSuccess")


def wins_headlines(team: TeamHeadlines) -> None:
    """Render the team's wins of the window against the window before, and capture vs target."""
    named, before = window_words(team.current_window), team.previous_window
    st.subheader("Team wins")
    st.caption(f"Every CSM's verified wins reached {named} (the last 30 days).")
    wins, value, capture = st.columns(3)
    wins.metric(
        "Wins",
        team.wins,
        count_vs_previous(team.wins, team.previous_wins, before),
        "normal",
        help=f"Verified wins reached {named}, against {window_words(before)}.",
        border=True,
    )
    value.metric(
        "Value delivered",
        money(team.value) if team.money_wins else "—",
        help=f"Dollars delivered by the {team.money_wins} win(s) of {named} measured in money."
        if team.money_wins
        else f"No win of {named} is measured in dollars.",
        border=True,
    )
    m = team.capture
    if m is None or m.rate is None:
        capture.metric(
            "Achievement capture", "—", help="No win reached in the period.", border=True
        )
    else:
        delta, color = vs_target(m.rate, m.target)
        capture.metric(
            "Achievement capture",
            pct(m.rate),
            delta,
            color,
            help=f"Wins with a success record, of every win reached {named}: {summary(m)}.",
            border=True,
            delta_arrow=arrow(m.rate, m.target),
        )
    period = team.current_window  # the Wins page opens on the same days, so its figures match
    st.page_link(
        page_file(WINS_PAGE),
        label="See every win",
        icon=":material/emoji_events:",
        query_params={"from": period.first.isoformat(), "to": period.last.isoformat()},
    )


def _kpi(column, kpi: Kpi) -> None:
    delta, color = vs_target(kpi.value, kpi.target, kpi.higher_is_better)
    column.metric(
        kpi.label,
        "Not yet known" if kpi.value is None else pct(kpi.value),
        delta,
        color,
        help=f"{kpi.detail}; every plan to date.",
        border=True,
        delta_arrow=arrow(kpi.value, kpi.target),
    )


def outcome_headlines(analysis: Analysis, periods: OutcomePeriods) -> None:
    """Render value realization and adoption vs target, and the period's success rate."""
    named = window_words(periods.current_window)
    st.subheader("Upsell outcomes")
    st.caption(
        "How expansions turned out: every plan to date against our targets, and the plans "
        f"decided {named} (the last 90 days) against the 90 days before."
    )
    columns = st.columns(3)
    kpis = {k.key: k for k in analysis.kpis}
    for column, key in zip(columns[:2], OUTCOME_KPIS, strict=True):
        if key in kpis:
            _kpi(column, kpis[key])
    now, before = periods.current, periods.previous
    columns[2].metric(
        "Success rate, last 90 days",
        pct(now.success_rate),
        vs_previous(now.success_rate, before.success_rate, periods.previous_window),
        help=f"{now.success:,} of {now.decided:,} plans decided {named} succeeded (confirmed "
        f"outcome, else proposed); {before.success} of {before.decided} the 90 days before.",
        border=True,
    )
    st.page_link(
        page_file(OUTCOMES_PAGE), label="See the outcome report", icon=":material/insights:"
    )
