"""Approvals: an inbox of drafts; open one, edit it, approve or reject it, and the next opens."""

import streamlit as st

from components import (
    approval_bulk,
    approval_data,
    approval_detail,
    approval_list,
    approval_unsaved,
    draft_views,
)
from components.auth import require_user
from components.cards import empty_state, page_header
from components.format import escape_md
from core.base import Role
from core.errors import Invalid
from core.schemas import as_uuid

user = require_user(Role.CSM, Role.ADMIN, Role.LEADER)
page_header(
    "Approvals",
    {
        Role.CSM: "Drafts for your customers. Open one, edit the text, then approve it or reject "
        "it with a reason; approved emails are sent from your address.",
        Role.ADMIN: "Every draft in the team. Admins can edit and approve on a CSM's behalf; the "
        "email still goes out from the owning CSM's address.",
        Role.LEADER: "Every draft in the team, read-only: the owning CSM or an admin approves "
        "each one.",
    }[user.role],
)
draft_views.toasts()
if linked := as_uuid(st.query_params.pop("draft", "")):
    st.session_state[approval_list.OPEN] = linked  # a link to one draft opens it

status = approval_list.status_filter(approval_data.stats(user.id, user.role))
options = approval_data.options(user.id, user.role, status.value)
filters = approval_list.filter_bar(status, options)
try:
    page = approval_data.page(user.id, user.role, filters)
    if not page.rows and page.offset:  # the last page emptied: show the one before
        st.session_state[approval_list.OFFSET] = max(page.total - 1, 0) // page.limit * page.limit
        filters["offset"] = st.session_state[approval_list.OFFSET]
        page = approval_data.page(user.id, user.role, filters)
except Invalid as exc:
    st.error(escape_md(approval_list.refused(exc)), icon=":material/error:")
    st.stop()

chosen = st.session_state.get(approval_list.OPEN)
opened = approval_data.first_visible(user.id, user.role, [chosen, *(r.id for r in page.rows[:1])])

if not page.rows:
    if approval_list.filtered(filters):
        empty_state("No drafts match", "Try fewer filters or another search.")
        st.button("Clear the filters", on_click=approval_list.clear_filters)
    else:
        draft_views.empty(status)
    if opened and approval_detail.has_error(opened[0].id):  # decided meanwhile: say so
        approval_detail.pane(*opened, user, filters)
    st.stop()

# The pane renders first (into its column, shown on the right): it may set kept text aside, and
# the list's marks and the bulk review, above and beside it, must show the state it leaves.
bulk = st.container()
listing, detail = st.columns([5, 7], gap="medium")
with detail:
    if opened:
        approval_detail.pane(*opened, user, filters)
with listing:
    approval_list.draft_list(page, opened[0].id if opened else None, approval_unsaved.held())
with bulk:
    approval_bulk.bulk_approval(page.rows, user)
