"""Pieces of the Upsell progress page: plan table, progress charts, cards and timeline."""

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import plan_tracking
from components.cards import Card
from components.charts import PRIMARY, frame, value_axis
from components.format import escape_md, label, money, plural, score, when
from core.base import Direction
from core.formatting import number
from core.upsell.curve import LABELS
from core.upsell.models import TargetSource
from core.upsell.page_schemas import MetricView, PlanDetail, PlanRow
from core.upsell.target_rules import MET_UNIT

STATUS_LABELS = {k: v.capitalize() for k, v in LABELS.items()}
COLORS = {"on_track": "green", "exceeding": "blue", "at_risk": "orange", "behind": "red"}
BADGES = {k: f":{COLORS[k]}-badge[{v}]" for k, v in STATUS_LABELS.items()}
BADGES[None] = ":gray-badge[No data yet]"
FILTERS = {"active": "Active", **STATUS_LABELS, "completed": "Closed", None: "All"}
OUTCOME_LABELS = {
    "success": "Success",
    "partial": "Partial",
    "at_risk": "At risk",
    "failed": "Failed",
    "no_decision": "No decision",
}
CHECKPOINT_STATES = {
    "scheduled": "coming up",
    "triggered": "review open",
    "overdue": "review overdue",
    "reviewed": "reviewed",
    "skipped": "passed without a review",
}
FLASH, ERROR = "upsells_flash", "upsells_error"
EXPECTED, TARGET, BASELINE = "#9AA5B1", "#4E9F6B", "#C8553D"
TARGET_SOURCES = {
    TargetSource.TEMPLATE_UPLIFT: "Template uplift",
    TargetSource.TEMPLATE_LEVEL: "Template level",
    TargetSource.BENCHMARK: "Industry benchmark",
    TargetSource.HISTORY: "Similar upsells",
    TargetSource.STATED: "Stated on the opportunity",
    TargetSource.CSM: "Set by CSM",
}


def badge(status) -> str:
    """Return the markdown badge of a progress status."""
    return BADGES[getattr(status, "value", status)]


def status_filter() -> str | None:
    """Render the status filter; return the chosen status value (None for all)."""
    return st.segmented_control(
        "Show", list(FILTERS), format_func=FILTERS.get, default="active", key="upsells_status"
    )


def notices() -> None:
    """Show the last action's confirmation or error."""
    if flash := st.session_state.pop(FLASH, None):
        st.success(escape_md(flash), icon=":material/check_circle:")
    if error := st.session_state.pop(ERROR, None):
        st.error(escape_md(error), icon=":material/error:")


def title(customer: str, upsell: str) -> str:
    """Name a plan by its upsell, prefixed by the customer unless the upsell already says it."""
    return upsell if customer.lower() in upsell.lower() else f"{customer} — {upsell}"


def plan_state(status, outcome=None, proposed=None) -> str:
    """Say where a plan stands: active, awaiting the CSM's decision, or closed (and how)."""
    status, outcome, proposed = (getattr(v, "value", v) for v in (status, outcome, proposed))
    if status == "cancelled":
        return "Cancelled"
    if outcome == "no_decision":
        return "Closed without a decision"
    if outcome:
        return f"Closed — {OUTCOME_LABELS[outcome].lower()}"
    if proposed:
        return f"Awaiting decision — {OUTCOME_LABELS[proposed].lower()} proposed"
    return "Active"


def detail_state(plan: PlanDetail) -> str:
    """Say where an opened plan stands (see `plan_state`)."""
    outcome = plan.outcome
    return plan_state(plan.status, outcome and outcome.status, outcome and outcome.proposed_status)


def _row_status(row: PlanRow) -> str:
    state = plan_state(row.status, row.outcome, row.proposed_outcome)
    return STATUS_LABELS.get(row.progress_status, "No data yet") if state == "Active" else state


def plan_table(rows: list[PlanRow]) -> None:
    """Render the plans as a table: status, upsell, checkpoints, overdue and prediction."""
    frame = pd.DataFrame(
        {
            "Status": [_row_status(r) for r in rows],
            "Plan": [title(r.customer_name, r.upsell_name) for r in rows],
            "ARR increase": [money(r.arr_increase) for r in rows],
            "Products": [", ".join(r.products) for r in rows],
            "Days since close": [r.days_since_close for r in rows],
            "Next checkpoint": [
                f"Day {r.next_day} · {when(r.next_due)}" if r.next_day else "—" for r in rows
            ],
            # A past checkpoint can still wait for its review while the next one is scheduled.
            "Review overdue": [_overdue(r) for r in rows],
            "Predicted success": [
                None if r.predicted_success is None else float(r.predicted_success) for r in rows
            ],
        }
    )
    config = {
        "Plan": st.column_config.TextColumn(width="medium"),
        "Predicted success": st.column_config.ProgressColumn(
            min_value=0, max_value=100, format="%.0f"
        ),
    }
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def plan_picker(rows: list[PlanRow]) -> str | None:
    """Let the user pick a plan; keep it in ?plan=<id>; return the chosen id."""
    ids = [str(r.id) for r in rows]
    names = {str(r.id): title(r.customer_name, r.upsell_name) for r in rows}
    current = st.query_params.get("plan")
    picked = st.selectbox(
        "Open a plan",
        ids,
        index=ids.index(current) if current in ids else None,
        format_func=names.get,
        placeholder="Choose a plan to see its progress",
    )
    if picked and picked != current:
        st.query_params["plan"] = picked
    return picked or current


def _hline(y: float, color: str, text: str, yanchor: str) -> tuple[dict, dict]:
    """Return a dotted line across the chart at `y` and its label at the left end."""
    line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": y,
        "y1": y,
        "line": {"color": color, "dash": "dot"},
    }
    note = {
        "xref": "paper",
        "x": 0,
        "xanchor": "left",
        "yref": "y",
        "y": y,
        "yanchor": yanchor,
        "text": text,
        "showarrow": False,
    }
    return line, note


def progress_chart(metric: MetricView, plan: PlanDetail) -> go.Figure:
    """Actual values vs the expected curve, with target, baseline and checkpoint lines.

    Built as one figure description: plotly's add_hline/add_vline re-validate the whole layout
    on every call, which made a plan of six criteria cost most of a second per rerun.
    """
    hover = f"%{{x|%b %d}}: %{{y:,.1f}} {metric.unit}<extra>%{{fullData.name}}</extra>"
    traces = []
    if metric.series:
        traces.append(
            {
                "x": [p.day for p in metric.series],
                "y": [p.value for p in metric.series],
                "mode": "lines",
                "name": "Actual",
                "line": {"color": PRIMARY, "width": 2.5},
            }
        )
    elif metric.current is not None:
        at = metric.current_at.date() if metric.current_at else plan.close_date
        traces.append(
            {
                "x": [at],
                "y": [float(metric.current)],
                "mode": "markers",
                "name": "Latest value",
                "marker": {"color": PRIMARY, "size": 11},
            }
        )
    if metric.expected_curve:
        traces.append(
            {
                "x": [p.day for p in metric.expected_curve],
                "y": [p.value for p in metric.expected_curve],
                "mode": "lines",
                "name": "Expected",
                "line": {"color": EXPECTED, "dash": "dash"},
            }
        )
    lines = [_hline(float(metric.target), TARGET, "Target", "bottom")]
    if metric.baseline is not None:
        lines.append(_hline(float(metric.baseline), BASELINE, "Baseline", "top"))
    shapes = [shape for shape, _ in lines]
    notes = [note for _, note in lines]
    for c in plan.checkpoints:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "x0": c.due_on,
                "x1": c.due_on,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": "#D0D7DE"},
            }
        )
        notes.append(
            {
                "xref": "x",
                "x": c.due_on,
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "text": f"Day {c.day}",
                "showarrow": False,
            }
        )
    layout = frame(height=280, legend_y=1.15)
    layout["xaxis"].update(
        range=[
            plan.started_on - timedelta(days=32),
            plan.started_on + timedelta(days=plan.horizon_days + 5),
        ],
        type="date",
    )
    values = [float(t) for trace in traces for t in trace["y"]] + [float(metric.target)]
    layout["yaxis"].update(value_axis(metric.unit, values))
    layout.update(shapes=shapes, annotations=notes)
    scatters = [{"type": "scatter", "hovertemplate": hover, **t} for t in traces]
    return go.Figure({"data": scatters, "layout": layout})


def prediction_card(plan: PlanDetail) -> Card:
    """The predicted chance of success, saying so when no upsell has an outcome to learn from."""
    if plan.predicted_success is None:
        return Card("Predicted success", "—")
    shown = prediction_words(plan.predicted_success, plan.prediction_unlearned)
    if plan.prediction_unlearned:
        help_text = "No upsell has a confirmed outcome yet, so this is the starting estimate."
        return Card("Predicted success", shown, help=help_text)
    return Card("Predicted success", shown, help="From the outcomes of similar upsells.")


def prediction_words(predicted, unlearned: bool) -> str:
    """The predicted chance as shown: '62%', or '60% (no history yet)' for the starting prior."""
    return f"{score(predicted)}%" + (" (no history yet)" if unlearned else "")


def metric_card(metric: MetricView, plan: PlanDetail) -> None:
    """One criterion: name, figures and its chart."""
    with st.container(border=True):
        arrow = "↑" if metric.direction == Direction.HIGHER else "↓"
        st.markdown(f"**{escape_md(metric.name)}** {arrow}  ·  {label(metric.measurement)}")
        st.caption(figures_text(metric))
        plan_tracking.recency_caption(metric)
        if metric.target_source is not None:
            st.caption(target_text(metric))
        if not metric.series and metric.current is None:
            where = "usage data arrives" if metric.metric_key else "someone enters a value"
            st.caption(f":material/hourglass_empty: No values yet; the line appears once {where}.")
        st.plotly_chart(progress_chart(metric, plan), key=f"chart_{metric.id}")


def figures_text(metric: MetricView) -> str:
    """A criterion's figures: baseline → target, now, progress vs expected; a yes/no just met."""
    now = plan_tracking.current_text(metric)
    if metric.unit == MET_UNIT:  # done or not: no progress share, no expected share
        return "Met" if now == "met" else "Not met yet" if now != "—" else "Not answered yet"
    progress = "—" if metric.progress is None else f"{float(metric.progress):.0%}"
    expected = "—" if metric.expected is None else f"{float(metric.expected):.0%}"
    return escape_md(
        f"Baseline {number(metric.baseline, metric.unit)} → target "
        f"{number(metric.target, metric.unit)} · now {now} · progress {progress} "
        f"(expected {expected} by now)"
    )


def target_text(metric: MetricView) -> str:
    """Say where the target comes from, and how, unless the explanation only repeats the source."""
    source = TARGET_SOURCES[metric.target_source]
    why = (metric.target_explanation or "").strip()
    if why.rstrip(".").casefold() == source.casefold():
        why = ""
    return f"Target: **{source}**" + (f" — {escape_md(why)}" if why else "")


def _overdue(row: PlanRow) -> str:
    if not row.overdue:
        return "—"
    return f"{plural(row.overdue, 'review')}, due {when(row.overdue_since)}"


def waiting_checkpoint(plan: PlanDetail):
    """Return the oldest past checkpoint whose review is still open (None when none waits)."""
    return next((c for c in plan.checkpoints if c.status in ("triggered", "overdue")), None)


def next_checkpoint(plan: PlanDetail):
    """Return the next checkpoint still to come (the plans table shows the same one)."""
    return next((c for c in plan.checkpoints if c.status == "scheduled"), None)


def checkpoint_text(cp) -> str:
    """Name a checkpoint still to come with its due date."""
    return "—" if cp is None else f"Day {cp.day} · {when(cp.due_on)}"


def review_waiting_text(cp) -> str:
    """Name the checkpoint waiting for its review and when that review is (was) due."""
    if cp is None:
        return "—"
    text = f"Day {cp.day} ({when(cp.due_on)})"
    if cp.status == "overdue":
        return f"{text} :red[overdue since {when(cp.review_due_on)}]"
    return f"{text}, due by {when(cp.review_due_on)}" if cp.review_due_on else text


def checkpoint_cards(plan: PlanDetail) -> list[Card]:
    """The plan's next checkpoint and, apart, a past one still waiting for its review."""
    cards = [Card("Next checkpoint", checkpoint_text(next_checkpoint(plan)))]
    if waiting := waiting_checkpoint(plan):
        cards.append(Card("Review waiting", review_waiting_text(waiting)))
    return cards


def health_card(plan: PlanDetail) -> Card:
    """Health at the start and after the outcome, saying what a missing figure means."""
    before = "no score" if plan.health_before is None else score(plan.health_before)
    after = "not decided yet" if plan.health_after is None else score(plan.health_after)
    return Card("Health at start → after", f"{before} at start → {after}")


def status_reason(plan: PlanDetail) -> str | None:
    """Say why the plan has its status: the average of its criteria against the expected share."""
    known = [float(m.progress) for m in plan.metrics if m.progress is not None]
    expected = next((m.expected for m in plan.metrics if m.expected is not None), None)
    if not known or expected is None or plan.progress_status is None:
        return None
    average = sum(known) / len(known)
    status = STATUS_LABELS[getattr(plan.progress_status, "value", plan.progress_status)]
    return (
        f"{status}: its {plural(len(known), 'criterion', 'criteria')} average {average:.0%} "
        f"progress against {float(expected):.0%} expected by now. The status follows the "
        "average, so one criterion can lag while others make up for it."
    )


def checkpoint_line(cp) -> str:
    """One prepared checkpoint: its state, whether it was caught up late, its document."""
    state = CHECKPOINT_STATES.get(cp.status, label(cp.status))
    if cp.status == "overdue":
        state += f" since {when(cp.review_due_on)}"
    line = f"**Day {cp.day}** · {state}"
    if caught_up := (cp.summary or {}).get("caught_up"):
        line += f" · {escape_md(caught_up)}"
    if cp.doc_url:
        line += f" · [review document]({cp.doc_url})"
    return line


def reviews_timeline(plan: PlanDetail) -> None:
    """The reviews of a plan, newest first, with checkpoints' documents."""
    for c in plan.checkpoints:
        if c.status != "scheduled":
            st.markdown(checkpoint_line(c))
    if not plan.reviews:
        st.caption("No reviews yet. Record the first one below when a checkpoint comes due.")
    for r in plan.reviews:
        with st.container(border=True):
            day = f"Day {r.checkpoint_day} review" if r.checkpoint_day else "Plan review"
            who = escape_md(r.reviewer_name or "someone")
            st.markdown(f"**{day}** {badge(r.assessment)} — {who}, {when(r.reviewed_at)}")
            st.markdown(escape_md(r.findings))
            if r.next_steps:
                st.caption(f"Next steps: {escape_md(r.next_steps)}")
