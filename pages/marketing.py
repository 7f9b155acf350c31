"""Marketing candidates: find wins worth telling, flag them, and move flags until they are used.

Customers whose consent is internal only or anonymized are never named here (see
core.marketing.queries and the consent layer, core.repository.consent); each win carries a
reference and its CSM instead.
"""

import uuid
from functools import partial

import streamlit as st

from components import data, forms, marketing_data
from components.auth import require_user
from components.cards import empty_state, page_header
from components.form_messages import form_messages
from components.format import escape_md, label
from components.marketing_views import (
    board,
    candidate_card,
    candidates_csv,
    clear_filters,
    filter_panel,
    flags_chart,
    kpi_row,
)
from core.base import Role
from core.errors import DomainError, Invalid
from core.marketing.models import FlagStatus
from core.marketing.queries import MAX_LIMIT
from core.marketing.schemas import Candidate
from core.marketing.service import flag_candidate, move_candidate_flag
from core.schemas import NOTE_LENGTH

PAGE_SIZE = 10
NOTICE = "mk_notice"
# Labels of the filters and the flag form by the names core's messages give them.
LABELS = {
    "minScore": "Minimum score",
    "candidateType": "Candidate type",
    "industry": "Industry",
    "consent": "Consent",
    "flagStatus": "Flag status",
    "sort": "Sort by",
    "notes": "Notes",
    "status": "Status",
}


def flag(item: Candidate, actor_id: uuid.UUID) -> None:
    """Flag a win with the type and notes from its form (form-submit callback)."""
    key = item.achievement_id
    kind = st.session_state.get(f"flag_type_{key}")
    notes = st.session_state.get(f"flag_notes_{key}")
    if problem := forms.text("Notes", notes, NOTE_LENGTH):
        st.session_state[NOTICE] = ("error", problem)
        return
    try:
        data.call(
            flag_candidate,
            achievement_id=key,
            candidate_type=kind,
            actor_id=actor_id,
            notes=notes,
        )
    except DomainError as exc:
        st.session_state[NOTICE] = ("error", " ".join(form_messages(exc, LABELS)))
    else:
        st.session_state[NOTICE] = (
            "success",
            f"{item.reference} flagged as a {label(kind).lower()}; it is on the board.",
        )
    marketing_data.forget()  # also after a refusal: someone else's flag shows as it is now


def move(flag_id: uuid.UUID, version: int, status: FlagStatus, actor_id: uuid.UUID) -> None:
    """Move a flag one step, carrying the version the card showed (button callback)."""
    try:
        data.call(
            move_candidate_flag,
            flag_id=flag_id,
            status=status,
            expected_version=version,
            actor_id=actor_id,
        )
    except DomainError as exc:
        st.session_state[NOTICE] = ("error", " ".join(form_messages(exc, LABELS)))
    else:
        st.session_state[NOTICE] = ("success", f"Moved to {label(status).lower()}.")
    marketing_data.forget()  # also after a refusal: someone else's move shows as it is now


def show_notice() -> None:
    """Show the outcome of the last flag or move once."""
    kind, text = st.session_state.pop(NOTICE, (None, None))
    if kind == "error":
        st.error(escape_md(text), icon=":material/error:")
    elif kind:
        st.success(escape_md(text), icon=":material/check:")


def candidates_tab(actor_id: uuid.UUID) -> None:
    """Render the filters, the CSV export and one page of candidate cards."""
    filters = filter_panel(marketing_data.industries())
    try:
        found = marketing_data.candidates(filters)
    except Invalid as exc:
        for message in form_messages(exc, LABELS):
            st.warning(escape_md(message), icon=":material/rule:")
        return
    if not found.items:
        empty_state(
            "No wins match these filters",
            "Lower the minimum score, or pick any type, industry, consent or flag status.",
            icon=":material/filter_alt_off:",
        )
        st.button("Clear filters", key="mk_clear", on_click=clear_filters)
        return
    pages = -(-len(found.items) // PAGE_SIZE)
    info, pager, actions = st.columns([3, 3, 2.2], vertical_alignment="center")
    with pager:
        number = st.pagination(pages, key=f"mk_page_{filters.key()}") if pages > 1 else 1
    shown = found.items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    first = (number - 1) * PAGE_SIZE + 1
    more = f" (first {MAX_LIMIT})" if found.total > len(found.items) else ""
    order = "best score first" if filters.order == "score" else "newest first"
    info.caption(
        f"Showing {first:,}–{first + len(shown) - 1:,} of {found.total:,} wins{more} · {order}"
    )
    with actions, st.container(horizontal=True, horizontal_alignment="right"):
        st.button("Clear filters", key="mk_clear", on_click=clear_filters)
        st.download_button(
            "CSV",
            data=lambda: candidates_csv(found.items),  # built only when downloaded
            file_name="marketing-candidates.csv",
            mime="text/csv",
            icon=":material/download:",
            key="mk_export",
            help="Download every matching win (consent-safe, like this page).",
        )
    st.caption(
        "The list holds every documented win the filters match; **Candidates** above counts "
        "only the wins that qualify for at least one candidate type (pick one to list just those)."
    )
    for item in shown:
        candidate_card(item, on_flag=partial(flag, actor_id=actor_id))


user = require_user(Role.MARKETING, Role.ADMIN, Role.LEADER)
page_header(
    "Marketing candidates",
    "Documented wins scored for marketing potential: flag the best as case studies, "
    "testimonials, references or social proof, and track them until they are used.",
)
show_notice()
usage = marketing_data.usage()
if not usage.wins:
    empty_state(
        "No wins to market yet",
        "Wins appear here when the detection job verifies a goal and documents it (it runs every "
        "few minutes; `python -m jobs run-once goal_detection` runs it now). Each arrives scored "
        "0–100 for marketing potential, with the reasons and the candidate types it qualifies for.",
        icon=":material/campaign:",
    )
    st.stop()
kpi_row(usage)
flags_total = sum(c.count for c in usage.counts)
found_tab, board_tab, chart_tab = st.tabs(
    ["Candidates", f"Flag board ({flags_total})", "Flags by status"]
)
with found_tab:
    candidates_tab(user.id)
with board_tab:
    if flags_total:
        board(marketing_data.board(), on_move=partial(move, actor_id=user.id))
    else:
        empty_state(
            "No flags yet",
            "Flag a candidate from the Candidates tab; it lands here as flagged, then moves "
            "through contacted and in progress to used (or declined).",
            icon=":material/flag:",
        )
with chart_tab:
    if flags_total:
        st.caption(
            "Flags per status, coloured by candidate type. Utilization counts a win once, "
            "however many of its flags were used."
        )
        st.plotly_chart(flags_chart(usage), width="stretch", config={"displayModeBar": False})
    else:
        st.caption("Nothing to chart until the first win is flagged.")
