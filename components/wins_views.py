"""Wins page blocks: filters, the headline, the chart grid, the feed and confirmations."""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

import plotly.graph_objects as go
import streamlit as st

from components import forms
from components.auth import current_user
from components.cards import empty_state
from components.charts import ACCENT, HEIGHT, PRIMARY, figure
from components.format import escape_md, label, money, plural, when
from components.navigation import page_file
from core.base import Role
from core.formatting import duration, number
from core.goals.models import GoalType
from core.reporting.wins import PendingConfirmation, Slice, WinsOverview
from core.repository.consent import CS_STAFF
from core.schemas import NOTE_LENGTH

ACHIEVEMENT_PAGE = "pages/achievement.py"
FLASH = "wins_flash"
PENDING_SHOWN = 8
TOP_BARS = 10
DEFAULT_DAYS = 365
SLACK_BADGES = {
    "sent": ":green-badge[:material/campaign: Announced]",
    "pending": ":orange-badge[:material/schedule: Slack queued]",
    "in_progress": ":orange-badge[:material/schedule: Slack sending]",
    "failed": ":red-badge[:material/error: Slack retrying]",
    "dead": ":red-badge[:material/error: Slack failed]",
    "not_configured": ":gray-badge[Slack not configured]",
}


@dataclass(frozen=True)
class WinsFilters:
    """The period and filters a person chose (None means any)."""

    date_from: date | None = None
    date_to: date | None = None
    industry: str | None = None
    goal_type: GoalType | None = None

    def as_kwargs(self) -> dict:
        return asdict(self)


def filter_bar(industries: list[str], today: date) -> WinsFilters:
    """Render the period, industry and goal-type filters; return what was chosen."""
    period, industry, kind = st.columns([2, 1.5, 1.5])
    picked = period.date_input(
        "Achieved between",
        value=(today - timedelta(days=DEFAULT_DAYS), today),
        key="wins_dates",
        format="YYYY-MM-DD",
        help="Inclusive UTC days. Clear it to see every win.",
    )
    picked = tuple(picked) if isinstance(picked, tuple | list) else (picked,) if picked else ()
    chosen_industry = industry.selectbox(
        "Industry", industries, index=None, placeholder="Any industry", key="wins_industry"
    )
    chosen_type = kind.selectbox(
        "Goal type",
        list(GoalType),
        index=None,
        placeholder="Any goal type",
        key="wins_type",
        format_func=label,
    )
    return WinsFilters(
        date_from=picked[0] if picked else None,
        date_to=picked[1] if len(picked) > 1 else None,
        industry=chosen_industry,
        goal_type=chosen_type,
    )


def headline(o: WinsOverview) -> None:
    """Render the period's wins, money delivered and how fast wins come and get written up."""
    cells = [
        ("Wins", str(o.wins), "Verified wins achieved in the period"),
        (
            "Value delivered",
            money(o.value) if o.money_wins else "—",
            f"Dollars delivered by the {o.money_wins} win(s) measured in money"
            if o.money_wins
            else "No win in this period is measured in dollars yet",
        ),
        (
            "Median days to achieve",
            "—" if o.median_days is None else f"{o.median_days:.0f}",
            "Days from the goal's start to its achievement",
        ),
        (
            "Median time to document",
            duration(o.median_doc_hours),
            "From reaching the goal to its written success record",
        ),
    ]
    for column, (title, value, note) in zip(st.columns(4), cells, strict=True):
        column.metric(title, value, help=note, border=True)


def _hbars(rows: list[Slice], names: list[str], color: str, notes: list, grid=True) -> go.Figure:
    if len(rows) > TOP_BARS:  # fold the long tail so bars stay readable at a fixed height
        rest = rows[TOP_BARS - 1 :]
        other = Slice(
            label="Other", wins=sum(r.wins for r in rest), value=sum(r.value for r in rest)
        )
        rows, names = [*rows[: TOP_BARS - 1], other], [*names[: TOP_BARS - 1], "Other"]
        notes = [*notes[: TOP_BARS - 1], _wins_note(other)]
    bars = {
        "type": "bar",
        "x": [r.wins for r in rows][::-1],
        "y": names[::-1],
        "orientation": "h",
        "marker": {"color": color},
        "text": [f"{r.wins:,}" for r in rows][::-1],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": notes[::-1],
        "hovertemplate": "%{y}: %{customdata}<extra></extra>",
        "width": 0.6 if len(rows) > 3 else 0.4,
    }
    return figure(
        [bars],
        xaxis={"showticklabels": False, "showgrid": False},
        yaxis={"showgrid": False, "type": "category"},
        height=HEIGHT if grid else 34 * len(rows) + 40,
        right=24,
    )


def _wins_note(r: Slice) -> str:
    return plural(r.wins, "win") + (f", {money(r.value)} delivered" if r.value else "")


def over_time(o: WinsOverview) -> go.Figure:
    """Bars of wins per week or month across the period."""
    bars = {
        "type": "bar",
        "x": [p.start for p in o.over_time],
        "y": [p.wins for p in o.over_time],
        "marker": {"color": PRIMARY},
        "customdata": [_wins_note(p) for p in o.over_time],
        "hovertemplate": f"{o.bucket.title()} of %{{x|%b %d, %Y}}: %{{customdata}}<extra></extra>",
    }
    yaxis = {"rangemode": "tozero"}
    if max(p.wins for p in o.over_time) < 6:
        yaxis["dtick"] = 1
    return figure([bars], yaxis=yaxis, right=24)


def time_to_achieve(o: WinsOverview) -> go.Figure:
    """A histogram of days from goal start to achievement, in 30-day bins."""
    bars = {
        "type": "bar",
        "x": [b.label for b in o.days_bins],
        "y": [b.wins for b in o.days_bins],
        "marker": {"color": ACCENT},
        "hovertemplate": "%{x} days: %{y:,} wins<extra></extra>",
    }
    return figure(
        [bars],
        xaxis={"type": "category", "title": {"text": "days from goal start to achievement"}},
        yaxis={"rangemode": "tozero"},
        right=24,
    )


def _chart(title: str, fig: go.Figure, key: str, note: str | None = None) -> None:
    with st.container(border=True):
        st.markdown(f"**{title}**", help=note)
        st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def chart_grid(o: WinsOverview) -> None:
    """Render wins over time, by type, by industry, time to achieve and CSM recognition."""
    left, right = st.columns([3, 2], gap="medium")
    with left:
        _chart(f"Wins per {o.bucket}", over_time(o), "wins_over_time")
    with right:
        names = [label(r.label) for r in o.by_type]
        _chart(
            "Wins by goal type",
            _hbars(o.by_type, names, ACCENT, [_wins_note(r) for r in o.by_type]),
            "wins_by_type",
        )
    left, right = st.columns([3, 2], gap="medium")
    with left:
        median = "—" if o.median_days is None else f"{o.median_days:.0f}"
        _chart(
            "Time to achieve",
            time_to_achieve(o),
            "wins_days",
            f"Median {median} days from the goal's start to its achievement.",
        )
    with right:
        _chart(
            "Wins by industry",
            _hbars(
                o.by_industry,
                [r.label for r in o.by_industry],
                PRIMARY,
                [_wins_note(r) for r in o.by_industry],
            ),
            "wins_by_industry",
        )


def recognition(o: WinsOverview) -> None:
    """Render the CSMs with the most wins in the period."""
    if not o.recognition:
        st.caption("No CSM-owned wins in this period yet.")
        return
    notes = [
        f"{_wins_note(c)}, median {c.median_days or 0:.0f} days to achieve" for c in o.recognition
    ]
    fig = _hbars(o.recognition, [c.label for c in o.recognition], PRIMARY, notes, grid=False)
    _chart("CSM recognition", fig, "wins_csms", "CSMs whose customers won most in the period.")


def _slack_badge(status: str | None, role: Role | None) -> list[str]:
    """Return the Slack badge `role` may see: the delivery state for admins, plainer for CS."""
    if role == Role.ADMIN:
        return [SLACK_BADGES.get(status or "", ":gray-badge[No announcement]")]
    if role in CS_STAFF:
        return [
            SLACK_BADGES["sent"] if status == "sent" else ":gray-badge[Not posted to Slack yet]"
        ]
    return []


def recent_feed(o: WinsOverview, *, mine: bool) -> None:
    """Render the latest wins, each linking to its success record and evidence."""
    st.subheader("Recent wins")
    viewer = current_user()
    role = viewer.role if viewer else None
    for win in o.recent:
        with st.container(border=True, gap="xxsmall"):
            st.page_link(
                page_file(ACHIEVEMENT_PAGE),
                icon=":material/emoji_events:",
                label=f"**{escape_md(win.customer_name)}** — {escape_md(win.goal_name)}",
                query_params={"achievement": str(win.achievement_id)},
            )
            parts = [
                f":gray-badge[{when(win.achieved_at.date())}]",
                f":blue-badge[{label(win.goal_type)}]",
            ]
            if not mine:
                parts.append(f":gray-badge[CSM: {escape_md(win.csm_name or 'unassigned')}]")
            parts += _slack_badge(win.slack_status, role)
            if not win.documented:
                parts.append(":red-badge[Not documented yet]")
            st.markdown(" ".join(parts))
            st.caption(f"{_sentence(win.result)} · achieved in {win.days} days")


def _flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if not flash:
        return
    kind, message, achievement_id = flash
    if kind == "error":
        st.error(escape_md(message), icon=":material/error:")
        return
    st.success(escape_md(message), icon=":material/check_circle:")
    st.page_link(
        page_file(ACHIEVEMENT_PAGE),
        label="Open the new success record",
        icon=":material/arrow_forward:",
        query_params={"achievement": achievement_id},
    )


def _sentence(text: str) -> str:
    return escape_md(text[:1].upper() + text[1:])


def _pending_item(item: PendingConfirmation, on_confirm: Callable[[str], None], mine: bool):
    gid, held = str(item.goal_id), item.kind == "held"
    badge = ":orange-badge[:material/pan_tool: Held]" if held else ":violet-badge[Custom goal]"
    with st.container(border=True, gap="xsmall"):
        st.markdown(f"{badge} **{escape_md(item.customer_name)}** — {escape_md(item.goal_name)}")
        facts = [_sentence(item.reason)]
        if item.due_date:
            late = item.due_date < datetime.now(UTC).date()
            facts.append(f"{'overdue since' if late else 'due'} {when(item.due_date)}")
        facts += [] if mine else [f"CSM: {escape_md(item.csm_name or 'unassigned')}"]
        st.caption(" · ".join(facts))
        if held:
            st.page_link(
                page_file(ACHIEVEMENT_PAGE),
                label="Check the data first",
                icon=":material/query_stats:",
                query_params={"achievement": str(item.achievement_id)},
            )
        with st.expander("Confirm this win"), st.form(f"confirm_{gid}", border=False):
            st.text_area(
                "How did you verify it?",
                key=f"confirm_note_{gid}",
                height=80,
                max_chars=NOTE_LENGTH,
                placeholder="e.g. The customer confirmed it on the QBR call on 3 Nov",
            )
            unit = f" ({item.unit})" if item.unit else ""
            if item.target is None:
                st.caption("No number needed: confirming records the milestone.")
            else:
                target = f"Target: {number(item.target, item.unit)}."
                shown = number(item.suggested_value, item.unit)
                st.number_input(
                    f"Achieved value{unit}" + (" — optional" if held else ""),
                    value=None,
                    step=None,
                    key=f"confirm_value_{gid}",
                    min_value=-forms.AMOUNT_BOUND,
                    max_value=forms.AMOUNT_BOUND,
                    help=f"Leave empty to keep the value the data shows ({shown}). {target}"
                    if held
                    else f"The value the customer reached; it must meet the target. {target}",
                )
            st.form_submit_button("Confirm win", type="primary", on_click=on_confirm, args=(gid,))


def confirm_panel(
    items: list[PendingConfirmation], on_confirm: Callable[[str], None], *, mine: bool
) -> None:
    """Render held wins and custom goals with a confirm form each (note required)."""
    st.subheader("Needs your confirmation")
    _flash()
    if not items:
        empty_state(
            "Nothing waits for a confirmation",
            "Held wins (a lone spike in the data) and custom goals, which no "
            "metric can prove, appear here for their CSM to confirm.",
            icon=":material/task_alt:",
        )
        return
    st.caption(
        f"{len(items)} waiting. Confirming writes the success record and queues the "
        "Slack announcement and the congratulations email draft."
    )
    for item in items[:PENDING_SHOWN]:
        _pending_item(item, on_confirm, mine)
    if len(items) > PENDING_SHOWN:
        st.caption(f"Showing the first {PENDING_SHOWN}: held wins, then custom goals by due date.")
