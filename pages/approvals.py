"""Approvals: edit, approve or reject drafts; nothing reaches a customer without this step."""

import streamlit as st

from components import data, draft_views
from components.auth import require_user
from components.cards import page_header
from core.base import Role
from core.drafts.service import approval_stats, list_drafts

LIMIT = 50

user = require_user(Role.CSM, Role.ADMIN, Role.LEADER)
page_header(
    "Approvals",
    {
        Role.CSM: "Drafts for your customers. Edit the text, then approve it or reject it with a "
        "reason; approved emails are sent from your address.",
        Role.ADMIN: "Every draft in the team. Admins can edit and approve on a CSM's behalf; the "
        "email still goes out from the owning CSM's address.",
        Role.LEADER: "Every draft in the team, read-only: the owning CSM (or an admin) approves.",
    }[user.role],
)
errors = draft_views.notices()
stats = data.call(approval_stats, viewer_id=user.id, viewer_role=user.role)
status = draft_views.status_filter(stats)
rows = data.call(list_drafts, viewer_id=user.id, viewer_role=user.role, status=status, limit=LIMIT)
draft_views.other_errors(errors, rows)
if not rows:
    draft_views.empty(status)
    st.stop()
draft_views.bulk_approval(rows, user)
for row in rows:
    draft_views.draft_card(row, user, errors)
if stats[status.value] > len(rows):
    st.caption(f"Showing the first {len(rows)} of {stats[status.value]} drafts.")
