"""The approval queue's cached reads, keyed by viewer and filters, forgotten after a decision.

They read the primary, not the replica: right after a person's own decision the queue must
already show it.
"""

import uuid

import streamlit as st

from components import data
from core.base import Role
from core.drafts.queries import draft_detail, draft_options, draft_page
from core.drafts.schemas import DraftDetail, DraftOptions, DraftPage
from core.drafts.service import approval_stats
from core.errors import NotFound
from core.reporting.draft_sources import DraftSource, draft_source


@st.cache_data(ttl=60, show_spinner=False)
def stats(viewer_id: uuid.UUID, role: Role) -> dict[str, int]:
    """Return how many drafts the viewer sees in each status."""
    return data.call(approval_stats, viewer_id=viewer_id, viewer_role=role)


@st.cache_data(ttl=60, show_spinner=False)
def options(viewer_id: uuid.UUID, role: Role, status: str | None) -> DraftOptions:
    """Return the customers and owners to filter the viewer's drafts of `status` by."""
    return data.call(draft_options, viewer_id=viewer_id, viewer_role=role, status=status)


@st.cache_data(ttl=60, show_spinner=False)
def page(viewer_id: uuid.UUID, role: Role, filters: dict) -> DraftPage:
    """Return the page of drafts `filters` choose (Invalid for a refused filter)."""
    return data.call(draft_page, viewer_id=viewer_id, viewer_role=role, **filters)


def _detail(session, *, viewer_id, role, draft_id) -> tuple[DraftDetail, DraftSource | None]:
    found = draft_detail(session=session, viewer_id=viewer_id, viewer_role=role, draft_id=draft_id)
    source = draft_source(
        session=session, related_type=found.related_type, related_id=found.related_id
    )
    return found, source


@st.cache_data(ttl=60, show_spinner=False)
def detail(
    viewer_id: uuid.UUID, role: Role, draft_id: uuid.UUID
) -> tuple[DraftDetail, DraftSource | None]:
    """Return one draft with what it comes from (NotFound when the viewer may not see it)."""
    return data.call(_detail, viewer_id=viewer_id, role=role, draft_id=draft_id)


def first_visible(
    viewer_id: uuid.UUID, role: Role, draft_ids: list[uuid.UUID | None]
) -> tuple[DraftDetail, DraftSource | None] | None:
    """Return the first of `draft_ids` the viewer can still open, with its source, or None."""
    for draft_id in dict.fromkeys(i for i in draft_ids if i):
        try:
            return detail(viewer_id, role, draft_id)
        except NotFound:
            continue  # deleted, or moved to another CSM's book meanwhile
    return None


def forget() -> None:
    """Drop every cached read of the queue: a decision changes counts, lists and details."""
    for loader in (stats, options, page, detail):
        loader.clear()
