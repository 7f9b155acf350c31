"""The forms of the Upsell progress page: reviews, manual values, criteria and outcomes."""

import re
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from components import data, form_messages, forms, plan_tracking, upsell_data
from components.format import DIRECTION_LABELS, escape_md, score, when
from components.upsell_views import (
    FLASH,
    OUTCOME_LABELS,
    STATUS_LABELS,
)
from core.accounts.schemas import UserSummary
from core.customers.catalog import list_metrics
from core.customers.catalog_schemas import MetricOut
from core.errors import Conflict, DomainError
from core.schemas import NOTE_LENGTH, TEXT_LENGTH
from core.upsell.outcomes import CHOICES, confirm_outcome
from core.upsell.page_schemas import PlanDetail
from core.upsell.plans import criteria_changes, customize_plan
from core.upsell.progress import record_manual_values
from core.upsell.reviews import record_review
from core.upsell.schemas import CRITERION_NAME_LENGTH
from core.upsell.target_rules import MET_UNIT

CRITERIA_ERROR = "upsells_criteria_error"
CRITERIA_LABELS = {
    "metrics": "Criteria",
    "name": "Criterion",
    "metricKey": "Usage metric",
    "unit": "Unit",
    "direction": "Better when",
    "target": "Target",
    "baseline": "Baseline",
    "checkpointDays": "Checkpoint days",
}
TABLE_COLUMNS = ["name", "metric_key", "unit", "direction", "target", "baseline"]
UPDATABLE = ("direction", "target", "baseline")  # what the table changes on an existing criterion


def _run(action, message: str, **kwargs) -> bool:
    try:
        data.call(action, **kwargs)
    except DomainError as exc:
        st.error(escape_md(str(exc)), icon=":material/error:")
        return False
    upsell_data.forget()
    st.session_state[FLASH] = message
    return True


def review_defaults(plan: PlanDetail) -> tuple[int | None, str | None]:
    """Return the checkpoint a review is most likely for and the plan's computed status.

    The checkpoint: the latest one already due and still open, else the next one not reviewed.
    The assessment starts from what the data says (none before the plan is scored).
    """
    today = datetime.now(UTC).date()
    open_ = [c for c in plan.checkpoints if c.status not in ("reviewed", "skipped")]
    due = [c for c in open_ if c.due_on <= today]
    checkpoint = due[-1] if due else (open_[0] if open_ else None)
    status = getattr(plan.progress_status, "value", plan.progress_status)
    return (checkpoint.day if checkpoint else None), status


def review_form(plan: PlanDetail, user: UserSummary) -> None:
    """Record a review at a checkpoint: assessment, findings (required) and next steps."""
    days = [c.day for c in plan.checkpoints]
    due, status = review_defaults(plan)
    statuses = list(STATUS_LABELS)
    with st.form(f"review_{plan.id}", clear_on_submit=True):
        day = st.selectbox(
            "Checkpoint",
            [*days, None],
            index=days.index(due) if due else None,
            format_func=lambda d: f"Day {d}" if d else "Between checkpoints",
        )
        assessment = st.selectbox(
            "Assessment",
            statuses,
            index=statuses.index(status) if status in statuses else None,
            format_func=STATUS_LABELS.get,
            placeholder="Choose an assessment",
            help="Starts from the plan's status computed from its data.",
        )
        findings = st.text_area(
            "Findings", placeholder="What did the review find? (required)", max_chars=TEXT_LENGTH
        )
        steps = st.text_area("Next steps", placeholder="Optional", max_chars=TEXT_LENGTH)
        if st.form_submit_button("Record review", type="primary"):
            title = f"day-{day} review" if day else "review"
            if problem := forms.text("Findings", findings, TEXT_LENGTH) or forms.text(
                "Next steps", steps, TEXT_LENGTH
            ):
                st.error(escape_md(problem), icon=":material/error:")
            elif _run(
                record_review,
                f"Recorded the {title} for {plan.customer_name}.",
                measurement_id=plan.id,
                assessment=assessment,
                findings=findings,
                actor=user,
                checkpoint_day=day,
                next_steps=steps,
            ):
                st.rerun()


def manual_values_form(plan: PlanDetail, user: UserSummary) -> None:
    """Enter current values of manually measured criteria."""
    manual = [m for m in plan.metrics if m.measurement.value == "manual"]
    if not manual:
        st.caption("Every criterion of this plan is measured automatically from usage data.")
        return
    with st.form(f"manual_{plan.id}"):
        values = {
            m.name: st.number_input(
                f"{m.name} (1 = met, 0 = not met)"
                if m.unit == MET_UNIT
                else f"{m.name} ({m.unit})",
                value=None,
                key=f"mv_{m.id}",
                placeholder=f"now {plan_tracking.current_text(m)}",
                min_value=-forms.AMOUNT_BOUND,
                max_value=forms.AMOUNT_BOUND,
            )
            for m in manual
        }
        if st.form_submit_button("Save values", type="primary"):
            given = {k: v for k, v in values.items() if v is not None}
            if _run(
                record_manual_values,
                "Saved the values; the plan was rescored.",
                measurement_id=plan.id,
                values=given,
                actor=user,
            ):
                st.rerun()


def table_criteria(edited: pd.DataFrame) -> list[dict]:
    """Return the edited table's criteria: names trimmed, blank rows dropped, empty cells None.

    Of rows sharing a name the last one counts.
    """
    rows: dict[str, dict] = {}
    for record in edited.to_dict("records"):
        row = {k: None if pd.isna(v) else v for k, v in record.items()}
        name = str(row.get("name") or "").strip()
        if name:
            metric_key, unit = row.get("metric_key") or None, row.get("unit") or None
            rows[name] = {**row, "name": name, "metric_key": metric_key, "unit": unit}
    return list(rows.values())


def metric_names(metrics: list[MetricOut]) -> dict[str, str]:
    """Return {metric key: the name a table shows}, names made unique with their unit."""
    counts: dict[str, int] = {}
    for m in metrics:
        counts[m.name] = counts.get(m.name, 0) + 1
    return {m.key: m.name if counts[m.name] == 1 else f"{m.name} ({m.unit})" for m in metrics}


def _as_values(edited: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Turn the table's words back into what the plan stores: metric keys and directions."""
    keys = {name: key for key, name in names.items()}
    directions = {text: d.value for d, text in DIRECTION_LABELS.items()}
    return edited.assign(
        metric_key=edited["metric_key"].map(lambda v: keys.get(v, v)),
        direction=edited["direction"].map(lambda v: directions.get(v, v)),
    )


def customize_form(plan: PlanDetail, user: UserSummary) -> None:
    """Edit targets and directions, add or remove criteria, change checkpoint days."""
    key = f"upsell_version_{plan.id}"
    version = st.session_state.setdefault(key, plan.version)
    names = metric_names(data.call(list_metrics))
    frame = pd.DataFrame(
        [
            {
                "name": m.name,
                "metric_key": names.get(m.metric_key, m.metric_key),
                "unit": m.unit,
                "direction": DIRECTION_LABELS[m.direction],
                "target": float(m.target),
                "baseline": None if m.baseline is None else float(m.baseline),
            }
            for m in plan.metrics
        ],
        columns=TABLE_COLUMNS,
    )
    with st.form(f"customize_{plan.id}"):
        edited = st.data_editor(
            frame,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config={
                "name": st.column_config.TextColumn(
                    "Criterion", required=True, max_chars=CRITERION_NAME_LENGTH
                ),
                "metric_key": st.column_config.SelectboxColumn(
                    "Usage metric",
                    options=sorted(names.values()),
                    help="Empty for a criterion entered by hand",
                ),
                "unit": st.column_config.TextColumn(
                    "Unit", max_chars=32, help="'met' for a criterion that is done or not"
                ),
                "target": "Target",
                "baseline": "Baseline",
                "direction": st.column_config.SelectboxColumn(
                    "Better when", options=list(DIRECTION_LABELS.values()), required=True
                ),
            },
            placeholder="—",
        )
        days = st.text_input(
            "Checkpoint days", ", ".join(str(c.day) for c in plan.checkpoints), max_chars=200
        )
        if st.form_submit_button("Save criteria", type="primary"):
            _save_criteria(plan, user, edited, names, days, version)
        form_messages.show(st.session_state.pop(f"{CRITERIA_ERROR}_{plan.id}", []))


def _save_criteria(plan, user, edited, names, days, version) -> None:
    """Save the criteria table; refused entries are said next to the form, edits kept."""
    key = f"upsell_version_{plan.id}"
    try:
        picked = sorted({int(d) for d in days.replace(",", " ").split()})
    except ValueError:
        form_messages.show(["Checkpoint days: write whole numbers, e.g. 30, 60, 90."])
        return
    try:
        saved = data.call(
            customize_plan,
            measurement_id=plan.id,
            metrics=criteria_changes(
                plan.metrics, table_criteria(_as_values(edited, names)), updatable=UPDATABLE
            ),
            checkpoint_days=picked or None,
            expected_version=version,
            actor=user,
        )
    except Conflict as exc:
        st.session_state.pop(key, None)  # the next run loads the latest version
        upsell_data.forget()
        st.session_state[f"{CRITERIA_ERROR}_{plan.id}"] = [
            f"{exc} The latest criteria are loaded below."
        ]
    except DomainError as exc:
        # "metrics.2.target: …" names a cell of the table: its column says enough.
        plain = DomainError(re.sub(r"\bmetrics\.\d+\.", "", str(exc)))
        form_messages.show(form_messages.form_messages(plain, CRITERIA_LABELS))
        return
    else:
        upsell_data.forget()
        st.session_state[key] = saved.version
        st.session_state[FLASH] = "Saved the plan's criteria."
    st.rerun()


def outcome_form(plan: PlanDetail, user: UserSummary) -> None:
    """Show the proposed outcome; confirm it or override it with a reason."""
    outcome = plan.outcome
    if outcome is None:
        st.caption("An outcome is proposed once the plan reaches its last checkpoint.")
        return
    st.markdown(f"Proposed: **{OUTCOME_LABELS[outcome.proposed_status]}**")
    for reason in outcome.proposed_reasons:
        st.caption(f"• {escape_md(str(reason))}")
    if outcome.status == "no_decision":
        st.info(
            f"Closed without a decision on {when(outcome.decided_at)}: nobody confirmed the "
            "proposal within 30 days, so it counts neither as a success nor as a failure. You "
            "can still record the outcome below.",
            icon=":material/event_busy:",
        )
    elif outcome.status is not None:
        extra = f" — {escape_md(outcome.override_reason)}" if outcome.override_reason else ""
        confirmed = OUTCOME_LABELS[outcome.status]
        st.markdown(f"Confirmed: **{confirmed}** on {when(outcome.decided_at)}{extra}")
        st.caption(f"Health {score(plan.health_before)} → {score(plan.health_after)}")
        return
    elif outcome.decide_by:
        st.caption(
            f"Confirm or override by {when(outcome.decide_by)}; after that the plan closes "
            "without a decision."
        )
    options = [s.value for s in CHOICES]
    with st.form(f"outcome_{plan.id}"):
        status = st.selectbox(
            "Outcome",
            options,
            index=options.index(outcome.proposed_status),
            format_func=OUTCOME_LABELS.get,
        )
        reason = st.text_input(
            "Reason (required when it differs from the proposal)", max_chars=NOTE_LENGTH
        )
        confirmed = st.form_submit_button("Confirm outcome", type="primary")
    if confirmed and (problem := forms.line("Reason", reason, NOTE_LENGTH)):
        st.error(escape_md(problem), icon=":material/error:")
    elif confirmed and _run(
        confirm_outcome,
        f"Recorded the outcome: {OUTCOME_LABELS[status]}.",
        measurement_id=plan.id,
        status=status,
        actor=user,
        reason=reason,
    ):
        st.rerun()
