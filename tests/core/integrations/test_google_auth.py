import json

import pytest
from google.auth import _exponential_backoff

from core.integrations.base import PermanentError, TransientError
from core.integrations.google import GmailMailer, GoogleServices
from tests.fakes.google import FakeGoogle


def send(services):
    return GmailMailer(services).send_email(
        sender="casey@example.com", to=["pat@customer.test"], subject="Hi", text="Hello"
    )


def test_services_are_built_once_per_api_and_subject(google_services):
    gmail = google_services.service("gmail", "casey@example.com")
    assert google_services.service("gmail", "casey@example.com") is gmail
    assert google_services.service("gmail", "robin@example.com") is not gmail
    assert google_services.service("calendar", "casey@example.com") is not gmail


@pytest.mark.parametrize("error", ["invalid_grant", "unauthorized_client"])
def test_refused_grant_is_permanent(google_services, fake_google, error):
    fake_google.token_error_next(error)
    with pytest.raises(PermanentError) as err:
        send(google_services)
    assert err.value.code == error
    assert fake_google.calls("drafts.create") == []


def test_token_endpoint_outage_is_transient(google_services, fake_google, monkeypatch):
    # google-auth retries the token endpoint itself (3 tries); skip its sleeps here.
    monkeypatch.setattr(_exponential_backoff.time, "sleep", lambda s: None)
    fake_google.fail_next("token", status=503, times=3)
    with pytest.raises(TransientError):
        send(google_services)


def test_token_endpoint_timeout_and_garbage_are_transient(google_services, fake_google):
    fake_google.slow_next("token", seconds=3)
    with pytest.raises(TransientError):
        send(google_services)
    fake_google.garbage_next("token")
    with pytest.raises(TransientError):
        send(google_services)
    assert send(google_services)


def test_unreachable_google_is_transient(fake_google):
    with FakeGoogle() as other:
        url = other.base_url
    services = GoogleServices(fake_google.service_account_file, base_url=url, timeout=0.5)
    with pytest.raises(TransientError):
        send(services)


def test_unusable_key_file_is_permanent(tmp_path, fake_google):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "service_account"}))
    services = GoogleServices(bad, base_url=fake_google.base_url, timeout=0.5)
    with pytest.raises(PermanentError) as err:
        send(services)
    assert err.value.code == "invalid_service_account"
