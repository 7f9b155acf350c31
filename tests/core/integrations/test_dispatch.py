import pytest

from core.integrations import dispatch, escape
from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.integrations.google import calendar_event_id


@pytest.fixture(autouse=True)
def fresh_cache():
    dispatch.clear_cache()
    yield
    dispatch.clear_cache()


@pytest.fixture
def settings(settings_for, fake_slack, fake_google, fake_salesforce, monkeypatch):
    # Settings-built Salesforce sessions trust the fake's CA the way a deployment would.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_salesforce.ca_bundle)
    return settings_for(
        slack_bot_token=fake_slack.token,
        slack_api_base_url=fake_slack.api_url,
        slack_wins_channel="#wins",
        google_service_account_file=fake_google.service_account_file,
        google_api_base_url=fake_google.base_url,
        google_drive_folder_id="FOLDER9",
        salesforce_instance_url=fake_salesforce.base_url,
        salesforce_access_token=fake_salesforce.access_token,
    )


def test_slack_message_goes_to_the_wins_channel_by_default(settings, fake_slack):
    payload = {
        "text": "Acme <!channel> & co reached a goal",
        "blocks": [escape.section("Quote: <!channel> & <@U1>")],
    }
    ts = dispatch.deliver("slack_message", payload, settings)
    (message,) = fake_slack.messages
    assert ts == message["ts"]
    assert message["channel"] == "#wins"
    assert "<!channel>" not in str(message) and "<@U1>" not in str(message)
    dispatch.deliver("slack_message", {**payload, "channel": "C123"}, settings)
    assert fake_slack.messages[1]["channel"] == "C123"


def test_slack_dm(settings, fake_slack):
    payload = {"email": "casey@example.com", "text": "Draft ready", "blocks": []}
    assert dispatch.deliver("slack_dm", payload, settings) == fake_slack.messages[0]["ts"]
    assert fake_slack.messages[0]["channel"] == "U0CASEY"


def test_gmail(settings, fake_google):
    payload = {
        "sender": "casey@example.com",
        "to": "pat@customer.test, sam@customer.test",
        "cc": ["lead@example.com"],
        "subject": "Congratulations",
        "text": "Well done",
        "html": "<p>Well done</p>",
    }
    message_id = dispatch.deliver("gmail", payload, settings)
    (sent,) = fake_google.sent
    assert message_id == sent["id"]
    assert sent["to"] == "pat@customer.test, sam@customer.test"
    assert sent["cc"] == "lead@example.com"
    assert sent["user"] == "casey@example.com"


def test_google_doc_is_created_once(settings, fake_google):
    payload = {
        "recordId": "ach-7",
        "title": "Acme success story",
        "blocks": [
            {"kind": "heading", "text": "Results", "level": 1},
            {"kind": "table", "rows": [["Metric", "Value"], ["NPS", 61]]},
            {"kind": "paragraph", "text": "<script>x</script>"},
        ],
    }
    url = dispatch.deliver("google_doc", payload, settings)
    assert dispatch.deliver("google_doc", payload, settings) == url
    (doc,) = fake_google.files.values()
    assert doc["parents"] == ["FOLDER9"]
    assert "<td" in doc["html"] and ">61</td>" in doc["html"]
    assert "&lt;script&gt;" in doc["html"]


def test_calendar(settings, fake_google):
    event_id = calendar_event_id("checkpoint", "c-1")
    payload = {
        "organizer": "casey@example.com",
        "eventId": event_id,
        "summary": "30-day review",
        "start": "2025-03-04T15:00:00+00:00",
        "end": "2025-03-04T15:30:00+00:00",
        "attendees": ["pat@customer.test"],
    }
    assert dispatch.deliver("calendar", payload, settings) == event_id
    assert dispatch.deliver("calendar", payload, settings) == event_id
    assert fake_google.events[event_id]["attendees"] == [{"email": "pat@customer.test"}]
    assert fake_google.events[event_id]["description"] == ""


def test_salesforce(settings, fake_salesforce):
    payload = {"accountId": "001XYZ", "value": "0.75"}
    assert dispatch.deliver("salesforce", payload, settings) == "001XYZ"
    assert fake_salesforce.account_updates == [("001XYZ", {"Outcomes_Health__c": 0.75})]


def test_injected_clients_are_used(settings_for):
    class Recorder:
        def post_message(self, *, channel, text, blocks):
            self.seen = (channel, text, blocks)
            return "123.456"

    fake = Recorder()
    ref = dispatch.deliver(
        "slack_message", {"text": "t", "blocks": []}, settings_for(), clients={"slack": fake}
    )
    assert ref == "123.456"
    assert fake.seen == ("#customer-wins", "t", [])


def test_wrappers_are_cached_per_settings(settings, fake_google):
    payload = {"sender": "casey@example.com", "to": ["p@c.test"], "subject": "s", "text": "t"}
    for _ in range(3):
        dispatch.deliver("gmail", payload, settings)
    assert len(fake_google.calls("token")) == 1
    assert dispatch.client_for("gmail", settings) is dispatch.client_for("gmail", settings)
    assert dispatch.client_for("slack", settings) is not dispatch.client_for(
        "slack", settings.model_copy(update={"slack_api_base_url": "http://127.0.0.1:9/api/"})
    )


def test_not_configured(settings_for):
    empty = settings_for()
    for channel, payload in [
        ("slack_message", {"text": "t", "blocks": []}),
        ("gmail", {"sender": "a@b.c", "to": ["d@e.f"], "subject": "s", "text": "t"}),
        ("salesforce", {"accountId": "001", "value": 1}),
    ]:
        with pytest.raises(NotConfigured):
            dispatch.deliver(channel, payload, empty)


def test_unknown_channel_and_invalid_payloads_are_permanent(settings):
    with pytest.raises(PermanentError) as err:
        dispatch.deliver("fax", {}, settings)
    assert err.value.code == "unknown_channel"
    for channel, payload in [
        ("slack_dm", {"text": "no email"}),
        ("calendar", {"organizer": "a", "eventId": "abcde", "summary": "s", "start": "soon"}),
        ("salesforce", {"accountId": "001", "value": "high"}),
        ("google_doc", {"recordId": "r", "title": "t", "blocks": [{"text": "no kind"}]}),
    ]:
        with pytest.raises(PermanentError) as err:
            dispatch.deliver(channel, payload, settings)
        assert err.value.code == "invalid_payload"


def test_errors_pass_through_and_surprises_become_transient(settings, fake_slack):
    fake_slack.error_next("chat.postMessage", "channel_not_found")
    with pytest.raises(PermanentError) as err:
        dispatch.deliver("slack_message", {"text": "t", "blocks": []}, settings)
    assert err.value.code == "channel_not_found"

    class Broken:
        def post_message(self, **kwargs):
            raise RuntimeError("bug")

    with pytest.raises(TransientError) as err:
        dispatch.deliver("slack_message", {"text": "t"}, settings, clients={"slack": Broken()})
    assert err.value.code == "unexpected_error"


def test_configured(settings_for, settings, tmp_path):
    assert dispatch.configured(settings_for()) == dict.fromkeys(dispatch.CLIENT_KIND, False)
    assert dispatch.configured(settings) == dict.fromkeys(dispatch.CLIENT_KIND, True)
    partial = settings.model_copy(update={"google_drive_folder_id": None})
    assert dispatch.configured(partial)["google_doc"] is False
    assert dispatch.configured(partial)["gmail"] is True
    missing = settings.model_copy(update={"google_service_account_file": tmp_path / "no.json"})
    assert dispatch.configured(missing)["calendar"] is False
