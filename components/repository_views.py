"""Value repository widgets: the filter panel, result cards and the insight charts."""

import html
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import streamlit as st

from components import forms
from components.charts import ACCENT, GRID, PRIMARY, figure
from components.format import USE_PURPOSE_LABELS, escape_md, label, money, plural, when
from core.base import Consent
from core.formatting import value_text
from core.goals.models import GoalType
from core.repository.schemas import (
    AggregateRow,
    RepositoryAggregates,
    RepositoryItem,
    RepositoryOptions,
    UsePurpose,
)
from core.schemas import NAME_LENGTH

FILTER_KEYS = (
    "rf_q",
    "rf_industry",
    "rf_use_case",
    "rf_product",
    "rf_goal_type",
    "rf_dates",
    "rf_value_min",
    "rf_value_max",
    "rf_consent",
)
CONSENT_BADGES = {
    Consent.INTERNAL_ONLY: ("gray", ":material/lock:"),
    Consent.ANONYMIZED: ("orange", ":material/visibility_off:"),
    Consent.LOGO: ("blue", ":material/image:"),
    Consent.FULL_PUBLIC: ("green", ":material/public:"),
}
PURPOSE_LABELS = USE_PURPOSE_LABELS
_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


@dataclass(frozen=True)
class RepoFilters:
    """The filters a person chose (None or empty means any)."""

    q: str | None = None
    industry: str | None = None
    use_case: str | None = None
    product: str | None = None
    goal_type: GoalType | None = None
    date_from: date | None = None
    date_to: date | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    consent: tuple[Consent, ...] = ()

    def as_kwargs(self) -> dict:
        return asdict(self) | {"consent": list(self.consent) or None}

    def key(self) -> str:
        return "|".join(str(v) for v in asdict(self).values())


def clear_filters() -> None:
    """Reset every filter widget (a button callback)."""
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)


# The filters' labels by the names core's messages give them (camelCase, as the API).
FILTER_LABELS = {
    "q": "Search wins",
    "industry": "Industry",
    "useCase": "Use case",
    "product": "Product",
    "goalType": "Goal type",
    "dateFrom": "Achieved between",
    "dateTo": "Achieved between",
    "valueMin": "Value from",
    "valueMax": "Value to",
    "consent": "Consent",
}


def filter_panel(options: RepositoryOptions) -> RepoFilters:
    """Render the search box and filters; return what was chosen."""
    search, industry, use_case, product = st.columns([3, 1.4, 1.4, 1.4])
    text = search.text_input(
        "Search wins",
        key="rf_q",
        icon=":material/search:",
        placeholder='e.g. automation "resolution time" -onboarding',
        help="Matches titles first, then snippets, industry and use case. Word forms match too "
        "(automating finds automation). Quote phrases; a leading - excludes a word.",
        max_chars=NAME_LENGTH,
    )
    if problem := forms.line("Search wins", text, NAME_LENGTH):
        search.error(escape_md(problem), icon=":material/error:")
        text = ""
    with industry:
        chosen_industry = _choice("Industry", options.industries, "Any industry", "rf_industry")
    with use_case:
        chosen_use_case = _choice("Use case", options.use_cases, "Any use case", "rf_use_case")
    with product:
        chosen_product = _choice("Product", options.products, "Any product", "rf_product")
    kind, dates, low, high, consent = st.columns([1.4, 2, 1.1, 1.1, 2.4])
    with kind:
        goal_type = _choice("Goal type", options.goal_types, "Any goal type", "rf_goal_type")
    picked = dates.date_input("Achieved between", value=(), key="rf_dates", format="YYYY-MM-DD")
    bounds = {"min_value": -forms.AMOUNT_BOUND, "max_value": forms.AMOUNT_BOUND}
    value_min = low.number_input(
        "Value from", value=None, placeholder="Any", key="rf_value_min", **bounds
    )
    value_max = high.number_input(
        "Value to", value=None, placeholder="Any", key="rf_value_max", **bounds
    )
    levels = consent.multiselect(
        "Consent",
        list(Consent),
        format_func=label,
        key="rf_consent",
        placeholder="Any consent",
        help="Internal only and anonymized wins never show the customer's name.",
    )
    picked = tuple(picked) if isinstance(picked, tuple | list) else (picked,) if picked else ()
    return RepoFilters(
        q=(text or "").strip() or None,
        industry=chosen_industry,
        use_case=chosen_use_case,
        product=chosen_product,
        goal_type=goal_type,
        date_from=picked[0] if picked else None,
        date_to=picked[1] if len(picked) > 1 else None,
        value_min=_decimal(value_min),
        value_max=_decimal(value_max),
        consent=tuple(levels),
    )


def _choice(title: str, values: list, everything: str, key: str):
    return st.selectbox(
        title,
        values,
        index=None,
        placeholder=everything,
        key=key,
        format_func=lambda v: label(v) if isinstance(v, GoalType) else v,
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def purpose_picker(default: UsePurpose) -> UsePurpose:
    """Ask what the wins are for; copies and downloads are counted under this purpose."""
    return st.segmented_control(
        "Using wins for",
        list(UsePurpose),
        default=default,
        required=True,
        key="rf_purpose",
        format_func=PURPOSE_LABELS.get,
        help="Copying a snippet or downloading results counts as one use of each win.",
    )


def headline_markdown(headline: str) -> str:
    """Turn the API's escaped headline with <mark> tags into safe, highlighted markdown."""
    parts = _MARK.split(headline)
    # split() alternates plain text and marked text; both arrive HTML-escaped.
    return "".join(
        f":orange-background[{escape_md(html.unescape(p))}]"
        if i % 2
        else escape_md(html.unescape(p))
        for i, p in enumerate(parts)
        if p
    )


def badges(item: RepositoryItem) -> str:
    """Return the badge row of one win: industry, use case, products, goal type, consent."""
    color, icon = CONSENT_BADGES[item.consent_level]
    row = [f":blue-badge[{escape_md(item.industry)}]"]
    if item.use_case:
        row.append(f":violet-badge[{escape_md(item.use_case)}]")
    row += [f":gray-badge[:material/deployed_code: {escape_md(p)}]" for p in item.products]
    row.append(f":gray-badge[{label(item.goal_type)}]")
    row.append(f":{color}-badge[{icon} {label(item.consent_level)}]")
    return " ".join(row)


def entry_card(
    item: RepositoryItem,
    *,
    record: str | None,
    record_names: bool,
    revealed: bool,
    on_copy: Callable,
    args: tuple,
) -> None:
    """Render one win; 'Copy snippet' counts a use and reveals the copy-ready proof point.

    `record` is the win's success record as Markdown with people's text escaped;
    `record_names` says whether it may name the customer (CS staff) or has consent applied.
    """
    value = value_text(item.value_amount, item.value_unit)
    with st.container(border=True):
        text, figure = st.columns([5, 1.2]) if value else (st.container(), None)
        with text:
            st.markdown(f"**{escape_md(item.title)}**")
            st.markdown(headline_markdown(item.headline))
            st.markdown(badges(item))
        if figure is not None:
            figure.metric("Value", value)
        used = f"used {item.usage_count}×" if item.usage_count else "not used yet"
        last = f" (last {when(item.last_used_at)})" if item.last_used_at else ""
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button(
                "Copy snippet",
                key=f"copy_{item.id}",
                icon=":material/content_copy:",
                on_click=on_copy,
                args=args,
                type="primary" if revealed else "secondary",
            )
            st.caption(
                f"{escape_md(item.customer_label)} · achieved {when(item.achieved_on)} · "
                f"{used}{last}"
            )
        if revealed:
            st.code(item.proof_point, language=None, wrap_lines=True)
            st.caption("Copy it with the icon in the box's corner. Counted as a use.")
        if record:
            kind = "internal — may name the customer" if record_names else "as consent allows"
            with st.expander(f"Success record ({kind})"):
                st.markdown(_demote_headings(record))


def _demote_headings(markdown: str) -> str:
    # A record's '# Title' would outshout the page title inside a card.
    return re.sub(r"^(#{1,4})(?= )", r"\1##", markdown, flags=re.MULTILINE)


def insights(aggs: RepositoryAggregates) -> None:
    """Render wins by industry, by quarter and by goal type, and dollar value by industry."""
    left, right = st.columns(2, gap="medium")
    with left:
        _chart("Wins by industry", _bars(aggs.by_industry, horizontal=True), "ins_industry")
    with right:
        quarters = [
            AggregateRow(label=r.label, count=r.count, value_total=r.value_total)
            for r in aggs.by_quarter
        ]
        _chart("Wins by quarter", _bars(quarters, color=PRIMARY), "ins_quarter")
    left, right = st.columns(2, gap="medium")
    with left:
        kinds = [r.model_copy(update={"label": label(r.label)}) for r in aggs.by_goal_type]
        _chart("Wins by goal type", _bars(kinds, horizontal=True), "ins_goal_type")
    with right:
        valued = sorted(
            (r for r in aggs.by_industry if r.value_total), key=lambda r: -r.value_total
        )
        if valued:
            _chart(
                "Dollar value by industry",
                _bars(valued, money_axis=True),
                "ins_value",
                "Only USD values add up; hours and percentages are left out.",
            )
        else:
            with st.container(border=True):
                st.markdown("**Dollar value by industry**")
                st.caption("None of these wins has a dollar (USD) value.")


def _chart(title: str, figure: go.Figure, key: str, note: str | None = None) -> None:
    with st.container(border=True):
        st.markdown(f"**{title}**", help=note)
        st.plotly_chart(figure, key=key)


def _bars(rows: list[AggregateRow], *, horizontal=False, money_axis=False, color=ACCENT):
    values = [float(r.value_total if money_axis else r.count) for r in rows]
    labels = [r.label for r in rows]
    text = [money(v) if money_axis else f"{v:,.0f}" for v in values]
    hover = [f"{plural(r.count, 'win')}, {money(r.value_total)} in USD" for r in rows]
    if horizontal:
        labels, values, text, hover = labels[::-1], values[::-1], text[::-1], hover[::-1]
    bars = {
        "type": "bar",
        "x": values if horizontal else labels,
        "y": labels if horizontal else values,
        "orientation": "h" if horizontal else "v",
        "text": text,
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": hover,
        "marker": {"color": PRIMARY if money_axis else color},
        "hovertemplate": f"%{{{'y' if horizontal else 'x'}}}: %{{customdata}}<extra></extra>",
    }
    value_axis = {
        "showticklabels": not horizontal,
        "gridcolor": GRID,
        "zeroline": False,
        "rangemode": "tozero",
    }
    category_axis = {"showgrid": False, "type": "category"}
    xaxis, yaxis = (value_axis, category_axis) if horizontal else (category_axis, value_axis)
    xaxis["showgrid"] = horizontal
    if money_axis:
        yaxis.update(tickprefix="$", tickformat="~s")
    return figure(
        [bars],
        xaxis=xaxis,
        yaxis=yaxis,
        right=24,
        top=16,
        bargap=0.35 if len(rows) > 5 else 0.6,
    )
