import time

import pytest

from core.integrations import escape
from core.integrations.base import NotConfigured, PermanentError, TransientError
from core.integrations.slack import SlackMessenger, slack_from_settings
from tests.fakes.slack import FakeSlack


def test_post_message_sends_channel_text_and_blocks(messenger, fake_slack):
    blocks = [escape.header("Acme hit its goal"), escape.section("Adoption is up 40%")]
    ts1 = messenger.post_message(channel="#customer-wins", text="Acme hit its goal", blocks=blocks)
    ts2 = messenger.post_message(channel="#customer-wins", text="again", blocks=blocks)

    assert float(ts2) > float(ts1)
    (call, _) = fake_slack.calls("chat.postMessage")
    assert call.headers["Authorization"] == f"Bearer {fake_slack.token}"
    assert call.json["channel"] == "#customer-wins"
    assert call.json["blocks"] == blocks
    assert fake_slack.messages[0]["text"] == "Acme hit its goal"


def test_text_from_people_is_inert_in_what_slack_receives(messenger, fake_slack):
    quote = 'Customer said: "<!channel> this is great & fast" <https://evil.test|click>'
    blocks = [escape.section(quote), escape.fields([("Said", quote)])]
    messenger.post_message(channel="#customer-wins", text=quote, blocks=blocks)

    received = fake_slack.messages[0]
    serialized = str(received)
    assert "<!channel>" not in serialized
    assert "<https://evil.test" not in serialized
    assert received["text"].startswith('Customer said: "&lt;!channel&gt; this is great &amp; fast')
    assert "&lt;!channel&gt;" in received["blocks"][0]["text"]["text"]


def test_client_is_lazy_cached_and_never_retries_by_itself(messenger):
    assert "client" not in vars(messenger)
    assert messenger.client is messenger.client
    assert messenger.client.retry_handlers == []


def test_direct_message_looks_up_the_user_once(messenger, fake_slack):
    messenger.post_direct_message(email="Casey@Example.com", text="Please review", blocks=[])
    messenger.post_direct_message(email="casey@example.com", text="Reminder", blocks=[])

    assert len(fake_slack.calls("users.lookupByEmail")) == 1
    assert fake_slack.calls("users.lookupByEmail")[0].form["email"] == "Casey@Example.com"
    assert [m["channel"] for m in fake_slack.messages] == ["U0CASEY", "U0CASEY"]


def test_unknown_email_is_none_for_lookup_and_permanent_for_dm(messenger, fake_slack):
    assert messenger.user_id_for_email("nobody@example.com") is None
    with pytest.raises(PermanentError) as err:
        messenger.post_direct_message(email="nobody@example.com", text="hi", blocks=[])
    assert err.value.code == "users_not_found"
    assert fake_slack.calls("chat.postMessage") == []


def test_rate_limit_is_transient_with_retry_after(messenger, fake_slack):
    fake_slack.rate_limit_next("chat.postMessage", retry_after=3)
    with pytest.raises(TransientError) as err:
        messenger.post_message(channel="#c", text="x", blocks=[])
    assert err.value.retry_after == 3.0
    assert len(fake_slack.calls("chat.postMessage")) == 1  # the SDK did not retry on its own
    assert messenger.post_message(channel="#c", text="x", blocks=[])  # next call goes through


def test_server_errors_are_transient_and_not_retried_by_the_sdk(messenger, fake_slack):
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(TransientError):
            messenger.post_message(channel="#c", text="x", blocks=[])
    assert len(fake_slack.calls("chat.postMessage")) == 2


def test_timeout_is_transient(messenger, fake_slack):
    fake_slack.slow_next("chat.postMessage", seconds=3)
    started = time.monotonic()
    with pytest.raises(TransientError) as err:
        messenger.post_message(channel="#c", text="x", blocks=[])
    assert time.monotonic() - started < 2
    assert "timed out" in str(err.value).lower() or "timeout" in str(err.value).lower()


def test_malformed_json_is_transient(messenger, fake_slack):
    fake_slack.garbage_next("chat.postMessage")
    with pytest.raises(TransientError) as err:
        messenger.post_message(channel="#c", text="x", blocks=[])
    assert err.value.code == "malformed_response"


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "invalid_blocks"])
def test_permanent_codes_keep_the_code(messenger, fake_slack, code):
    fake_slack.error_next("chat.postMessage", code)
    with pytest.raises(PermanentError) as err:
        messenger.post_message(channel="#c", text="x", blocks=[])
    assert err.value.code == code


def test_other_error_codes_are_transient(messenger, fake_slack):
    fake_slack.error_next("chat.postMessage", "internal_error")
    with pytest.raises(TransientError) as err:
        messenger.post_message(channel="#c", text="x", blocks=[])
    assert err.value.code == "internal_error"


def test_bad_token_is_invalid_auth(fake_slack):
    messenger = SlackMessenger("xoxb-wrong", fake_slack.api_url, timeout=0.5)
    with pytest.raises(PermanentError) as err:
        messenger.post_message(channel="#c", text="x", blocks=[])
    assert err.value.code == "invalid_auth"


def test_connection_refused_is_transient():
    with FakeSlack() as fake:
        url = fake.api_url
    messenger = SlackMessenger("xoxb-test-token", url, timeout=0.5)
    with pytest.raises(TransientError):
        messenger.post_message(channel="#c", text="x", blocks=[])


def test_slack_from_settings(settings_for, fake_slack):
    with pytest.raises(NotConfigured):
        slack_from_settings(settings_for())
    with pytest.raises(NotConfigured):
        slack_from_settings(settings_for(slack_bot_token="  "))
    messenger = slack_from_settings(
        settings_for(slack_bot_token=fake_slack.token, slack_api_base_url=fake_slack.api_url)
    )
    assert messenger.post_message(channel="#c", text="x", blocks=[])
