"""The goals of the customer page's "Goals & plans" section: the list, "New goal" and "Edit".

Entries go through `core.goals.editing` (the API's goal rules); a refusal is shown inside the
form, naming the field by its label, and the form keeps what was typed. An edit carries the
goal's version from when its form was filled: a save after someone else's is refused, and the
form is filled again from their version, the message saying so.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime

import streamlit as st
from pydantic import ValidationError

from components import data, forms
from components.form_messages import form_messages, show
from components.format import escape_md, label, when
from core.accounts.schemas import UserSummary
from core.base import Direction
from core.errors import Conflict, DomainError
from core.formatting import number
from core.goals.editing import create_goal, update_goal
from core.goals.models import AchievementStatus, GoalStatus, GoalType
from core.goals.page_schemas import GoalEntry, GoalLine, GoalsAndPlans, MetricChoice
from core.schemas import EARLIEST_DAY, LATEST_DAY, NAME_LENGTH, TEXT_LENGTH

# The API's field names -> the labels the goal form shows.
LABELS = {
    "type": "Type",
    "name": "Name",
    "description": "Description",
    "metric": "Metric",
    "baseline": "Baseline",
    "target": "Target",
    "direction": "Better when",
    "startDate": "Start date",
    "dueDate": "Due date",
    "milestones": "Milestones (a checklist is a success plan: add one below)",
}
# Success-plan goals come with a plan ("New plan"), not from this form.
NEW_TYPES = [t for t in GoalType if t != GoalType.SUCCESS_PLAN]
DIRECTIONS = {
    None: "As the metric says",
    Direction.HIGHER: "Higher is better",
    Direction.LOWER: "Lower is better",
}
STATUS_BADGES = {
    GoalStatus.ACTIVE: "blue",
    GoalStatus.MET_AT_START: "gray",
    GoalStatus.PENDING_CONFIRMATION: "orange",
    GoalStatus.ACHIEVED: "green",
    GoalStatus.MISSED: "red",
    GoalStatus.CANCELLED: "gray",
}
NEW = "goal_new"


def _type_words(message: str) -> str:
    """Say goal types in a message by their labels: 'a kpi goal' -> 'a KPI goal'."""
    for kind in GoalType:
        word = label(kind)
        article = "an" if word[0] in "AEIOU" else "a"
        message = message.replace(f"a {kind.value} goal", f"{article} {word} goal")
        message = message.replace(f"{kind.value} goals", f"{word} goals")
    return message


def messages(problem: Exception) -> list[str]:
    """Return the goal form's messages for a refused entry."""
    return [_type_words(m) for m in form_messages(problem, LABELS)]


def goal_summary(goal: GoalLine) -> str:
    """Describe a goal in one line of plain words (Markdown-escaped)."""
    parts = [f"**{escape_md(goal.name)}**", label(goal.type)]
    if goal.metric_key:
        numbers = f"{number(goal.baseline, goal.unit)} → {number(goal.target, goal.unit)}"
        if goal.baseline is None:
            numbers = f"target {number(goal.target, goal.unit)}"
        metric = goal.metric_name or goal.metric_key
        # Escaped: "$40K → $55K" would read as a formula.
        parts.append(escape_md(f"{metric}: {numbers}, {DIRECTIONS[goal.direction].lower()}"))
    elif goal.milestones_total:
        parts.append(f"{goal.milestones_done} of {goal.milestones_total} milestones done")
    elif goal.type == GoalType.CUSTOM:
        parts.append("confirmed by a CSM")
    parts.append(f"due {when(goal.due_date)}" if goal.due_date else "no due date")
    badge = f":{STATUS_BADGES[goal.status]}-badge[{label(goal.status)}]"
    return " · ".join(parts) + f" {badge}"


def goals_list(view: GoalsAndPlans, user: UserSummary, done: Callable[[str], None]) -> None:
    """List the customer's goals, each with its edit form; `done(message)` after a save."""
    if not view.goals:
        st.caption("No goals yet. Add one with **New goal** below.")
    for goal in view.goals:
        with st.container(border=True):
            st.markdown(goal_summary(goal))
            if goal.description:
                st.caption(escape_md(goal.description))
            with st.expander("Edit", icon=":material/edit:"):
                _edit_form(goal, view.metrics, user, done)


def new_goal_form(view: GoalsAndPlans, user: UserSummary, done: Callable[[str], None]) -> None:
    """Render "New goal"; on success call `done(message)`."""
    generation = st.session_state.setdefault(f"{NEW}_gen", 0)
    key = f"{NEW}_{generation}"
    with st.expander("New goal", icon=":material/add_task:"), st.form(key, border=False):
        entry = _fields(key, None, view.metrics, NEW_TYPES)
        submitted = st.form_submit_button("Create goal", type="primary")
        if not submitted:
            return
        try:
            goal = data.call(create_goal, customer_id=view.customer_id, entry=entry(), actor=user)
        except (ValidationError, DomainError) as problem:
            show(messages(problem))
            return
    st.session_state[f"{NEW}_gen"] = generation + 1  # the next form starts empty
    done(f"Created the goal “{goal.name}”.")


def _edit_form(goal: GoalLine, metrics, user: UserSummary, done: Callable[[str], None]) -> None:
    generation = st.session_state.setdefault(f"goal_edit_gen_{goal.id}", 0)
    key = f"goal_edit_{goal.id}_{generation}"
    # The version the form was filled from: the fields keep it (and what is typed) until saved.
    version = st.session_state.setdefault(f"{key}_version", goal.version)
    won = goal.win in (AchievementStatus.VERIFIED, AchievementStatus.HELD)
    if won:
        st.caption(
            "This goal already has a win, so what it measures stays as it is; its name, "
            "description and due date can still change."
        )
    with st.form(key, border=False):
        if stale := st.session_state.pop(f"goal_edit_stale_{goal.id}", None):
            show(stale)
        types = NEW_TYPES if goal.type in NEW_TYPES else list(GoalType)
        entry = _fields(key, goal, metrics, types, locked=won)
        if not st.form_submit_button("Save goal", type="primary"):
            return
        try:
            data.call(
                update_goal,
                goal_id=goal.id,
                entry=entry(),
                expected_version=version,
                actor=user,
            )
        except Conflict as problem:
            if goal.version == version:  # not someone else's save: a rule, shown in place
                show(messages(problem))
                return
            # Someone else saved first: show their version, with the message, to start over.
            st.session_state[f"goal_edit_stale_{goal.id}"] = messages(problem)
            _next_form(goal.id, key, generation)
            st.rerun()
        except (ValidationError, DomainError) as problem:
            show(messages(problem))
            return
    _next_form(goal.id, key, generation)
    done(f"Saved the goal “{entry().name}”.")


def _next_form(goal_id, key: str, generation: int) -> None:
    """Fill the goal's edit form afresh from the stored goal on the next run."""
    st.session_state.pop(f"{key}_version", None)
    st.session_state[f"goal_edit_gen_{goal_id}"] = generation + 1


def _fields(
    key: str,
    goal: GoalLine | None,
    metrics: list[MetricChoice],
    types: list[GoalType],
    *,
    locked: bool = False,
) -> Callable[[], GoalEntry]:
    """Render the goal's fields; return a function building the entry from them."""
    today = datetime.now(UTC).date()
    by_key = {m.key: m for m in metrics}
    left, right = st.columns(2)
    name = left.text_input(
        "Name", value=goal.name if goal else "", max_chars=NAME_LENGTH, key=f"{key}_name"
    )
    kind = right.selectbox(
        "Type",
        types,
        index=types.index(goal.type) if goal else 0,
        format_func=label,
        key=f"{key}_type",
        disabled=locked,
    )
    keys = list(by_key)
    metric = left.selectbox(
        "Metric",
        keys,
        index=keys.index(goal.metric_key) if goal and goal.metric_key in by_key else None,
        format_func=lambda k: f"{by_key[k].name} ({by_key[k].unit})",
        placeholder="No metric (custom goals)",
        key=f"{key}_metric",
        disabled=locked,
        help="From the metrics catalogue; the unit and the usual direction come with it.",
    )
    directions = list(DIRECTIONS)
    direction = right.selectbox(
        "Better when",
        directions,
        index=directions.index(goal.direction) if goal else 0,
        format_func=DIRECTIONS.get,
        key=f"{key}_direction",
        disabled=locked,
    )
    baseline = left.number_input(
        "Baseline",
        value=None if goal is None or goal.baseline is None else float(goal.baseline),
        min_value=-forms.AMOUNT_BOUND,
        max_value=forms.AMOUNT_BOUND,
        placeholder="Where the customer starts (optional)",
        key=f"{key}_baseline",
        disabled=locked,
    )
    target = right.number_input(
        "Target",
        value=None if goal is None or goal.target is None else float(goal.target),
        min_value=-forms.AMOUNT_BOUND,
        max_value=forms.AMOUNT_BOUND,
        placeholder="What counts as achieved",
        key=f"{key}_target",
        disabled=locked,
    )
    start = left.date_input(
        "Start date",
        value=goal.start_date if goal else today,
        min_value=EARLIEST_DAY,
        max_value=LATEST_DAY,
        key=f"{key}_start",
        disabled=locked,
    )
    due = right.date_input(
        "Due date",
        value=goal.due_date if goal else None,
        min_value=EARLIEST_DAY,
        max_value=LATEST_DAY,
        key=f"{key}_due",
    )
    description = st.text_area(
        "Description",
        value=(goal.description or "") if goal else "",
        max_chars=TEXT_LENGTH,
        placeholder="Optional: what the customer wants to achieve and why",
        key=f"{key}_description",
    )

    def entry() -> GoalEntry:
        return GoalEntry(
            type=kind,
            name=name.strip(),
            description=description.strip() or None,
            metric=metric,
            baseline=baseline,
            target=target,
            direction=direction,
            start_date=start,
            due_date=_day(due),
        )

    return entry


def _day(value) -> date | None:
    return value if isinstance(value, date) else None
