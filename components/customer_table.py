"""Customer filters, the paged customer table and its CSV export."""

import uuid
from dataclasses import asdict, dataclass

import pandas as pd
import streamlit as st

from components import forms
from components.format import BAND_LABELS, SEGMENT_LABELS, escape_md, label
from core.base import Segment
from core.customers.schemas import HealthBand
from core.integrations.escape import spreadsheet_cell
from core.reporting.schemas import CustomerFilters, CustomerRow
from core.schemas import NAME_LENGTH

PAGE_SIZE = 50
SHORT_BANDS = {"healthy": "Healthy", "watch": "Watch", "at_risk": "At risk", "unknown": "No score"}
COLUMNS = {
    "name": "Customer",
    "industry": "Industry",
    "segment": "Segment",
    "arr": "ARR",
    "health_score": "Health",
    "health_band": "Health band",
    "csm_name": "CSM",
    "active_goals": "Active goals",
}
CSV_COLUMNS = {**COLUMNS, "region": "Region", "consent_level": "Consent"}


@dataclass(frozen=True)
class Filters:
    """The filter values a person chose (None means any)."""

    search: str | None = None
    industry: str | None = None
    segment: Segment | None = None
    owner_id: uuid.UUID | None = None
    health_band: HealthBand | None = None

    def as_kwargs(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        return "|".join(str(v) for v in asdict(self).values())


def filter_bar(options: CustomerFilters, *, default_owner: uuid.UUID | None) -> Filters:
    """Render the filter row and return what was chosen (a cleared filter means 'all')."""
    owners = {o.id: o.name for o in options.owners}
    search, industry, segment, owner, band = st.columns([3, 2, 2, 2, 2])
    with search:
        text = st.text_input(
            "Search", placeholder="Customer name…", key="f_search", max_chars=NAME_LENGTH
        )
        if problem := forms.line("Search", text, NAME_LENGTH):
            st.error(escape_md(problem), icon=":material/error:")
            text = ""
    with industry:
        chosen_industry = _choice("Industry", options.industries, "All industries", "f_industry")
    with segment:
        chosen_segment = _choice(
            "Segment", options.segments, "All segments", "f_segment", SEGMENT_LABELS
        )
    with owner:
        chosen_owner = _choice(
            "CSM", list(owners), "Any CSM", "f_owner", owners, default=default_owner
        )
    with band:
        chosen_band = _choice("Health", list(HealthBand), "Any health", "f_band", BAND_LABELS)
    return Filters(text.strip() or None, chosen_industry, chosen_segment, chosen_owner, chosen_band)


def _choice(title: str, values: list, everything: str, key: str, names=None, default=None):
    return st.selectbox(
        title,
        values,
        index=values.index(default) if default in values else None,
        placeholder=everything,
        format_func=lambda v: (names or {}).get(v, str(v)),
        key=key,
    )


def to_frame(rows: list[CustomerRow], *, numeric: bool = True) -> pd.DataFrame:
    """Turn customer rows into a frame with readable labels (amounts as floats for display)."""
    frame = pd.DataFrame(
        [r.model_dump(mode="json", include=set(CSV_COLUMNS) | {"id"}) for r in rows],
        columns=["id", *CSV_COLUMNS],
    )
    for column in ("segment", "consent_level"):
        frame[column] = frame[column].map(label)
    frame["health_band"] = frame["health_band"].map(SHORT_BANDS)
    frame["csm_name"] = frame["csm_name"].fillna("Unassigned")
    if numeric:
        for column in ("arr", "health_score"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        # Whole numbers rounded here as `format.score` rounds them, so a row shows the number the
        # customer page shows (the browser would round x.50 the other way).
        frame["health_score"] = frame["health_score"].round(0)
    return frame


def to_csv(rows: list[CustomerRow]) -> bytes:
    """Return the rows as CSV with readable headers and exact amounts."""
    frame = to_frame(rows, numeric=False)[list(CSV_COLUMNS)]
    for column in ("name", "industry", "region", "csm_name"):
        frame[column] = frame[column].map(spreadsheet_cell)
    return frame.rename(columns=CSV_COLUMNS).to_csv(index=False).encode()


def customer_table(rows: list[CustomerRow], *, key: str) -> uuid.UUID | None:
    """Render the table; return the id of the selected customer, if any."""
    frame = to_frame(rows)
    event = st.dataframe(
        frame,
        key=key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_order=list(COLUMNS),
        column_config={
            "name": st.column_config.TextColumn("Customer", width="medium"),
            "arr": st.column_config.NumberColumn("ARR", format="$%,d"),
            "health_score": st.column_config.ProgressColumn(
                "Health", min_value=0, max_value=100, format="%.0f"
            ),
            **{c: st.column_config.Column(t) for c, t in COLUMNS.items() if c in _PLAIN},
        },
        height="content",  # a page is at most PAGE_SIZE rows: show them all, no blank space
    )
    selected = event.selection.rows if event else []
    return uuid.UUID(frame.iloc[selected[0]]["id"]) if selected else None


_PLAIN = {
    "industry",
    "segment",
    "region",
    "health_band",
    "csm_name",
    "active_goals",
    "consent_level",
}
