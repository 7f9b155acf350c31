import pytest

from core.integrations.base import (
    Attempt,
    NotConfigured,
    PermanentError,
    Superseded,
    TransientError,
)
from core.integrations.google import GmailMailer, gmail_from_settings


@pytest.fixture
def mailer(google_services):
    return GmailMailer(google_services)


def send(mailer, **overrides):
    message = {
        "sender": "Casey CSM <casey@example.com>",
        "to": ["pat@customer.test"],
        "subject": "Congratulations on 40% faster onboarding",
        "text": "Hi Pat,\n\nYour team cut onboarding time by 40%.\n\nCasey",
    }
    return mailer.send_email(**{**message, **overrides})


def test_send_creates_a_draft_as_the_sender_and_sends_it(mailer, fake_google):
    message_id = send(
        mailer,
        cc=["lead@example.com"],
        html="<p>Your team cut onboarding time by <b>40%</b>.</p>",
    )

    assert [r.endpoint for r in fake_google.requests] == ["token", "drafts.create", "drafts.send"]
    (sent,) = fake_google.sent
    assert message_id == sent["id"]
    assert sent["user"] == "casey@example.com"
    assert fake_google.token_claims[0]["sub"] == "casey@example.com"
    assert fake_google.token_claims[0]["scope"] == "https://www.googleapis.com/auth/gmail.compose"
    assert sent["from"] == "Casey CSM <casey@example.com>"
    assert sent["to"] == "pat@customer.test"
    assert sent["cc"] == "lead@example.com"
    assert sent["subject"] == "Congratulations on 40% faster onboarding"
    assert sent["text"] == "Hi Pat,\n\nYour team cut onboarding time by 40%.\n\nCasey\n"
    assert "<b>40%</b>" in sent["html"]
    assert fake_google.calls("drafts.create")[0].path == "/gmail/v1/users/me/drafts"


def test_non_ascii_text_arrives_intact(mailer, fake_google):
    send(mailer, sender="casey@example.com", subject="Félicitations, Zoë 🎉", text="Grüße — ✓")
    (sent,) = fake_google.sent
    assert sent["subject"] == "Félicitations, Zoë 🎉"
    assert sent["text"].strip() == "Grüße — ✓"


def test_token_is_reused_for_the_same_sender(mailer, fake_google):
    send(mailer, sender="casey@example.com")
    send(mailer, sender="casey@example.com")
    send(mailer, sender="robin@example.com")
    assert [c["sub"] for c in fake_google.token_claims] == [
        "casey@example.com",
        "robin@example.com",
    ]
    assert [s["user"] for s in fake_google.sent] == [
        "casey@example.com",
        "casey@example.com",
        "robin@example.com",
    ]


def test_cr_lf_in_a_header_is_rejected_before_any_request(mailer, fake_google):
    with pytest.raises(PermanentError) as err:
        send(mailer, subject="Congrats\r\nBcc: everyone@example.com")
    assert err.value.code == "invalid_header"
    assert "CR or LF" in str(err.value)
    with pytest.raises(PermanentError):
        send(mailer, to=["pat@customer.test\nBcc: x@evil.test"])
    assert fake_google.requests == []


@pytest.mark.parametrize(
    ("status", "reason"), [(400, "invalidArgument"), (403, "insufficientPermissions")]
)
def test_client_errors_are_permanent_with_the_reason(mailer, fake_google, status, reason):
    from tests.fakes.google import google_error

    fake_google.script("drafts.create", google_error(status, reason))
    with pytest.raises(PermanentError) as err:
        send(mailer)
    assert err.value.code == reason
    assert fake_google.sent == []


def test_rate_limit_is_transient_with_retry_after(mailer, fake_google):
    from tests.fakes.google import google_error

    reply = google_error(429, "rateLimitExceeded")
    reply.headers["Retry-After"] = "7"
    fake_google.script("drafts.send", reply)
    with pytest.raises(TransientError) as err:
        send(mailer)
    assert err.value.retry_after == 7.0
    assert err.value.code == "rateLimitExceeded"


def test_403_rate_limit_reason_is_transient(mailer, fake_google):
    from tests.fakes.google import google_error

    fake_google.script("drafts.create", google_error(403, "userRateLimitExceeded"))
    with pytest.raises(TransientError):
        send(mailer)


def test_server_error_timeout_and_garbage_are_transient(mailer, fake_google):
    fake_google.fail_next("drafts.send", status=503)
    with pytest.raises(TransientError) as err:
        send(mailer)
    assert err.value.code == "http_503"

    fake_google.slow_next("drafts.create", seconds=3)
    with pytest.raises(TransientError):
        send(mailer)

    fake_google.garbage_next("drafts.create")
    with pytest.raises(TransientError) as err:
        send(mailer)
    assert err.value.code == "malformed_response"

    assert send(mailer)  # and it recovers


def test_gmail_from_settings(settings_for, fake_google, tmp_path):
    with pytest.raises(NotConfigured):
        gmail_from_settings(settings_for())
    with pytest.raises(NotConfigured):
        gmail_from_settings(settings_for(google_service_account_file=tmp_path / "missing.json"))
    mailer = gmail_from_settings(
        settings_for(
            google_service_account_file=fake_google.service_account_file,
            google_api_base_url=fake_google.base_url,
        )
    )
    assert send(mailer)


def test_long_subject_arrives_without_a_leading_space(google_services, fake_google):
    from core.integrations.gmail import GmailMailer

    subject = "Congratulations, Arrowstone Labs: Get 67% of invited users through onboarding"
    GmailMailer(google_services).send_email(
        sender="casey@outcomes.example", to=["ops@acme.example"], subject=subject, text="Hi"
    )
    assert fake_google.sent[-1]["subject"] == subject


class Delivery:
    """What the outbox keeps for one delivery between attempts."""

    def __init__(self):
        self.draft_id = None

    def attempt(self):
        return Attempt(key="gmail-1", draft_id=self.draft_id, keep_draft=self.keep)

    def keep(self, draft_id):
        self.draft_id = draft_id


def test_a_retry_after_a_failed_send_sends_the_same_draft(mailer, fake_google):
    delivery = Delivery()
    fake_google.fail_next("drafts.send", status=500, times=2)
    for _ in range(2):
        with pytest.raises(TransientError):
            send(mailer, attempt=delivery.attempt())
    message_id = send(mailer, attempt=delivery.attempt())

    [create] = fake_google.calls("drafts.create")  # the issue: one new draft per retry
    sends = fake_google.calls("drafts.send")
    assert [c.json["id"] for c in sends] == [delivery.draft_id] * 3
    [sent] = fake_google.sent
    assert message_id == sent["id"]


def test_a_send_whose_answer_was_lost_counts_as_sent_on_retry(mailer, fake_google):
    delivery = Delivery()
    fake_google.late_next("drafts.send", seconds=1.0)
    with pytest.raises(TransientError):
        send(mailer, attempt=delivery.attempt())
    assert len(fake_google.sent) == 1  # Gmail sent it; the answer came too late

    assert send(mailer, attempt=delivery.attempt()) == f"draft:{delivery.draft_id}"
    assert len(fake_google.sent) == 1 and len(fake_google.calls("drafts.create")) == 1


def test_nothing_is_sent_when_the_draft_cannot_be_kept(mailer, fake_google):
    def taken_over(draft_id):
        raise Superseded("another worker has it")

    with pytest.raises(Superseded):
        send(mailer, attempt=Attempt(key="gmail-1", keep_draft=taken_over))
    assert fake_google.calls("drafts.send") == [] and fake_google.sent == []
