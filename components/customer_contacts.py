"""The customer page's "Contacts & feedback" section: the customer's people and what they said.

CS staff (CSMs, leaders, admins) see the contacts, the primary one marked, and every piece of
feedback; they add and edit contacts, make one primary, remove one and log a quote from a call.
Sales and marketing see the feedback as the customer's consent allows and no contacts.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from components import data
from components.auth import current_user
from components.cards import empty_state
from components.format import (
    FEEDBACK_KIND_LABELS,
    FEEDBACK_SOURCE_LABELS,
    SENTIMENT_LABELS,
    escape_md,
    label,
    when,
)
from components.forms import in_words
from core.accounts.schemas import UserSummary
from core.customers.contacts import (
    EDITORS,
    list_contacts,
    make_primary,
    remove_contact,
    save_contact,
)
from core.customers.feedback import (
    QUOTE_MIN_LENGTH,
    SCALES,
    Sentiment,
    list_feedback,
    log_quote,
    sentiment,
)
from core.customers.models import FeedbackKind
from core.customers.schemas import PERSON_LENGTH, ContactIn, ContactOut, QuoteIn
from core.errors import DomainError
from core.reporting.schemas import CustomerDetail
from core.schemas import EMAIL_LENGTH, NOTE_LENGTH

FEEDBACK_SHOWN = 50
FLASH = "_contacts_flash"
ROUND = "_contacts_round"  # bumped after a change: the forms start empty again
CONTACT_LABELS = {
    "name": "Name",
    "email": "Email",
    "title": "Job title",
    "primary": "Primary contact",
}
QUOTE_LABELS = {
    "quote": "Quote",
    "respondentName": "Who said it",
    "respondentTitle": "Their title",
    "respondentEmail": "Their email",
    "saidOn": "Date",
    "kind": "Score type",
    "score": "Score",
}
BADGE_COLORS = {
    Sentiment.PROMOTER: "green",
    Sentiment.SATISFIED: "green",
    Sentiment.PASSIVE: "orange",
    Sentiment.NEUTRAL: "orange",
    Sentiment.DETRACTOR: "red",
    Sentiment.DISSATISFIED: "red",
}


@dataclass(frozen=True)
class Said:
    """One piece of feedback as this tab shows it, whichever read model it came from."""

    kind: str
    score: int | None
    comment: str | None
    name: str | None
    title: str | None
    at: datetime
    source: str | None = None
    quotable: bool = False


def contacts_and_feedback(
    detail: CustomerDetail, on_change: Callable[[], None] = lambda: None
) -> None:
    """Render the section for the signed-in person; `on_change()` runs after every saved change."""
    user = current_user()
    if user is None or user.role not in EDITORS:
        # The detail's rows: already as the customer's consent lets this viewer see them.
        said = [
            Said(
                kind=f.kind,
                score=f.score,
                comment=f.comment,
                name=f.respondent_name,
                title=f.respondent_title,
                at=f.responded_at,
            )
            for f in detail.feedback
        ]
        _feedback_list(said)
        return
    customer_id = detail.customer.id
    if message := st.session_state.pop(FLASH, None):
        st.success(message, icon=":material/check_circle:")
    contacts = data.call(list_contacts, customer_id=customer_id)
    st.markdown("**Contacts**")
    _contacts_table(contacts)
    _contact_editor(customer_id, contacts, user, on_change)
    st.markdown("**Feedback**")
    _quote_form(customer_id, user, on_change)
    page = data.call(list_feedback, customer_id=customer_id, limit=FEEDBACK_SHOWN)
    _feedback_list(
        [
            Said(
                kind=f.kind,
                score=f.score,
                comment=f.comment,
                name=f.respondent.name,
                title=f.respondent.title,
                at=f.responded_at,
                source=f.source,
                quotable=f.quotable,
            )
            for f in page.items
        ]
    )
    if page.total > len(page.items):
        st.caption(f"The latest {len(page.items)} of {page.total} shown.")


def score_in_words(kind: str, score: int | None) -> str:
    """Say a score with its scale and meaning: 'NPS 9 · promoter', 'CSAT 4 of 5 · satisfied'."""
    name = FEEDBACK_KIND_LABELS.get(kind, label(kind))
    if score is None:
        return f"{name} · no score"
    meaning = SENTIMENT_LABELS[sentiment(kind, score)]
    if kind == FeedbackKind.CSAT:
        return f"{name} {score} of {SCALES[FeedbackKind.CSAT][1]} · {meaning}"
    return f"{name} {score} · {meaning}"


def _done(message: str, on_change: Callable[[], None]) -> None:
    """Show `message` after the rerun and start the forms afresh."""
    on_change()
    st.session_state[FLASH] = message
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
    st.rerun()


def _contacts_table(contacts: list[ContactOut]) -> None:
    if not contacts:
        empty_state(
            "No contacts yet",
            "Add one below, or let your CRM send them through the API (Customers, "
            "“Create or update a contact the CRM knows”). Congratulations emails and "
            "feedback requests go to the primary contact.",
            icon=":material/contacts:",
        )
        return
    frame = pd.DataFrame(
        [
            {
                "Name": c.name,
                "Email": c.email,
                "Job title": c.title or "",
                "Primary contact": "Primary contact" if c.primary else "",
                "Source": "CRM" if c.external_id else "Added in Outcomes",
            }
            for c in contacts
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    st.caption(
        "The primary contact gets congratulations emails and feedback requests; every contact "
        "is invited to checkpoint reviews."
    )


def _contact_editor(
    customer_id: uuid.UUID,
    contacts: list[ContactOut],
    user: UserSummary,
    on_change: Callable[[], None],
) -> None:
    turn = st.session_state.get(ROUND, 0)
    by_id = {c.id: c for c in contacts}
    with st.expander("Add or edit a contact", icon=":material/person_add:"):
        picked = st.selectbox(
            "Contact",
            [None, *by_id],
            format_func=lambda i: "New contact" if i is None else by_id[i].name,
            key=f"contact_pick_{customer_id}_{turn}",
        )
        current = by_id.get(picked)
        with st.form(f"contact_{customer_id}_{picked or 'new'}_{turn}", border=False):
            left, right = st.columns(2)
            name = left.text_input(
                "Name", value=current.name if current else "", max_chars=PERSON_LENGTH
            )
            email = right.text_input(
                "Email", value=current.email if current else "", max_chars=EMAIL_LENGTH
            )
            title = left.text_input(
                "Job title (optional)",
                value=(current.title or "") if current else "",
                max_chars=PERSON_LENGTH,
            )
            primary = right.checkbox(
                "Primary contact",
                value=current.primary if current else not contacts,
                help="Gets congratulations emails and feedback requests; the primary contact "
                "before stops being it. A customer's only contact is always its primary one.",
            )
            submitted = st.form_submit_button(
                "Save contact" if current else "Add contact", type="primary"
            )
        if submitted:
            try:
                body = ContactIn(
                    name=name, email=email, title=title.strip() or None, primary=primary
                )
                saved = data.call(
                    save_contact,
                    customer_id=customer_id,
                    contact_id=current.id if current else None,
                    body=body,
                    actor_id=user.id,
                )
            except (ValidationError, DomainError) as problem:
                for message in in_words(problem, CONTACT_LABELS):
                    st.error(escape_md(message), icon=":material/error:")
            else:
                _done(f"{'Saved' if current else 'Added'} {saved.name} ({saved.email}).", on_change)
        if current is not None:
            _contact_actions(current, user, on_change)


def _contact_actions(contact: ContactOut, user: UserSummary, on_change: Callable[[], None]) -> None:
    make, remove = st.columns(2)
    if not contact.primary and make.button(
        "Make primary contact", key=f"make_primary_{contact.id}", icon=":material/star:"
    ):
        _act(make_primary, f"{contact.name} is now the primary contact.", contact, user, on_change)
    if remove.button("Remove contact", key=f"remove_{contact.id}", icon=":material/delete:"):
        message = f"Removed {contact.name}; their feedback stays."
        _act(remove_contact, message, contact, user, on_change)


def _act(
    action, message: str, contact: ContactOut, user: UserSummary, on_change: Callable[[], None]
) -> None:
    try:
        data.call(action, contact_id=contact.id, actor_id=user.id)
    except DomainError as problem:
        st.error(escape_md(str(problem)), icon=":material/error:")
    else:
        _done(message, on_change)


def _quote_form(customer_id: uuid.UUID, user: UserSummary, on_change: Callable[[], None]) -> None:
    turn = st.session_state.get(ROUND, 0)
    today = datetime.now(UTC).date()
    kinds = [None, FeedbackKind.NPS, FeedbackKind.CSAT]
    with st.expander("Log a quote", icon=":material/format_quote:"):
        st.caption(
            f"What a customer said on a call or in a meeting, word for word. Quotes of "
            f"{QUOTE_MIN_LENGTH} characters or more are quoted in their success records, the "
            "latest logged quotes first (unless a score given with it is low)."
        )
        with st.form(f"quote_{customer_id}_{turn}", border=False):
            quote = st.text_area("Quote", max_chars=NOTE_LENGTH)
            left, right = st.columns(2)
            who = left.text_input("Who said it", max_chars=PERSON_LENGTH)
            title = right.text_input("Their title (optional)", max_chars=PERSON_LENGTH)
            email = left.text_input(
                "Their email (optional)",
                max_chars=EMAIL_LENGTH,
                help="Links the quote to the contact with this email.",
            )
            said_on = right.date_input("Date", value=today, max_value=today)
            kind = left.selectbox(
                "Score type (optional)",
                kinds,
                format_func=_scale,
                help="Only when they also gave a score.",
            )
            score = right.number_input(
                "Score (optional)", min_value=0, max_value=10, step=1, value=None
            )
            submitted = st.form_submit_button("Log quote", type="primary")
        if not submitted:
            return
        try:
            body = QuoteIn(
                quote=quote,
                respondent_name=who,
                respondent_title=title.strip() or None,
                respondent_email=email.strip() or None,
                said_on=said_on,
                kind=kind.value if kind else None,
                score=None if score is None else int(score),
            )
            logged = data.call(log_quote, customer_id=customer_id, body=body, actor_id=user.id)
        except (ValidationError, DomainError) as problem:
            for message in in_words(problem, QUOTE_LABELS):
                st.error(escape_md(message), icon=":material/error:")
            return
        use = "it will be quoted" if logged.quotable else "its score is too low to be quoted"
        _done(
            f"Logged the quote from {logged.respondent.name}; {use} in success records.", on_change
        )


def _scale(kind: FeedbackKind | None) -> str:
    if kind is None:
        return "No score"
    low, high = SCALES[kind]
    return f"{FEEDBACK_KIND_LABELS[kind]} ({low} to {high})"


def _feedback_list(items: list[Said]) -> None:
    if not items:
        empty_state(
            "No feedback yet",
            "NPS and CSAT responses and the quotes CSMs log show here with their words.",
        )
        return
    for item in items:
        with st.container(border=True):
            words = score_in_words(item.kind, item.score)
            color = BADGE_COLORS.get(sentiment(item.kind, item.score), "blue")
            who = ", ".join(filter(None, [item.name, item.title])) or "Anonymous"
            parts = [f":{color}-badge[{words}]", escape_md(who), when(item.at.date())]
            if item.source:
                parts.append(FEEDBACK_SOURCE_LABELS.get(item.source, label(item.source)))
            st.markdown(f"{parts[0]} " + " · ".join(parts[1:]))
            if item.comment:
                st.markdown(f"> {escape_md(item.comment)}")
            if item.quotable:
                st.caption("May be quoted in success records.")
