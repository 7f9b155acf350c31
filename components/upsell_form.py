"""The customer page's "Record a manual upsell" form (CSMs, CS leaders and admins).

The entry is the API's `POST /api/upsell` body, checked by the same model and core rules, so
the form refuses what the API refuses, naming the field by its label and keeping what was
typed. The upsell gets its measurement plan at once, linked from the confirmation.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import streamlit as st
from pydantic import ValidationError

from components import data, forms
from components.form_messages import form_messages, show
from components.format import escape_md, label, money
from components.navigation import page_file
from core.accounts.schemas import UserSummary
from core.base import Role
from core.errors import DomainError
from core.schemas import EARLIEST_DAY, NAME_LENGTH, TEXT_LENGTH
from core.upsell.catalog import list_products
from core.upsell.manual_entry import record_manual_upsell
from core.upsell.models import UpsellType
from core.upsell.schemas import ManualUpsellIn

EDITORS = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})
UPSELLS_PAGE = "pages/upsells.py"
# The API's field names -> the labels this form shows.
LABELS = {
    "name": "Opportunity name",
    "type": "Type",
    "products": "Products",
    "arrIncrease": "ARR increase",
    "closeDate": "Close date",
    "salesRepName": "Sales rep",
    "statedCriteria": "Notes",
    "createdBy": "Recorded by",
    "customerId": "Customer",
}
SALES_REP_LENGTH = 120
KEY = "upsell_new"
DONE = "upsell_recorded"  # (plan id, message) of the last upsell recorded here


def manual_upsell_form(
    customer_id: str, user: UserSummary, on_change: Callable[[], None] = lambda: None
) -> None:
    """Render the form for CS staff; link the plan of the upsell just recorded."""
    if user.role not in EDITORS:
        return
    if recorded := st.session_state.pop(DONE, None):
        plan_id, message = recorded
        st.success(escape_md(message), icon=":material/check_circle:")
        st.page_link(
            page_file(UPSELLS_PAGE),
            label="Open its measurement plan",
            query_params={"plan": str(plan_id)},
            icon=":material/trending_up:",
        )
    generation = st.session_state.setdefault(f"{KEY}_gen", 0)
    key = f"{KEY}_{generation}"
    products = {p.code: p.name for p in data.call(list_products)}
    today = datetime.now(UTC).date()
    with (
        st.expander("Record a manual upsell", icon=":material/add_shopping_cart:"),
        st.form(key, border=False),
    ):
        st.caption(
            "For an expansion your CRM does not send. Its measurement plan (metrics, targets, "
            "30/60/90-day checkpoints) is created at once from the products' templates."
        )
        left, right = st.columns(2)
        name = left.text_input("Opportunity name", max_chars=NAME_LENGTH, key=f"{key}_name")
        kind = right.selectbox("Type", list(UpsellType), format_func=label, key=f"{key}_type")
        codes = left.multiselect(
            "Products",
            list(products),
            format_func=products.get,
            placeholder="Choose from the products catalogue",
            key=f"{key}_products",
        )
        arr = right.number_input(
            "ARR increase ($)",
            min_value=0.0,
            max_value=forms.AMOUNT_BOUND,
            step=1000.0,
            format="%.2f",
            key=f"{key}_arr",
            help="Zero is a valid no-charge expansion.",
        )
        close = left.date_input(
            "Close date",
            value=today,
            min_value=EARLIEST_DAY,
            max_value=today,
            key=f"{key}_close",
        )
        rep = right.text_input("Sales rep (optional)", max_chars=SALES_REP_LENGTH, key=f"{key}_rep")
        notes = st.text_area(
            "Notes",
            max_chars=TEXT_LENGTH,
            placeholder="Optional: what the customer expects, e.g. “reach 80% adoption by "
            "day 90” (stated criteria become part of the plan)",
            key=f"{key}_notes",
        )
        if not st.form_submit_button("Record upsell", type="primary"):
            return
        try:
            entry = ManualUpsellIn(
                customer_id=uuid.UUID(customer_id),
                name=name.strip(),
                type=kind,
                arr_increase=round(arr, 2),
                close_date=close,
                products=codes,
                sales_rep_name=rep.strip() or None,
                stated_criteria=notes.strip() or None,
                created_by=user.email,
            )
            plan_id = data.call(record_manual_upsell, entry=entry, actor=user)
        except (ValidationError, DomainError) as problem:
            show(form_messages(problem, LABELS))
            return
    st.session_state[f"{KEY}_gen"] = generation + 1  # the next form starts empty
    st.session_state[DONE] = (
        plan_id,
        f"Recorded “{entry.name}” ({money(entry.arr_increase)} added ARR); its measurement "
        "plan is ready.",
    )
    on_change()
    st.rerun()
