"""Marketing candidates widgets: filters, candidate cards, the flag board, KPIs and the chart."""

from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.cards import shown
from components.charts import figure
from components.deltas import target_words, vs_target
from components.format import escape_md, label, when
from components.repository_views import CONSENT_BADGES
from core.base import Consent
from core.integrations.escape import spreadsheet_cell
from core.marketing.models import CandidateType, FlagStatus
from core.marketing.queries import UNFLAGGED
from core.marketing.schemas import BoardCard, Candidate, Utilization
from core.schemas import NOTE_LENGTH

TYPE_BADGES = {
    CandidateType.CASE_STUDY: ("violet", ":material/menu_book:"),
    CandidateType.TESTIMONIAL: ("blue", ":material/format_quote:"),
    CandidateType.REFERENCE: ("green", ":material/handshake:"),
    CandidateType.SOCIAL_PROOF: ("orange", ":material/campaign:"),
}
TYPE_COLORS = {
    CandidateType.CASE_STUDY: "#6C5B9E",
    CandidateType.TESTIMONIAL: "#2F6690",
    CandidateType.REFERENCE: "#4E9F6B",
    CandidateType.SOCIAL_PROOF: "#D9A441",
}
STEP_BUTTONS = {
    FlagStatus.FLAGGED: ("Flag again", ":material/replay:"),
    FlagStatus.CONTACTED: ("Contacted", ":material/mail:"),
    FlagStatus.IN_PROGRESS: ("Start", ":material/edit_note:"),
    FlagStatus.USED: ("Used", ":material/check_circle:"),
    FlagStatus.DECLINED: ("Decline", ":material/block:"),
}
FLAG_FILTERS = {None: "Any flag status", UNFLAGGED: "Not flagged yet"} | {
    s: f"Has a {label(s).lower()} flag" for s in FlagStatus
}
FILTER_KEYS = ("mk_min_score", "mk_type", "mk_industry", "mk_consent", "mk_flag_status")
ORDERS = {"score": "Score", "newest": "Newest"}
BOARD_LIMIT = 12  # cards per column; the oldest moves fold into a count


@dataclass(frozen=True)
class CandidateFilters:
    """What a marketer is looking for (None or empty means any)."""

    min_score: int = 0
    candidate_type: CandidateType | None = None
    industry: str | None = None
    consent: tuple[Consent, ...] = ()
    flag_status: str | None = None
    order: str = "score"

    def as_kwargs(self) -> dict:
        return asdict(self) | {"consent": list(self.consent) or None}

    def key(self) -> str:
        return "|".join(str(v) for v in asdict(self).values())


def type_badge(kind: CandidateType, suffix: str = "") -> str:
    """Return the badge of one candidate type, e.g. a case study that is 'contacted'."""
    color, icon = TYPE_BADGES[CandidateType(kind)]
    return f":{color}-badge[{icon} {label(kind)}{suffix}]"


def type_badges(item: Candidate) -> str:
    """Return the badges of the types a win qualifies for, then of its flags with their status."""
    flagged = {f.candidate_type for f in item.flags}
    row = [type_badge(k) for k in item.candidate_types if k not in flagged]
    row += [
        f":gray-badge[:material/flag: {label(f.candidate_type)} · {label(f.status).lower()}]"
        for f in item.flags
    ]
    return " ".join(row) or ":gray-badge[Qualifies for no candidate type yet]"


def consent_badge(level: Consent) -> str:
    """Return the consent badge; levels that forbid naming say so."""
    color, icon = CONSENT_BADGES[level]
    named = level in (Consent.LOGO, Consent.FULL_PUBLIC)
    return f":{color}-badge[{icon} {label(level)}{'' if named else ' · not for public naming'}]"


def kpi_row(usage: Utilization) -> None:
    """Render candidates, flagged, in progress, used and utilization against the 20% target."""
    share, target = usage.utilization, usage.target
    figures = [
        (
            "Candidates",
            usage.candidates,
            f"Wins that qualify for at least one candidate type, of {usage.wins} documented wins",
            None,
        ),
        ("Flagged", usage.flagged, "Wins with at least one marketing flag", None),
        (
            "In progress",
            usage.by("status")["in_progress"],
            "Flags whose content is being made",
            None,
        ),
        ("Used", usage.used, "Wins with a flag marked used", None),
        (
            "Utilization",
            f"{share:.0%}",
            f"Used wins ÷ documented wins; {target_words(target)}",
            vs_target(share, target)[0],
        ),
    ]
    for column, (title, value, help_text, delta) in zip(
        st.columns(len(figures)), figures, strict=True
    ):
        with column, st.container(border=True, height="stretch"):
            st.metric(title, shown(value), delta=delta, help=help_text)


def filter_panel(industries: list[str]) -> CandidateFilters:
    """Render the filters; return what was chosen."""
    score, kind, industry, consent, flagged, order = st.columns([1.4, 1.2, 1.2, 1.5, 1.4, 1.3])
    min_score = score.slider("Minimum score", 0, 100, 0, step=5, key="mk_min_score")
    chosen_type = kind.selectbox(
        "Candidate type",
        list(CandidateType),
        index=None,
        format_func=label,
        key="mk_type",
        placeholder="Any type",
        help="The types the score qualified the win for.",
    )
    chosen_industry = industry.selectbox(
        "Industry", industries, index=None, placeholder="Any industry", key="mk_industry"
    )
    levels = consent.multiselect(
        "Consent",
        list(Consent),
        format_func=label,
        key="mk_consent",
        placeholder="Any consent",
        help="Internal-only and anonymized customers are never named on this page.",
    )
    status = flagged.selectbox(
        "Flag status", list(FLAG_FILTERS), format_func=FLAG_FILTERS.get, key="mk_flag_status"
    )
    sort = order.segmented_control(
        "Sort by",
        list(ORDERS),
        default="score",
        required=True,
        format_func=ORDERS.get,
        key="mk_order",
    )
    return CandidateFilters(
        min_score=min_score,
        candidate_type=chosen_type,
        industry=chosen_industry,
        consent=tuple(levels),
        flag_status=status,
        order=sort,
    )


def clear_filters() -> None:
    """Reset every filter widget (a button callback)."""
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)


def candidate_card(item: Candidate, *, on_flag: Callable) -> None:
    """Render one win: who, what, score bar, badges, quote, reasons and the flag form."""
    with st.container(border=True):
        text, figure = st.columns([5, 1.2])
        with text:
            st.markdown(f"**{escape_md(item.customer_label)}** {consent_badge(item.consent_level)}")
            st.markdown(
                f"{escape_md(item.goal)} · {escape_md(item.industry)} · "
                f"achieved {when(item.achieved_on)}"
                + (f" · **{escape_md(item.value)}**" if item.value else "")
            )
            st.markdown(type_badges(item))
        with figure:
            st.metric("Score", item.score, help="Marketing potential, 0–100")
            st.progress(item.score / 100)
        st.markdown(escape_md(item.summary))
        if item.quote:
            st.markdown(f"> “{escape_md(item.quote)}”  \n> — {escape_md(item.quote_by)}")
        st.caption(
            f"Ref {item.reference} · CSM {escape_md(item.csm_name or 'unassigned')}"
            + ("" if item.customer_name else " · ask the CSM before naming or contacting")
        )
        why, flag = st.columns([3, 1.2], vertical_alignment="top")
        with why.expander("Why this score"):
            st.markdown("\n".join(f"- {escape_md(r)}" for r in item.reasons))
        with flag.popover("Flag for marketing", icon=":material/flag:", width="stretch"):
            flag_form(item, on_flag=on_flag)


def flag_form(item: Candidate, *, on_flag: Callable) -> None:
    """Render the form that flags a win as one candidate type with notes."""
    kinds = sorted(item.open_types, key=lambda k: k not in item.candidate_types)
    if not kinds:
        st.caption("Already flagged as every candidate type; see the board.")
        return
    with st.form(f"flag_{item.achievement_id}", border=False):
        st.selectbox(
            "Flag as",
            kinds,
            key=f"flag_type_{item.achievement_id}",
            format_func=lambda k: label(k) + (" (suggested)" if k in item.candidate_types else ""),
        )
        st.text_area(
            "Notes",
            key=f"flag_notes_{item.achievement_id}",
            height=80,
            max_chars=NOTE_LENGTH,
            placeholder="Angle, audience, who to ask…",
        )
        if item.consent_level == Consent.INTERNAL_ONLY:
            st.caption("Internal only: get the customer's consent before any public use.")
        st.form_submit_button("Flag", type="primary", on_click=on_flag, args=(item,))


def board(columns: dict[FlagStatus, list[BoardCard]], *, on_move: Callable) -> None:
    """Render the flags as five columns; each card offers only its allowed next steps."""
    for column, (status, cards) in zip(st.columns(len(columns)), columns.items(), strict=True):
        with column:
            st.markdown(f"**{label(status)}** · {len(cards)}")
            for card in cards[:BOARD_LIMIT]:
                board_card(card, on_move=on_move)
            if len(cards) > BOARD_LIMIT:
                st.caption(f"…and {len(cards) - BOARD_LIMIT} older")
            if not cards:
                st.caption("Nothing here.")


def board_card(card: BoardCard, *, on_move: Callable) -> None:
    """Render one flag with a button per allowed move; each carries the version it saw."""
    with st.container(border=True):
        st.markdown(type_badge(card.candidate_type))
        st.markdown(f"**{escape_md(card.customer_label)}**  \n{escape_md(card.goal)}")
        score = f"score {card.score} · " if card.score is not None else ""
        st.caption(f"{card.reference} · {score}since {when(card.status_changed_at.date())}")
        if card.notes:
            st.caption(escape_md(card.notes))
        with st.container(horizontal=True, gap="small"):
            for step in card.next_steps:
                title, icon = STEP_BUTTONS[step]
                st.button(
                    title,
                    key=f"move_{card.flag_id}_{step.value}",
                    icon=icon,
                    on_click=on_move,
                    args=(card.flag_id, card.version, step),
                    help=f"Move to {label(step).lower()}",
                )


def flags_chart(usage: Utilization) -> go.Figure:
    """Stacked bars of flags per status, one colour per candidate type."""
    statuses = list(FlagStatus)
    bars = []
    for kind, color in TYPE_COLORS.items():
        counts = {c.status: c.count for c in usage.counts if c.candidate_type == kind}
        if counts:
            bars.append(
                {
                    "type": "bar",
                    "name": label(kind),
                    "x": [label(s) for s in statuses],
                    "y": [counts.get(s, 0) for s in statuses],
                    "marker": {"color": color},
                    "hovertemplate": "%{x}: %{y:,} " + label(kind).lower() + "<extra></extra>",
                }
            )
    yaxis = {"rangemode": "tozero"}
    if max((c.count for c in usage.counts), default=0) < 6:
        yaxis["dtick"] = 1
    return figure(bars, yaxis=yaxis, legend_y=-0.15, barmode="stack", bargap=0.45)


def candidates_csv(items: list[Candidate]) -> str:
    """Return the candidates as CSV, consent-safe like the page."""
    rows = [
        {
            "Reference": c.reference,
            "Customer": c.customer_label,
            "Consent": label(c.consent_level),
            "Industry": c.industry,
            "Goal": c.goal,
            "Goal type": label(c.goal_type),
            "Score": c.score,
            "Candidate types": ", ".join(label(k) for k in c.candidate_types),
            "Value": c.value or "",
            "Achieved on": c.achieved_on.isoformat(),
            "Summary": c.summary,
            "Quote": c.quote or "",
            "Quote by": c.quote_by or "",
            "CSM": c.csm_name or "",
            "Flags": ", ".join(f"{label(f.candidate_type)}: {label(f.status)}" for f in c.flags),
            "Why this score": "; ".join(c.reasons),
        }
        for c in items
    ]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["Reference"])
    return frame.map(spreadsheet_cell).to_csv(index=False)
