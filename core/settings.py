"""Process configuration read from the environment (and an optional .env file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting the app reads; names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset starts the embedded server in DATA_DIR."
    )
    data_dir: Path = Field(
        default=ROOT / ".data", description="Where the embedded server keeps data."
    )
    app_port: int = 8501
    api_port: int = 8000
    bind_host: str = "127.0.0.1"
    demo_customers: int = 200
    demo_seed: int = 7

    jobs_heartbeat_seconds: int = 60

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


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
