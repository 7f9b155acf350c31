"""Salesforce reads (upsells, amendments) and health write-back through simple_salesforce.

Upsells are closed-won `Opportunity` records whose `Type` is one of SALESFORCE_UPSELL_TYPES, with
their `OpportunityLineItems`; the success criteria come from `Description` unless another field
is named. Only the first page of line items per opportunity is read (Salesforce returns up to 200
in a subquery), which is plenty for an expansion.

Lost renewals (churn) are closed, not won `Opportunity` records whose `Type` is one of the
renewal types ("Renewal" unless another list is passed); their `Amount` is the ARR that was up for
renewal, their `CloseDate` the day it was lost.

Amendments (assumption, standard Salesforce has no amendment object outside CPQ): an amendment is
a `Contract` that points at the contract it amends through the custom lookup `Amendment_Of__c`
and at the expansion opportunity through `Opportunity__c`, carries the ARR delta in the custom
currency field `ARR_Change__c`, and counts as signed once activated (`StatusCode = 'Activated'`).
Its signed date is `CustomerSignedDate`, else the date of `ActivatedDate`, else `StartDate`.
The three custom API names can be changed through `AmendmentFields`.
"""

import logging
from datetime import datetime
from functools import cached_property

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

from core.integrations.base import (
    Amendment,
    LostRenewal,
    NotConfigured,
    Opportunity,
    PermanentError,
    TransientError,
)
from core.integrations.salesforce_soql import (
    AmendmentFields,
    amendment_query,
    field_name,
    lost_renewal_query,
    parse_amendment,
    parse_lost_renewal,
    parse_opportunity,
    upsell_query,
)

log = logging.getLogger(__name__)

RENEWAL_TYPES = ("Renewal",)
_TRANSIENT_CODES = {"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"}


class _SessionAdapter(HTTPAdapter):
    """Give every request a timeout and the session's own CA bundle, and never retry.

    simple_salesforce sets no timeout on most calls, and requests lets REQUESTS_CA_BUNDLE
    override a session's `verify`; a CA bundle chosen in code should win.
    """

    def __init__(self, timeout: float, verify: str | None):
        super().__init__(max_retries=0)
        self.timeout = timeout
        self.verify = verify

    def send(self, request, timeout=None, **kwargs):
        if self.verify is not None:
            kwargs["verify"] = self.verify
        return super().send(request, timeout=timeout or self.timeout, **kwargs)


def _error_code(exc: SalesforceError) -> str | None:
    if isinstance(exc, SalesforceAuthenticationFailed):
        return str(exc.code) if exc.code else "authentication_failed"
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("errorCode") or content[0].get("error")
    if isinstance(content, dict):
        return content.get("errorCode") or content.get("error")
    return None


def translate_salesforce_error(exc: Exception, what: str) -> Exception:
    """Map simple_salesforce/requests failures to TransientError or PermanentError."""
    if isinstance(exc, SalesforceError):
        code = _error_code(exc)
        status = getattr(exc, "status", None)
        message = f"Salesforce {what}: HTTP {status} {code or ''}: {exc}"[:2000]
        transient_status = isinstance(status, int) and (status >= 500 or status in (408, 429))
        if code in _TRANSIENT_CODES or transient_status:
            return TransientError(message, code=code or f"http_{status}")
        return PermanentError(message, code=code or f"http_{status}")
    is_json_error = isinstance(exc, ValueError)  # requests' JSONDecodeError is both kinds
    if isinstance(exc, requests.RequestException | OSError) and not is_json_error:
        return TransientError(f"Salesforce {what}: {type(exc).__name__}: {exc}")
    # JSON decoding errors and records missing the fields we asked for.
    return TransientError(f"Salesforce {what}: malformed answer: {exc}", code="malformed_response")


class SalesforceCrm:
    """Read closed upsells, lost renewals and amendments; write a health value to the Account.

    A `session` passed in (e.g. one whose `verify` is a test CA) gets an adapter that applies
    `timeout` to every request and never retries; the outbox owns retries.
    """

    def __init__(
        self,
        *,
        instance_url: str | None = None,
        access_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
        domain: str = "login",
        upsell_types: list[str] | None = None,
        renewal_types: list[str] | None = None,
        health_field: str = "Outcomes_Health__c",
        criteria_field: str = "Description",
        amendment_fields: AmendmentFields | None = None,
        session: requests.Session | None = None,
        timeout: float = 30,
        version: str | None = None,
    ):
        if not (
            (instance_url and access_token)
            or (username and password and security_token is not None)
        ):
            raise NotConfigured("Salesforce needs an instance URL and access token, or a login")
        self._auth = dict(
            instance_url=instance_url,
            access_token=access_token,
            username=username,
            password=password,
            security_token=security_token,
            domain=domain,
        )
        self.upsell_types = [t.strip() for t in (upsell_types or []) if t.strip()]
        renewals = RENEWAL_TYPES if renewal_types is None else renewal_types
        self.renewal_types = [t.strip() for t in renewals if t.strip()]
        self.amendment_fields = amendment_fields or AmendmentFields()
        try:
            self.health_field = field_name(health_field)
            self.criteria_field = field_name(criteria_field)
            for name in vars(self.amendment_fields).values():
                field_name(name)
        except ValueError as exc:
            raise PermanentError(f"Salesforce settings: {exc}", code="invalid_setting") from exc
        self.timeout = timeout
        self.version = version
        self.session = session or requests.Session()
        verify = self.session.verify if isinstance(self.session.verify, str) else None
        adapter = _SessionAdapter(timeout, verify)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    @cached_property
    def sf(self) -> Salesforce:
        """Return the client, logging in on first use when a username is configured."""
        auth = self._auth
        extra = {"version": self.version} if self.version else {}
        try:
            if auth["instance_url"] and auth["access_token"]:
                return Salesforce(
                    instance_url=auth["instance_url"],
                    session_id=auth["access_token"],
                    session=self.session,
                    **extra,
                )
            return Salesforce(
                username=auth["username"],
                password=auth["password"],
                security_token=auth["security_token"],
                domain=auth["domain"],
                session=self.session,
                **extra,
            )
        except Exception as exc:
            raise translate_salesforce_error(exc, "login") from exc

    def _query(self, soql: str, what: str) -> list[dict]:
        try:
            result = self.sf.query_all(soql, timeout=self.timeout)
            return list(result["records"])
        except (TransientError, PermanentError):
            raise
        except Exception as exc:
            raise translate_salesforce_error(exc, what) from exc

    def closed_upsells_since(self, since: datetime | None) -> list[Opportunity]:
        """Return closed-won expansion opportunities modified after `since`, oldest first."""
        if not self.upsell_types:
            return []
        soql = upsell_query(self.upsell_types, since, self.criteria_field)
        records = self._query(soql, "upsell query")
        try:
            return [parse_opportunity(r, self.criteria_field) for r in records]
        except (KeyError, TypeError, ValueError) as exc:
            raise translate_salesforce_error(exc, "upsell query") from exc

    def amendments_since(self, since: datetime | None) -> list[Amendment]:
        """Return activated contract amendments modified after `since`, oldest first."""
        records = self._query(amendment_query(since, self.amendment_fields), "amendment query")
        try:
            return [parse_amendment(r, self.amendment_fields) for r in records]
        except (KeyError, TypeError, ValueError) as exc:
            raise translate_salesforce_error(exc, "amendment query") from exc

    def lost_renewals_since(self, since: datetime | None) -> list[LostRenewal]:
        """Return renewal opportunities closed as lost modified after `since`, oldest first."""
        if not self.renewal_types:
            return []
        records = self._query(lost_renewal_query(self.renewal_types, since), "renewal query")
        try:
            return [parse_lost_renewal(r) for r in records]
        except (KeyError, TypeError, ValueError) as exc:
            raise translate_salesforce_error(exc, "renewal query") from exc

    def write_account_value(self, *, account_id: str, value: float) -> str:
        """Write `value` to the configured Account field; return the account id."""
        try:
            self.sf.Account.update(account_id, {self.health_field: float(value)})
        except (TransientError, PermanentError):
            raise
        except Exception as exc:
            raise translate_salesforce_error(exc, "Account update") from exc
        return account_id


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def salesforce_from_settings(
    settings, *, session: requests.Session | None = None, timeout: float = 30
) -> SalesforceCrm:
    """Build the CRM wrapper from settings; NotConfigured without credentials."""
    return SalesforceCrm(
        instance_url=settings.salesforce_instance_url,
        access_token=_secret(settings.salesforce_access_token),
        username=settings.salesforce_username,
        password=_secret(settings.salesforce_password),
        security_token=_secret(settings.salesforce_security_token),
        domain=settings.salesforce_domain,
        upsell_types=settings.salesforce_upsell_types.split(","),
        health_field=settings.salesforce_health_field,
        session=session,
        timeout=timeout,
    )
