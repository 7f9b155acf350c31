"""Process configuration read from the environment (and an optional .env file)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

AuthMode = Literal["demo", "oidc"]
# The settings single sign-on needs, by their environment names (the redirect URL has a default).
OIDC_REQUIRED = (
    "OIDC_SERVER_METADATA_URL",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_COOKIE_SECRET",
)


class Settings(BaseSettings):
    """Every setting the app reads; names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset starts the embedded server in DATA_DIR."
    )
    database_read_url: str | None = None  # a read replica for read-only work; unset: the primary
    data_dir: Path = Field(
        default=ROOT / ".data", description="Where the embedded server keeps data."
    )
    app_port: int = 8501
    api_port: int = 8000
    # API worker processes: one per core serves requests in parallel (each has its own pool).
    api_workers: int = Field(default=2, ge=1, le=64)
    bind_host: str = "127.0.0.1"
    app_base_url: str = Field(
        default="http://localhost:8501", description="The web UI's public address (API links)."
    )
    demo_customers: int = 200
    demo_seed: int = 7

    jobs_heartbeat_seconds: int = 60

    auth_mode: AuthMode | None = Field(
        default=None,
        description="demo or oidc; unset: oidc when any OIDC_* setting is set, else demo.",
    )
    oidc_server_metadata_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_cookie_secret: SecretStr | None = None
    oidc_redirect_url: str | None = Field(
        default=None, description="Unset: http://localhost:APP_PORT/oauth2callback."
    )

    slack_bot_token: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    slack_wins_channel: str = "#customer-wins"

    google_service_account_file: Path | None = None
    google_api_base_url: str | None = None
    google_drive_folder_id: str | None = None

    salesforce_instance_url: str | None = None
    salesforce_access_token: SecretStr | None = None
    salesforce_username: str | None = None
    salesforce_password: SecretStr | None = None
    salesforce_security_token: SecretStr | None = None
    salesforce_domain: str = "login"
    salesforce_upsell_types: str = "Expansion,Upsell,Cross-Sell"
    salesforce_health_field: str = "Outcomes_Health__c"

    @field_validator(
        "oidc_server_metadata_url",
        "oidc_client_id",
        "oidc_client_secret",
        "oidc_cookie_secret",
        "oidc_redirect_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value):
        # `OIDC_CLIENT_ID=` in a .env file means "not set", not an empty client id.
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("auth_mode", mode="before")
    @classmethod
    def _mode_in_any_case(cls, value):
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @model_validator(mode="after")
    def _sign_in_defaults(self) -> Self:
        # Any OIDC setting means single sign-on was meant: a half-configured one is refused with
        # the missing names rather than quietly falling back to demo sign-in.
        if self.auth_mode is None:
            configured = any(getattr(self, name.lower()) for name in OIDC_REQUIRED)
            self.auth_mode = "oidc" if configured or self.oidc_redirect_url else "demo"
        if self.oidc_redirect_url is None:
            self.oidc_redirect_url = f"http://localhost:{self.app_port}/oauth2callback"
        return self

    def missing_oidc_settings(self) -> list[str]:
        """Return the environment names of the single sign-on settings that are unset."""
        return [name for name in OIDC_REQUIRED if not getattr(self, name.lower())]


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
