"""Google API services for a service account with domain-wide delegation, and error mapping.

Each (api, subject) gets its own `AuthorizedHttp` over an `httplib2.Http(timeout=...)`, built once
and cached per thread (httplib2 connections are not thread-safe). Discovery documents come from
the copies packaged with google-api-python-client, so building a service makes no request.
"""

import http.client
import json
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import google_auth_httplib2
import httplib2
from google.auth import exceptions as auth_exceptions
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from core.integrations.base import NotConfigured, PermanentError, TransientError

log = logging.getLogger(__name__)

# api -> (version, scopes, servicePath from the discovery document)
APIS: dict[str, tuple[str, list[str], str]] = {
    "gmail": ("v1", ["https://www.googleapis.com/auth/gmail.compose"], ""),
    "drive": ("v3", ["https://www.googleapis.com/auth/drive"], "drive/v3/"),
    "calendar": ("v3", ["https://www.googleapis.com/auth/calendar.events"], "calendar/v3/"),
}
# Google answers some rate limits with 403 and one of these reasons.
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
_PERMANENT_TOKEN_ERRORS = {
    "invalid_grant",
    "unauthorized_client",
    "invalid_client",
    "access_denied",
}


class GoogleServices:
    """Build and cache API services acting as a delegated user (or the service account)."""

    def __init__(
        self, service_account_file: str | Path, *, base_url: str | None = None, timeout: float = 10
    ):
        self.service_account_file = Path(service_account_file)
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.timeout = timeout
        self._local = threading.local()

    def _credentials(self, api: str, subject: str | None):
        _, scopes, _ = APIS[api]
        try:
            creds = service_account.Credentials.from_service_account_file(
                str(self.service_account_file), scopes=scopes
            )
        except (OSError, ValueError, auth_exceptions.GoogleAuthError) as exc:
            raise PermanentError(
                f"Google service-account file {self.service_account_file} is unusable: {exc}",
                code="invalid_service_account",
            ) from exc
        return creds.with_subject(subject) if subject else creds

    def service(self, api: str, subject: str | None = None):
        """Return the cached `googleapiclient` resource for `api` acting as `subject`."""
        cache = getattr(self._local, "services", None)
        if cache is None:
            cache = self._local.services = {}
        key = (api, subject)
        if key not in cache:
            version, _, service_path = APIS[api]
            authed = google_auth_httplib2.AuthorizedHttp(
                self._credentials(api, subject), http=httplib2.Http(timeout=self.timeout)
            )
            options = {"api_endpoint": self.base_url + service_path} if self.base_url else None
            cache[key] = build(
                api,
                version,
                http=authed,
                cache_discovery=False,
                static_discovery=True,
                client_options=options,
            )
        return cache[key]

    def align_upload(self, request):
        """Give a media upload request the base URL's scheme (googleapiclient keeps https)."""
        if self.base_url:
            scheme = urlsplit(self.base_url).scheme
            parts = urlsplit(request.uri)
            if parts.scheme != scheme:
                request.uri = urlunsplit(parts._replace(scheme=scheme))
        return request


def _http_error_reason(exc: HttpError) -> str:
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        errors = error.get("errors") or []
        if errors and errors[0].get("reason"):
            return str(errors[0]["reason"])
        if error.get("status"):
            return str(error["status"])
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        pass
    return f"http_{exc.status_code}"


def _retry_after(exc: HttpError) -> float | None:
    try:
        return float(exc.resp.get("retry-after"))
    except (TypeError, ValueError):
        return None


def translate_http_error(exc: HttpError, what: str) -> Exception:
    """Map an HttpError: 429/5xx/403-rate-limit transient, other 4xx permanent (code = reason)."""
    status = exc.status_code
    reason = _http_error_reason(exc)
    message = f"Google {what}: HTTP {status} {reason}: {exc.reason}"
    if status in (408, 429) or status >= 500 or reason in _RATE_LIMIT_REASONS:
        return TransientError(message, code=reason, retry_after=_retry_after(exc))
    return PermanentError(message, code=reason)


def _refresh_error_code(exc: Exception) -> str | None:
    for arg in exc.args:
        if isinstance(arg, dict) and arg.get("error"):
            return str(arg["error"])
    text = str(exc)
    return next((c for c in _PERMANENT_TOKEN_ERRORS if c in text), None)


def translate_auth_error(exc: Exception, what: str) -> Exception:
    """Map token-endpoint failures: bad grant/client permanent, the rest transient."""
    code = _refresh_error_code(exc)
    message = f"Google {what}: token request failed: {exc}"
    refused = code in _PERMANENT_TOKEN_ERRORS or not getattr(exc, "retryable", True)
    if isinstance(exc, auth_exceptions.RefreshError) and refused:
        return PermanentError(message, code=code or "token_refused")
    return TransientError(message, code=code or "token_unavailable")


def execute(request, what: str):
    """Execute a googleapiclient request; raise only TransientError/PermanentError."""
    try:
        return request.execute(num_retries=0)
    except HttpError as exc:
        raise translate_http_error(exc, what) from exc
    except (auth_exceptions.RefreshError, auth_exceptions.TransportError) as exc:
        raise translate_auth_error(exc, what) from exc
    except (OSError, httplib2.HttpLib2Error, http.client.HTTPException) as exc:
        raise TransientError(f"Google {what}: {type(exc).__name__}: {exc}") from exc
    except (ValueError, TypeError, KeyError) as exc:  # a 2xx answer that is not the JSON expected
        raise TransientError(
            f"Google {what}: malformed answer: {exc}", code="malformed_response"
        ) from exc


def services_from_settings(settings, *, timeout: float = 10) -> GoogleServices:
    """Build GoogleServices from settings; NotConfigured without a readable service-account file."""
    path = settings.google_service_account_file
    if not path:
        raise NotConfigured("Google is not configured (GOOGLE_SERVICE_ACCOUNT_FILE is empty)")
    if not Path(path).is_file():
        raise NotConfigured(f"Google service-account file {path} does not exist")
    return GoogleServices(path, base_url=settings.google_api_base_url, timeout=timeout)
