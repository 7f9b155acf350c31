"""Pytest fixtures starting the fake servers (one fresh server per test, on 127.0.0.1:0).

Load with `pytest_plugins = ["tests.fakes.fixtures"]` in the root conftest, or import the
fixtures into a package conftest.
"""

import pytest

from tests.fakes.google import FakeGoogle
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.slack import FakeSlack


@pytest.fixture
def fake_slack():
    """A fake Slack Web API; `fake_slack.api_url` is the WebClient base_url."""
    with FakeSlack(users={"casey@example.com": "U0CASEY"}) as fake:
        yield fake


@pytest.fixture
def fake_google(tmp_path):
    """A fake Google (token, Gmail, Drive, Calendar); `.service_account_file` is ready to use."""
    with FakeGoogle() as fake:
        fake.service_account_file = fake.write_service_account(tmp_path)
        yield fake


@pytest.fixture
def fake_salesforce(tmp_path):
    """A fake Salesforce over HTTPS; `.ca_bundle` verifies it, `.base_url` is the instance URL."""
    with FakeSalesforce(tmp_path) as fake:
        yield fake
