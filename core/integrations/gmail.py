"""Send email through the Gmail API as the sending user (draft, then send).

Exactly once in effect: the draft is created once per delivery and its id stored on the delivery
(`Attempt.keep_draft`) before it is sent; a retry sends that same draft. Gmail deletes a draft
when it sends it, so "not found" for a stored draft means an earlier attempt sent it (its answer
was lost): that counts as sent, with the draft id as the reference. A draft a person deleted by
hand from the sender's Drafts folder reads the same way; that is the price of never sending twice.
"""

import base64
from email.message import EmailMessage
from email.utils import parseaddr

from core.integrations.base import Attempt, PermanentError, TransientError
from core.integrations.escape import header_value
from core.integrations.google_auth import GoogleServices, execute


def build_message(
    *, sender: str, to: list[str], subject: str, text: str, html: str | None, cc: list[str] | None
) -> EmailMessage:
    """Return the MIME message; ValueError when a header value holds CR/LF or `to` is empty."""
    recipients = [header_value(a).strip() for a in to if str(a).strip()]
    if not recipients:
        raise ValueError("email needs at least one recipient")
    msg = EmailMessage()
    msg["From"] = header_value(sender)
    msg["To"] = ", ".join(recipients)
    copies = [header_value(a).strip() for a in (cc or []) if str(a).strip()]
    if copies:
        msg["Cc"] = ", ".join(copies)
    msg["Subject"] = header_value(subject)
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


# What Gmail answers when asked to send a draft it no longer has: it was sent already.
ALREADY_SENT = frozenset({"notFound", "http_404"})


class GmailMailer:
    """Create a draft in the sender's mailbox and send it (domain-wide delegation)."""

    def __init__(self, services: GoogleServices):
        self.services = services

    def send_email(
        self,
        *,
        sender: str,
        to: list[str],
        subject: str,
        text: str,
        html: str | None = None,
        cc: list[str] | None = None,
        attempt: Attempt | None = None,
    ) -> str:
        """Send as `sender`; return the Gmail id of the sent message.

        With an `attempt` holding a draft id, that draft is sent instead of a new one.
        """
        try:
            msg = build_message(sender=sender, to=to, subject=subject, text=text, html=html, cc=cc)
        except ValueError as exc:
            raise PermanentError(f"Gmail: invalid message: {exc}", code="invalid_header") from exc
        mailbox = parseaddr(sender)[1] or sender  # delegate to the address, not "Name <addr>"
        drafts = self.services.service("gmail", mailbox).users().drafts()
        draft_id = attempt.draft_id if attempt is not None else None
        if not draft_id:
            draft_id = self._create_draft(drafts, msg)
            if attempt is not None and attempt.keep_draft is not None:
                attempt.keep_draft(draft_id)  # stored before sending: a retry sends this one
        try:
            sent = execute(drafts.send(userId="me", body={"id": draft_id}), "gmail drafts.send")
        except PermanentError as exc:
            if exc.code in ALREADY_SENT:
                return f"draft:{draft_id}"
            raise
        message_id = sent.get("id") if isinstance(sent, dict) else None
        if not message_id:
            raise TransientError("Gmail drafts.send: answer has no id", code="malformed_response")
        return str(message_id)

    @staticmethod
    def _create_draft(drafts, msg: EmailMessage) -> str:
        # Fold only past RFC 5322's 998-character limit: Python's 78-column folding can move a
        # whole subject to a continuation line, which some readers show with a leading space.
        unfolded = msg.as_bytes(policy=msg.policy.clone(max_line_length=998))
        raw = base64.urlsafe_b64encode(unfolded).decode("ascii")
        draft = execute(
            drafts.create(userId="me", body={"message": {"raw": raw}}), "gmail drafts.create"
        )
        draft_id = draft.get("id") if isinstance(draft, dict) else None
        if not draft_id:
            raise TransientError("Gmail drafts.create: answer has no id", code="malformed_response")
        return str(draft_id)
