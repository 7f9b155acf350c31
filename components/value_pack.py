"""A customer's value pack: preview it, download it, have it made a Google Doc.

CS staff choose an internal pack (everything, names included) or one to share with the
customer; sales and marketing get the one to share. The pack to share follows the customer's
consent (core.reporting.value_pack), whoever downloads it.
"""

import logging
import re
import uuid

import streamlit as st

from components import data
from components.format import escape_md, when
from core.accounts.schemas import UserSummary
from core.errors import DomainError, NotFound
from core.integrations.escape import safe_url
from core.outbox.models import DeliveryStatus
from core.reporting import value_pack_pdf, value_pack_render
from core.reporting.value_pack import build_value_pack
from core.reporting.value_pack_schemas import PackAudience, PackDoc, PackFormat, ValuePack
from core.reporting.value_pack_service import doc_status, record_pack_use, request_google_doc
from core.repository.consent import CS_STAFF
from core.repository.schemas import UsePurpose

log = logging.getLogger(__name__)

AUDIENCE_LABELS = {
    PackAudience.INTERNAL: "Internal (our team)",
    PackAudience.CUSTOMER: "Share with the customer",
}
PURPOSE_LABELS = {UsePurpose.QBR: "QBR", UsePurpose.RENEWAL: "Renewal"}
FILES = {
    PackFormat.MARKDOWN: ("Markdown", "md", "text/markdown"),
    PackFormat.HTML: ("HTML", "html", "text/html"),
    PackFormat.PDF: ("PDF", "pdf", "application/pdf"),
}
DOC_STATES = {
    DeliveryStatus.PENDING: "Queued: the Google Doc is created within a minute.",
    DeliveryStatus.IN_PROGRESS: "Being created in Google Docs right now.",
    DeliveryStatus.FAILED: "Google did not answer; it is tried again automatically.",
    DeliveryStatus.NOT_CONFIGURED: "Waiting: Google Docs is not set up yet. The document is "
    "created as soon as an admin sets it up on the Integrations page.",
}


@st.cache_data(ttl=60, show_spinner=False)
def load_pack(customer_id: str, role, audience: PackAudience) -> ValuePack:
    """Return the customer's value pack for `audience`, as `role` may read it."""
    return data.read(
        build_value_pack, customer_id=uuid.UUID(customer_id), viewer=role, audience=audience
    )


def render(pack: ValuePack, file_format: PackFormat) -> bytes:
    """Return the pack as the bytes of one file."""
    if file_format == PackFormat.PDF:
        return value_pack_pdf.pdf(pack)
    if file_format == PackFormat.HTML:
        return value_pack_render.html(pack).encode("utf-8")
    return value_pack_render.markdown(pack).encode("utf-8")


def file_name(pack: ValuePack, file_format: PackFormat) -> str:
    """Name the file after what it shows of the customer (never a name it may not show)."""
    slug = re.sub(r"[^a-z0-9]+", "-", pack.customer_label.lower()).strip("-") or "customer"
    suffix = FILES[file_format][1]
    return f"value-pack-{slug}-{pack.prepared_on.isoformat()}-{pack.audience.value}.{suffix}"


def _downloaded(pack: ValuePack, file_format: PackFormat, user: UserSummary, purpose) -> bytes:
    """Return the file and record the use of the pack's wins (once per pack)."""
    try:
        data.call(
            record_pack_use,
            pack=pack,
            purpose=purpose,
            via=f"download:{file_format.value}",
            actor=user.email,
            actor_user_id=user.id,
        )
    except Exception:  # the file is still theirs; the use is counted on the next download
        log.exception("Could not record the use of value pack %s", pack.title)
    return render(pack, file_format)


def doc_state(doc: PackDoc | None) -> tuple[str, str] | None:
    """Say in plain words where the Google Doc stands: (kind of message, text)."""
    if doc is None:
        return None
    url = safe_url(doc.doc_url)
    if doc.status == DeliveryStatus.SENT and url:
        return "success", f"Created {when(doc.sent_at)}: [Open the Google Doc]({url})"
    if doc.status == DeliveryStatus.DEAD:
        why = escape_md(doc.last_error or "Google refused it")
        return (
            "error",
            f"Could not be created: {why}. An admin can retry it on the Integrations page.",
        )
    return "info", DOC_STATES.get(doc.status, DOC_STATES[DeliveryStatus.PENDING])


def _preview(pack: ValuePack) -> None:
    s = pack.summary
    wins, measured, upsells = st.columns(3)
    wins.metric("Verified wins", s.wins)
    measured.metric(
        "Measured against a baseline",
        f"{s.measured_wins:,} of {s.wins:,}",
        help="Wins with both a before and an after figure; the others say they have no baseline",
    )
    upsells.metric(
        "Expansions that succeeded",
        f"{s.successful_upsells:,} of {s.decided_upsells:,}"
        if s.decided_upsells
        else ("None decided yet" if s.upsells else "No expansions"),
        help=f"Of the {s.upsells} expansions measured, those with a decided outcome",
    )
    st.markdown("\n".join(f"- {escape_md(line)}" for line in s.headlines))
    if not pack.named:
        st.caption(
            f"This pack describes the customer as “{escape_md(pack.customer_label)}”: their "
            "consent does not allow naming them in anything shared."
        )


def value_pack_section(customer_id: str, user: UserSummary) -> None:
    """Render the value pack of one customer for `user`."""
    st.divider()
    st.markdown("#### Value pack")
    st.caption(
        "Verified wins with their before and after figures, returns and expansion outcomes, "
        "for a QBR or a renewal."
    )
    staff = user.role in CS_STAFF
    choices = list(PackAudience) if staff else [PackAudience.CUSTOMER]
    left, right = st.columns(2)
    audience = left.radio(
        "Who is it for?",
        choices,
        format_func=AUDIENCE_LABELS.get,
        horizontal=True,
        key=f"value_pack_audience_{customer_id}",
    )
    purpose = right.radio(
        "Used for",
        list(PURPOSE_LABELS),
        format_func=PURPOSE_LABELS.get,
        horizontal=True,
        key=f"value_pack_purpose_{customer_id}",
    )
    try:
        pack = load_pack(customer_id, user.role, audience)
    except NotFound:
        st.warning("This customer does not exist (any more).")
        return
    except DomainError as error:
        st.warning(escape_md(str(error)))
        return
    _preview(pack)
    columns = st.columns(4)
    for column, file_format in zip(columns, FILES, strict=False):
        shown, _, mime = FILES[file_format]
        column.download_button(
            f"Download {shown}",
            data=lambda f=file_format: _downloaded(pack, f, user, purpose),
            file_name=file_name(pack, file_format),
            mime=mime,
            icon=":material/download:",
            on_click="ignore",
            key=f"value_pack_{file_format.value}_{customer_id}",
        )
    asked = columns[3].button(
        "Create Google Doc", icon=":material/description:", key=f"value_pack_doc_{customer_id}"
    )
    if asked:
        try:
            data.call(
                request_google_doc,
                customer_id=uuid.UUID(customer_id),
                viewer=user.role,
                audience=audience,
                purpose=purpose,
                actor=user.email,
                actor_user_id=user.id,
            )
        except DomainError as error:
            st.error(escape_md(str(error)))
    doc = data.call(
        doc_status,
        customer_id=uuid.UUID(customer_id),
        audience=audience,
        day=pack.prepared_on,
    )
    state = doc_state(doc)
    if state is not None:
        kind, message = state
        getattr(st, kind)(f"Google Doc: {message}")
