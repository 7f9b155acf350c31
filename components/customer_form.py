"""The "Add a customer" form on the Customers page (CSMs, leaders and admins)."""

import streamlit as st
from pydantic import ValidationError

from components import data
from components.format import CONSENT_LABELS, SEGMENT_LABELS
from components.forms import AMOUNT_BOUND, in_words
from core.accounts.queries import list_users
from core.accounts.schemas import UserSummary
from core.base import Consent, Role, Segment
from core.customers.schemas import CustomerIn
from core.customers.service import add_customer
from core.errors import DomainError

# The API's field names -> the labels this form shows.
LABELS = {
    "name": "Name",
    "externalId": "Customer id",
    "industry": "Industry",
    "segment": "Segment",
    "region": "Region",
    "arr": "ARR",
    "ownerCsmEmail": "Owner",
    "consentLevel": "Public use",
    "useCase": "Use case",
    "customerSince": "Customer since",
}
EDITORS = frozenset({Role.CSM, Role.LEADER, Role.ADMIN})


def add_customer_form(user: UserSummary) -> str | None:
    """Render the form; return the new customer's id once one is added."""
    if user.role not in EDITORS:
        return None
    owners = [u for u in data.call(list_users) if u.role == Role.CSM]
    default_owner = next((i for i, u in enumerate(owners) if u.id == user.id), None)
    with st.expander("Add a customer", icon=":material/add_business:"):
        with st.form("add_customer", clear_on_submit=False, border=False):
            left, right = st.columns(2)
            name = left.text_input("Name", max_chars=200)
            external_id = right.text_input(
                "Customer id",
                max_chars=128,
                help="What your CRM and usage pipeline call this customer. Leave empty to make "
                "one from the name (Acme Corp → acme-corp).",
            )
            industry = left.text_input("Industry", max_chars=80, placeholder="e.g. Healthcare")
            region = right.text_input("Region", max_chars=40, placeholder="e.g. North America")
            segment = left.selectbox(
                "Segment", list(Segment), format_func=SEGMENT_LABELS.__getitem__, index=None
            )
            arr = right.number_input(
                "ARR ($)", min_value=0.0, max_value=AMOUNT_BOUND, step=1000.0, format="%.2f"
            )
            owner = left.selectbox(
                "Owner",
                owners,
                index=default_owner,
                format_func=lambda u: u.name,
                placeholder="No owner yet",
            )
            consent = right.selectbox(
                "Public use",
                list(Consent),
                format_func=CONSENT_LABELS.__getitem__,
                help="How far the customer lets us use their name and story in public.",
            )
            use_case = left.text_input("Use case (optional)", max_chars=200)
            since = right.date_input("Customer since (optional)", value=None)
            submitted = st.form_submit_button("Add customer", type="primary")
        if not submitted:
            return None
        try:
            body = CustomerIn(
                name=name.strip(),
                industry=industry.strip(),
                segment=segment,
                region=region.strip(),
                arr=round(arr, 2),
                owner_csm_email=owner.email if owner else None,
                consent_level=consent,
                use_case=use_case.strip() or None,
                customer_since=since,
            )
            created = data.call(add_customer, body=body, external_id=external_id, actor=user.email)
        except (ValidationError, DomainError) as problem:
            for message in in_words(problem, LABELS):
                st.error(message, icon=":material/error:")
            return None
        st.success(f"Added {created.name} (customer id `{created.external_id}`).")
        return str(created.id)
