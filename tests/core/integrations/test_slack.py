import time
from datetime import UTC, datetime

import pytest

from core.integrations import escape
from core.integrations.base import Attempt, NotConfigured, PermanentError, TransientError
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


def _attempt(key="delivery-1", tried_since=None):
    return Attempt(key=key, tried_since=tried_since)


def test_a_post_for_a_delivery_carries_its_key_as_metadata(messenger, fake_slack):
    ts = messenger.post_message(channel="#wins", text="x", blocks=[], attempt=_attempt())
    [call] = fake_slack.calls("chat.postMessage")
    assert call.json["metadata"] == {
        "event_type": "outcomes_delivery",
        "event_payload": {"idempotency_key": "delivery-1"},
    }
    assert [m["ts"] for m in fake_slack.posted("delivery-1")] == [ts]
    assert fake_slack.calls("conversations.history") == []  # a first try looks nothing up


def test_replies_that_arrive_after_the_timeout_are_adopted_not_posted_again(messenger, fake_slack):
    """The issue's 38 of 38 re-posts, scaled down: every post answers after the client gave up."""
    keys = [f"win-{i}" for i in range(5)]
    fake_slack.late_next("chat.postMessage", seconds=1.0, times=len(keys))
    started = datetime.now(UTC)
    for key in keys:
        with pytest.raises(TransientError):
            messenger.post_message(channel="#wins", text=key, blocks=[], attempt=_attempt(key))
    time.sleep(0.6)  # the late answers are written (and ignored) meanwhile
    for key in keys:
        ts = messenger.post_message(
            channel="#wins", text=key, blocks=[], attempt=_attempt(key, tried_since=started)
        )
        assert [m["ts"] for m in fake_slack.posted(key)] == [ts]
    assert len(fake_slack.messages) == len(keys)
    [listing] = fake_slack.calls("conversations.list")  # the name is resolved once
    history = fake_slack.calls("conversations.history")
    assert len(history) == len(keys)
    args = FakeSlack.params(history[0])
    assert args["include_all_metadata"] in ("1", "true")
    assert float(args["oldest"]) < started.timestamp()


def test_a_retry_that_finds_nothing_posts_once(messenger, fake_slack):
    messenger.post_message(channel="#wins", text="other", blocks=[], attempt=_attempt("other"))
    since = datetime.now(UTC)
    fake_slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(TransientError):
        messenger.post_message(channel="#wins", text="x", blocks=[], attempt=_attempt())
    ts = messenger.post_message(
        channel="#wins", text="x", blocks=[], attempt=_attempt(tried_since=since)
    )
    assert [m["ts"] for m in fake_slack.posted("delivery-1")] == [ts]


def test_the_search_reads_every_page_since_the_first_try(messenger, fake_slack):
    since = datetime.now(UTC)
    fake_slack.late_next("chat.postMessage", seconds=1.0)
    with pytest.raises(TransientError):
        messenger.post_message(channel="#wins", text="x", blocks=[], attempt=_attempt())
    for i in range(5):  # newer messages push it to the third page
        messenger.post_message(channel="#wins", text=f"n{i}", blocks=[])
    fake_slack.page_size = 2
    ts = messenger.post_message(
        channel="#wins", text="x", blocks=[], attempt=_attempt(tried_since=since)
    )
    assert [m["ts"] for m in fake_slack.posted("delivery-1")] == [ts]
    assert len(fake_slack.calls("conversations.history")) == 3


def test_a_direct_message_retry_looks_in_the_dm(messenger, fake_slack):
    since = datetime.now(UTC)
    fake_slack.drop_next("chat.postMessage")
    with pytest.raises(TransientError):
        messenger.post_direct_message(
            email="casey@example.com", text="Please review", blocks=[], attempt=_attempt()
        )
    ts = messenger.post_direct_message(
        email="casey@example.com",
        text="Please review",
        blocks=[],
        attempt=_attempt(tried_since=since),
    )
    assert [m["ts"] for m in fake_slack.posted("delivery-1")] == [ts]
    [opened] = fake_slack.calls("conversations.open")
    assert opened.form["users"] == "U0CASEY"
    assert FakeSlack.params(fake_slack.calls("conversations.history")[0])["channel"] == "D0CASEY"


def test_a_channel_id_is_searched_without_resolving_it(messenger, fake_slack):
    since = datetime.now(UTC)
    messenger.post_message(channel="C0WINS1234", text="x", blocks=[], attempt=_attempt())
    ts = messenger.post_message(
        channel="C0WINS1234", text="x", blocks=[], attempt=_attempt(tried_since=since)
    )
    assert len(fake_slack.posted("delivery-1")) == 1 and fake_slack.messages[0]["ts"] == ts
    assert fake_slack.calls("conversations.list") == []


def test_a_search_slack_refuses_is_not_a_reason_to_post_again(messenger, fake_slack):
    fake_slack.error_next("conversations.history", "missing_scope")
    with pytest.raises(PermanentError) as err:
        messenger.post_message(
            channel="C0WINS1234",
            text="x",
            blocks=[],
            attempt=_attempt(tried_since=datetime.now(UTC)),
        )
    assert err.value.code == "missing_scope"
    assert fake_slack.calls("chat.postMessage") == []
