"""The success-template editor: criteria and milestones as editable rows, checkpoint days.

The editor starts from the template as it was when the admin opened it and saves with that
version. When someone else saved in between, the save is refused with a loud message; the
admin's rows stay in the editor and they choose: load the saved template (dropping their rows)
or save their rows over it.
"""

import re
from decimal import Decimal, InvalidOperation

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from components import data
from components.catalog_views import criteria_table
from components.format import SEGMENT_LABELS, escape_md, label
from components.forms import in_words
from core.accounts.schemas import UserSummary
from core.base import Direction, Segment
from core.customers.catalog_schemas import MetricOut
from core.customers.models import MetricKind
from core.errors import Conflict, DomainError, Invalid
from core.upsell.catalog import save_template
from core.upsell.catalog_schemas import (
    CRITERION_NAME_LENGTH,
    MILESTONE_NAME_LENGTH,
    ProductOut,
    SuccessTemplateIn,
    SuccessTemplateOut,
)
from core.upsell.targets import DEFAULT_DAYS

T = "cat_tpl"
state = st.session_state

CRITERION, METRIC, UNIT, BETTER, KIND = "Criterion", "Metric", "Unit", "Better when", "Kind"
ALL = "Uplift, every segment (%)"
PER_SEGMENT = {s: f"{SEGMENT_LABELS[s]} uplift (%)" for s in Segment}
LEVEL = "Target level"
BY_HAND = "Entered by hand"
NAME, WATCHES, THRESHOLD, SHARE, DUE = (
    "Name (optional)",
    "Watches",
    "Threshold",
    "Share of the way (%)",
    "Due day",
)
CRITERIA_COLUMNS = [CRITERION, METRIC, UNIT, BETTER, KIND, ALL, *PER_SEGMENT.values(), LEVEL]
MILESTONE_COLUMNS = [NAME, WATCHES, THRESHOLD, SHARE, DUE]
# The API's field names -> the columns and inputs the editor shows.
FIELDS = {
    "criteria": {
        "name": CRITERION,
        "metricKey": METRIC,
        "measurement": METRIC,
        "unit": UNIT,
        "direction": BETTER,
        "type": KIND,
        "uplift": ALL,
        "upliftBySegment": "Segment uplift",
        "target": LEVEL,
    },
    "milestones": {
        "name": NAME,
        "criterion": WATCHES,
        "metricKey": WATCHES,
        "threshold": THRESHOLD,
        "share": SHARE,
        "dueDay": DUE,
    },
}
LABELS = {"checkpointDays": "Checkpoint days", "criteria": "Criteria", "milestones": "Milestones"}
_ROW = re.compile(r"^(criteria|milestones)[.\[](\d+)\]?\.(\w+)(.*)$")
HUNDRED = Decimal(100)


def _cell(value) -> str | None:
    """Return a data-editor cell as text, None when empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value).strip() or None


def _text(value) -> str:
    """Return a stored number as the editor shows it ('' when there is none): 0.15 → '15'."""
    return "" if value is None else f"{Decimal(value).normalize():f}"


def _pct(share) -> str:
    return "" if share is None else _text(Decimal(share) * HUNDRED)


def _number(value, where: str) -> Decimal | None:
    """Read a number typed in a cell ('15', '+15%', '1,200'); Invalid naming the cell."""
    text = _cell(value)
    if text is None:
        return None
    try:
        number = Decimal(text.removesuffix("%").removeprefix("+").replace(",", "").strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise Invalid(f"{where}: '{text}' is not a number.")
    return number


def _share(value, where: str) -> Decimal | None:
    percent = _number(value, where)
    return None if percent is None else (percent / HUNDRED).quantize(Decimal("0.0001"))


def _camel(name: str) -> str:
    head, *tail = name.split("_")
    return head + "".join(part.title() for part in tail)


def in_editor_words(problem: Exception) -> list[str]:
    """Name a refusal's field as the editor shows it: 'Criteria, row 2, Metric: …'."""
    if isinstance(problem, ValidationError):
        raw = [
            ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e["loc"]).replace(
                ".[", "["
            )
            + ": "
            + e["msg"].removeprefix("Value error, ")
            for e in problem.errors()
        ]
    else:
        raw = [str(problem)]
    named = []
    for message in raw:
        field, _, rest = message.partition(": ")
        if found := _ROW.match(field):
            part, row, name, _ = found.groups()
            column = FIELDS[part].get(_camel(name), _camel(name))
            named.append(f"{LABELS[part]}, row {int(row) + 1}, {column}: {rest}")
        else:
            whole = re.sub(r"\[\d+\]$", "", field)  # checkpointDays[2] -> Checkpoint days
            shown = LABELS.get(_camel(whole))
            named.extend([f"{shown}: {rest}"] if shown else in_words(message, LABELS))
    return named


def _metric_labels(metrics: list[MetricOut]) -> dict[str, str]:
    """Return {metric key: the name the editor shows}, names made unique with their unit."""
    counts: dict[str, int] = {}
    for m in metrics:
        counts[m.name] = counts.get(m.name, 0) + 1
    return {m.key: m.name if counts[m.name] == 1 else f"{m.name} ({m.unit})" for m in metrics}


def _criteria_frame(
    template: SuccessTemplateOut | None, names: dict[str, str], metrics: dict[str, MetricOut]
) -> pd.DataFrame:
    rows = []
    for c in template.criteria if template else []:
        # A metric's unit, direction and kind are shown from the catalogue, never sent.
        m = metrics.get(c.metric_key)
        row = {
            CRITERION: c.name,
            METRIC: names.get(c.metric_key, BY_HAND) if c.metric_key else BY_HAND,
            UNIT: m.unit if m else c.unit,
            BETTER: label(m.direction if m else c.direction),
            KIND: label(m.kind if m else c.type),
            ALL: _pct(c.uplift),
            LEVEL: _text(c.target),
        }
        for s, column in PER_SEGMENT.items():
            row[column] = _pct((c.uplift_by_segment or {}).get(s))
        rows.append(row)
    return pd.DataFrame(rows, columns=CRITERIA_COLUMNS, dtype="object")


def _milestones_frame(template: SuccessTemplateOut | None) -> pd.DataFrame:
    rows = []
    if template:
        by_key = {c.metric_key: c.name for c in template.criteria if c.metric_key}
        for m in template.milestones:
            rows.append(
                {
                    NAME: m.name or "",
                    WATCHES: m.criterion or by_key.get(m.metric_key),
                    THRESHOLD: _text(m.threshold),
                    SHARE: _pct(m.share),
                    DUE: str(m.due_day),
                }
            )
    return pd.DataFrame(rows, columns=MILESTONE_COLUMNS, dtype="object")


def _criteria_body(frame: pd.DataFrame, keys: dict[str, str]) -> list[dict]:
    directions = {label(d): d.value for d in Direction}
    kinds = {label(k): k.value for k in MetricKind}
    body = []
    for i, row in enumerate(frame.to_dict("records")):
        if all(_cell(v) is None for v in row.values()):
            continue  # a blank row the editor added
        at = f"Criteria, row {i + 1}"
        key = keys.get(_cell(row[METRIC]))
        criterion = {"name": _cell(row[CRITERION]) or "", "metricKey": key}
        if key is None:
            criterion |= {
                "unit": _cell(row[UNIT]),
                "direction": directions.get(_cell(row[BETTER])),
                "type": kinds.get(_cell(row[KIND])),
            }
        segments = {s.value: _share(row[c], f"{at}, {c}") for s, c in PER_SEGMENT.items()}
        segments = {s: v for s, v in segments.items() if v is not None}
        criterion |= {
            "uplift": _share(row[ALL], f"{at}, {ALL}"),
            "upliftBySegment": segments or None,
            "target": _number(row[LEVEL], f"{at}, {LEVEL}"),
        }
        body.append(criterion)
    return body


def _milestones_body(frame: pd.DataFrame, criteria: list[dict]) -> list[dict]:
    keys = {c["name"]: c["metricKey"] for c in criteria}
    body = []
    for i, row in enumerate(frame.to_dict("records")):
        if all(_cell(v) is None for v in row.values()):
            continue
        at = f"Milestones, row {i + 1}"
        watched = _cell(row[WATCHES])
        # A criterion that reads a metric is watched by its metric, as the demo templates do.
        where = {"metricKey": keys[watched]} if keys.get(watched) else {"criterion": watched or ""}
        due = _number(row[DUE], f"{at}, {DUE}")
        if due is not None and due != due.to_integral_value():
            raise Invalid(f"{at}, {DUE}: must be a whole number of days.")
        body.append(
            {
                "name": _cell(row[NAME]),
                **where,
                "threshold": _number(row[THRESHOLD], f"{at}, {THRESHOLD}"),
                "share": _share(row[SHARE], f"{at}, {SHARE}"),
                "dueDay": None if due is None else int(due),
            }
        )
    return body


def _days(text: str) -> list[int] | str:
    """Return the checkpoint days typed, or what is wrong with them."""
    days = []
    for part in text.replace(",", " ").split():
        if not part.isdigit():
            return f"Checkpoint days: '{part}' is not a whole number of days (e.g. 30, 60, 90)."
        days.append(int(part))
    return days


def _open(code: str, current: SuccessTemplateOut | None) -> None:
    """Start the editor from the template as stored now."""
    state[f"{T}_base_{code}"] = current
    state[f"{T}_version_{code}"] = current.version if current else None
    state[f"{T}_gen_{code}"] = state.get(f"{T}_gen_{code}", 0) + 1


def template_editor(
    products: list[ProductOut],
    templates: list[SuccessTemplateOut],
    metrics: list[MetricOut],
    user: UserSummary,
) -> None:
    """Pick a product and edit its success template."""
    if not products:
        st.caption("Templates belong to products: add a product on the Products tab first.")
        return
    by_code = {p.code: p for p in products}
    stored = {t.product_code: t for t in templates}
    code = st.selectbox(
        "Product",
        list(by_code),
        format_func=lambda c: by_code[c].name + ("" if c in stored else " — no template yet"),
        key=f"{T}_product",
    )
    current = stored.get(code)
    if f"{T}_base_{code}" not in state:
        _open(code, current)
    if flash := state.pop(f"{T}_flash", None):
        st.success(escape_md(flash), icon=":material/check_circle:")
    if current is not None:
        st.markdown(f"**Saved template** (version {current.version})")
        criteria_table(current)
    base, version = state[f"{T}_base_{code}"], state[f"{T}_version_{code}"]
    moved = current is not None and version != current.version
    if moved:
        st.error(
            f"Someone else saved this template (now version {current.version}) since you "
            "opened it. Saving your rows now is refused: load their version, or save your rows "
            "over theirs.",
            icon=":material/sync_problem:",
        )
    _editor(code, base, current, metrics, user, moved)


def _editor(code, base, current, metrics, user, moved: bool) -> None:
    gen = state[f"{T}_gen_{code}"]
    names = _metric_labels(metrics)
    keys = {v: k for k, v in names.items()}
    st.markdown("**Edit**")
    st.caption(
        "One row per criterion. With a metric, the unit, which way is better and the kind come "
        "from the catalogue, and the target is the customer's baseline at close moved by the "
        "uplift in percent (15 = 15% better; per segment if you like; empty: 25/20/15% by "
        "segment); the target level is used where a customer has no baseline. Entered by hand: "
        "give the unit, which way is better and a target level ('met' as unit for done or not)."
    )
    text = st.column_config.TextColumn
    criteria = st.data_editor(
        _criteria_frame(base, names, {m.key: m for m in metrics}),
        placeholder="—",
        key=f"{T}_criteria_{code}_{gen}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            CRITERION: text(CRITERION, required=True, max_chars=CRITERION_NAME_LENGTH),
            METRIC: st.column_config.SelectboxColumn(
                METRIC, options=[BY_HAND, *keys], required=True, default=BY_HAND
            ),
            UNIT: text(UNIT, help="Entered by hand only", max_chars=32),
            BETTER: st.column_config.SelectboxColumn(
                BETTER, options=[label(d) for d in Direction], help="Entered by hand only"
            ),
            KIND: st.column_config.SelectboxColumn(
                KIND, options=[label(k) for k in MetricKind], help="Entered by hand only"
            ),
            ALL: text(ALL, max_chars=12),
            **{c: text(c, max_chars=12) for c in PER_SEGMENT.values()},
            LEVEL: text(LEVEL, max_chars=24),
        },
    )
    names_now = [n for n in criteria[CRITERION].tolist() if _cell(n)]
    days_text = st.text_input(
        "Checkpoint days",
        ", ".join(str(d) for d in (base.checkpoint_days if base else DEFAULT_DAYS)),
        key=f"{T}_days_{code}_{gen}",
        max_chars=100,
        help="Days after the close a review is due; the last one ends the plan. Up to 365.",
    )
    st.caption(
        "Milestones: a criterion reaching a threshold, or a share of the way from baseline to "
        "target (50 = halfway), by a day. Empty: the first two usage or adoption criteria get "
        "a quarter of the way by day 30 and half by day 60."
    )
    milestones = st.data_editor(
        _milestones_frame(base),
        placeholder="—",
        key=f"{T}_milestones_{code}_{gen}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            NAME: text(NAME, max_chars=MILESTONE_NAME_LENGTH),
            WATCHES: st.column_config.SelectboxColumn(WATCHES, options=names_now, required=True),
            THRESHOLD: text(THRESHOLD, max_chars=24),
            SHARE: text(SHARE, max_chars=12),
            DUE: text(DUE, max_chars=3),
        },
    )
    save, load, overwrite = st.columns([1, 2, 2])
    saving = save.button("Save template", type="primary", key=f"{T}_save_{code}")
    over = False
    if moved:
        if load.button("Load their version (drops your rows)", key=f"{T}_load_{code}"):
            _open(code, current)
            st.rerun()
        over = overwrite.button("Save my rows over theirs", key=f"{T}_over_{code}")
    if not (saving or over):
        return
    expected = current.version if over and current else state[f"{T}_version_{code}"]
    _save(code, criteria, milestones, days_text, keys, expected, user)


def _save(code, criteria, milestones, days_text, keys, version, user) -> None:
    days = _days(days_text)
    if isinstance(days, str):
        st.error(escape_md(f"Not saved. {days}"), icon=":material/error:")
        return
    try:
        rows = _criteria_body(criteria, keys)
        body = SuccessTemplateIn.model_validate(
            {
                "criteria": rows,
                "checkpointDays": days,
                "milestones": _milestones_body(milestones, rows),
                "version": version,
            }
        )
        saved, created = data.call(
            save_template,
            product_code=code,
            body=body,
            actor=user.email,
            actor_user_id=user.id,
        )
    except Conflict as exc:
        st.error(
            escape_md(f"Not saved. {str(exc).removeprefix('version: ')}"),
            icon=":material/sync_problem:",
        )
        return
    except (ValidationError, DomainError) as problem:
        for message in in_editor_words(problem):
            st.error(escape_md(f"Not saved. {message}"), icon=":material/error:")
        return
    _open(code, saved)
    state[f"{T}_flash"] = (
        f"{'Created' if created else 'Saved'} the success template of {saved.product_name} "
        f"(version {saved.version}). New plans use it; plans already drafted keep theirs."
    )
    st.rerun()
