"""The success plans of the customer page's "Goals & plans" section: steps ticked off as they
are done, "New plan" and "Edit plan" with their steps in a table.

Ticking a step saves at once (who and when are shown under it). Entries go through
`core.goals.plans`; a refusal is shown inside the form naming the field by its label, and the
form keeps what was typed. An edit carries the plan's last save from when its form was filled: a
save after someone else's is refused, and the form is filled again from their plan.
"""

import uuid
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from components import data
from components.form_messages import form_messages, show
from components.format import escape_md, label, when
from core.accounts.schemas import UserSummary
from core.errors import Conflict, DomainError, Invalid
from core.goals.models import MilestoneStatus, PlanStatus
from core.goals.page_schemas import GoalsAndPlans, MilestoneView, PlanEntry, PlanView
from core.goals.plans import create_plan, set_milestone_done, update_plan
from core.goals.schemas import MAX_MILESTONES
from core.schemas import EARLIEST_DAY, LATEST_DAY, NAME_LENGTH

# The API's field names -> the labels the plan forms show.
LABELS = {
    "name": "Plan name",
    "ownerId": "Owner",
    "status": "Status",
    "milestones": "Milestones",
}
STATUS_BADGES = {
    PlanStatus.DRAFT: "gray",
    PlanStatus.ACTIVE: "blue",
    PlanStatus.COMPLETED: "green",
    PlanStatus.ARCHIVED: "gray",
}
COLUMNS = ["id", "order", "name", "due"]
NEW = "plan_new"
BLANK_ROWS = 3
ERROR = "plan_error"  # (plan id, message) of a step that could not be ticked


def plans_list(
    view: GoalsAndPlans,
    user: UserSummary,
    done: Callable[[str], None],
    ticked: Callable[[str], None],
) -> None:
    """List the plans with their steps as checkboxes and an edit form each.

    `done(message)` runs after a saved edit; `ticked(message)` after a step was ticked or
    undone (from the checkbox's callback, before the page runs again).
    """
    if not view.plans:
        st.caption("No success plans yet. Add one with **New plan** below.")
    goals = {g.id: g for g in view.goals}
    for plan in view.plans:
        with st.container(border=True):
            badge = f":{STATUS_BADGES[plan.status]}-badge[{label(plan.status)}]"
            st.markdown(f"**{escape_md(plan.name)}** {badge}")
            done_count = sum(m.status == MilestoneStatus.DONE for m in plan.milestones)
            facts = [
                f"Owner: {escape_md(plan.owner_name or 'nobody yet')}",
                f"started {when(plan.start_date)}",
                f"{done_count} of {len(plan.milestones)} milestones done",
            ]
            st.caption(" · ".join(facts))
            _goal_note(plan, goals)
            error = st.session_state.get(ERROR)
            if error and error[0] == plan.id:
                st.session_state.pop(ERROR)
                show([error[1]])
            for step in plan.milestones:
                _step(plan, step, user, ticked)
            with st.expander("Edit plan", icon=":material/edit:"):
                _edit_form(plan, view, user, done)


def _goal_note(plan: PlanView, goals: dict) -> None:
    goal = goals.get(plan.goal_id)
    if plan.won:
        st.caption(":material/emoji_events: Every milestone was done: the win is recorded.")
    elif goal is not None:
        st.caption(
            f"When every milestone is done, the win “{escape_md(goal.name)}” is recorded "
            "(within minutes) and documented."
        )
    else:
        st.caption("No goal counts these milestones, so finishing them records no win.")
    if plan.external_id:
        st.caption(
            "This plan comes from another system; its next update there may replace its milestones."
        )


def _step(
    plan: PlanView, step: MilestoneView, user: UserSummary, ticked: Callable[[str], None]
) -> None:
    key = f"step_{step.id}_{step.status.value}"
    name = step.name + (" (skipped)" if step.status == MilestoneStatus.SKIPPED else "")
    due = f" — due {when(step.due_date)}" if step.due_date else ""
    st.checkbox(
        escape_md(f"{name}{due}"),
        value=step.status == MilestoneStatus.DONE,
        key=key,
        on_change=_tick,
        args=(plan.id, step, key, user, ticked),
        # A done milestone of a won plan stays done (core refuses the undo too).
        disabled=plan.won and step.status == MilestoneStatus.DONE,
    )
    if step.status == MilestoneStatus.DONE and step.completed_at:
        who = f" by {step.completed_by}" if step.completed_by else ""
        st.caption(escape_md(f"Done {when(step.completed_at)}{who}"))


def _tick(plan_id, step: MilestoneView, key: str, user: UserSummary, ticked) -> None:
    """Save a ticked (or unticked) step; on refusal the box shows what is stored again."""
    done = bool(st.session_state.get(key))
    try:
        data.call(set_milestone_done, milestone_id=step.id, done=done, actor=user)
    except DomainError as problem:
        st.session_state[key] = not done
        st.session_state[ERROR] = (plan_id, str(problem))
        return
    ticked(f"Ticked off “{step.name}”." if done else f"“{step.name}” is open again.")


def new_plan_form(view: GoalsAndPlans, user: UserSummary, done: Callable[[str], None]) -> None:
    """Render "New plan" with a table of milestones; on success call `done(message)`."""
    generation = st.session_state.setdefault(f"{NEW}_gen", 0)
    key = f"{NEW}_{generation}"
    blank = _table(
        [{"id": None, "order": i + 1, "name": None, "due": None} for i in range(BLANK_ROWS)]
    )
    default_owner = view.owner_id if any(p.id == view.owner_id for p in view.owners) else user.id
    with st.expander("New plan", icon=":material/playlist_add:"), st.form(key, border=False):
        entry = _fields(key, view, None, default_owner, blank)
        if not st.form_submit_button("Create plan", type="primary"):
            return
        try:
            plan = data.call(create_plan, customer_id=view.customer_id, entry=entry(), actor=user)
        except (ValidationError, DomainError) as problem:
            show(_messages(problem))
            return
    st.session_state[f"{NEW}_gen"] = generation + 1  # the next form starts empty
    done(f"Created the plan “{plan.name}”; tick its milestones off as they are done.")


def _edit_form(
    plan: PlanView, view: GoalsAndPlans, user: UserSummary, done: Callable[[str], None]
) -> None:
    generation = st.session_state.setdefault(f"plan_edit_gen_{plan.id}", 0)
    key = f"plan_edit_{plan.id}_{generation}"
    # The plan as the form was filled from it: its last save and its steps stay put (so the
    # table's edits keep their rows) until the form is saved or someone else saves first.
    read_at = st.session_state.setdefault(f"{key}_read_at", plan.updated_at)
    steps = st.session_state.setdefault(
        f"{key}_rows",
        [
            {"id": str(m.id), "order": i + 1, "name": m.name, "due": m.due_date}
            for i, m in enumerate(plan.milestones)
        ],
    )
    with st.form(key, border=False):
        if stale := st.session_state.pop(f"plan_edit_stale_{plan.id}", None):
            show(stale)
        entry = _fields(key, view, plan, plan.owner_id, _table(steps))
        if not st.form_submit_button("Save plan", type="primary"):
            return
        try:
            data.call(
                update_plan,
                plan_id=plan.id,
                entry=entry(),
                expected_updated_at=read_at,
                actor=user,
            )
        except Conflict as problem:
            # Someone else saved first: show their plan, with the message, to start over.
            st.session_state[f"plan_edit_stale_{plan.id}"] = _messages(problem)
            _next_form(plan.id, key, generation)
            st.rerun()
        except (ValidationError, DomainError) as problem:
            show(_messages(problem))
            return
    _next_form(plan.id, key, generation)
    done(f"Saved the plan “{entry().name}”.")


def _next_form(plan_id, key: str, generation: int) -> None:
    """Fill the plan's edit form afresh from the stored plan on the next run."""
    for part in ("read_at", "rows"):
        st.session_state.pop(f"{key}_{part}", None)
    st.session_state[f"plan_edit_gen_{plan_id}"] = generation + 1


def _fields(
    key: str,
    view: GoalsAndPlans,
    plan: PlanView | None,
    owner_id: uuid.UUID | None,
    rows: pd.DataFrame,
) -> Callable[[], PlanEntry]:
    """Render the plan's fields and its steps table; return a function building the entry."""
    owners = {p.id: p.name for p in view.owners}
    if plan is not None and plan.owner_id is not None and plan.owner_id not in owners:
        # Kept visible so a save does not drop the owner silently; core asks for another one.
        owners[plan.owner_id] = f"{plan.owner_name or 'Someone'} (no longer a CS user)"
    ids = list(owners)
    left, middle, right = st.columns([2, 1.2, 1])
    name = left.text_input(
        "Plan name",
        value=plan.name if plan else "",
        max_chars=NAME_LENGTH,
        key=f"{key}_name",
        placeholder="e.g. Q1 rollout",
    )
    owner = middle.selectbox(
        "Owner",
        ids,
        index=ids.index(owner_id) if owner_id in owners else None,
        format_func=owners.get,
        placeholder="No owner yet",
        key=f"{key}_owner",
    )
    statuses = list(PlanStatus)
    status = right.selectbox(
        "Status",
        statuses,
        index=statuses.index(plan.status if plan else PlanStatus.ACTIVE),
        format_func=label,
        key=f"{key}_status",
    )
    edited = st.data_editor(
        rows,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        placeholder="—",  # an empty cell, not the word "None"
        key=f"{key}_steps",
        column_config={
            "id": None,
            "order": st.column_config.NumberColumn(
                "Order", min_value=1, step=1, help="Milestones are kept in this order"
            ),
            "name": st.column_config.TextColumn("Milestone", max_chars=NAME_LENGTH),
            "due": st.column_config.DateColumn(
                "Due date", min_value=EARLIEST_DAY, max_value=LATEST_DAY
            ),
        },
    )
    st.caption(
        "One row per milestone; rows without a name are left out. Once every milestone is "
        "done, the plan's win (“Complete” and its name) is recorded and documented."
        if plan is None
        else "One row per milestone; remove a row to remove the milestone. Ticks are kept."
    )

    def entry() -> PlanEntry:
        steps = _steps(edited)
        if not steps:
            raise Invalid("milestones: add at least one milestone with a name.")
        return PlanEntry(name=name.strip(), owner_id=owner, status=status, milestones=steps)

    return entry


def _table(rows: list[dict]) -> pd.DataFrame:
    """The steps table; due dates typed as dates, so the editor hands edits back as dates."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["due"] = pd.to_datetime(frame["due"])
    return frame


def _steps(frame: pd.DataFrame) -> list[dict]:
    """Return the table's named milestones in their order (rows without an order last)."""
    found = []
    for i, row in enumerate(frame.to_dict("records")):
        name = _cell(row.get("name"))
        if name is None or not str(name).strip():
            continue
        order, due, ident = _cell(row.get("order")), _cell(row.get("due")), _cell(row.get("id"))
        if isinstance(due, str):
            due = _cell(pd.to_datetime(due, errors="coerce"))
        if isinstance(due, datetime):
            due = due.date()
        step = {
            "id": uuid.UUID(str(ident)) if ident else None,
            "name": str(name).strip(),
            "due_date": due if isinstance(due, date) else None,
        }
        found.append(((order is None, float(order or 0), i), step))
    return [step for _, step in sorted(found, key=lambda pair: pair[0])]


def _cell(value):
    """A table cell's value, None when empty."""
    if value is None:
        return None
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # a list or the like: not a scalar
        return value


def _messages(problem: Exception) -> list[str]:
    """Return the plan form's messages; a milestone is named by its row."""
    rows = {
        f"milestones.{i}.{field}": f"Milestone {i + 1}{suffix}"
        for i in range(MAX_MILESTONES)
        for field, suffix in (("name", ""), ("due_date", " due date"))
    }
    return form_messages(problem, {**LABELS, **rows})
