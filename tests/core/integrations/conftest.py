"""Fixtures for the integration wrappers: fake servers and wrappers pointed at them."""

import pytest
import requests

from core.integrations.google import GoogleServices
from core.integrations.salesforce import SalesforceCrm
from core.integrations.slack import SlackMessenger
from core.settings import Settings

TIMEOUT = 0.5  # seconds; the fakes' slow replies sleep longer than this


@pytest.fixture
def messenger(fake_slack):
    return SlackMessenger(fake_slack.token, fake_slack.api_url, timeout=TIMEOUT)


@pytest.fixture
def google_services(fake_google):
    return GoogleServices(
        fake_google.service_account_file, base_url=fake_google.base_url, timeout=TIMEOUT
    )


@pytest.fixture
def sf_session(fake_salesforce):
    session = requests.Session()
    session.verify = fake_salesforce.ca_bundle
    return session


@pytest.fixture
def crm(fake_salesforce, sf_session):
    return SalesforceCrm(
        instance_url=fake_salesforce.base_url,
        access_token=fake_salesforce.access_token,
        upsell_types=["Expansion", "Upsell", "O'Brien's Cross-Sell"],
        session=sf_session,
        timeout=TIMEOUT,
    )


@pytest.fixture
def settings_for(tmp_path):
    """Build Settings (not from the environment) with the given overrides."""

    def make(**overrides):
        return Settings(_env_file=None, **overrides)

    return make
