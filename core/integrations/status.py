"""What each integration is for, which settings it needs, and whether it has them."""

from dataclasses import dataclass

from core.integrations.dispatch import configured


@dataclass(frozen=True)
class IntegrationState:
    name: str
    purpose: str
    channels: tuple[str, ...]
    settings: tuple[str, ...]
    configured: bool


CATALOGUE = (
    (
        "Slack",
        "Wins channel celebrations and CSM alerts",
        ("slack_message", "slack_dm"),
        ("SLACK_BOT_TOKEN",),
    ),
    (
        "Gmail",
        "Customer emails after a CSM approves them",
        ("gmail",),
        ("GOOGLE_SERVICE_ACCOUNT_FILE",),
    ),
    (
        "Google Docs",
        "Success records and review summaries",
        ("google_doc",),
        ("GOOGLE_SERVICE_ACCOUNT_FILE", "GOOGLE_DRIVE_FOLDER_ID"),
    ),
    (
        "Google Calendar",
        "Checkpoint review meetings",
        ("calendar",),
        ("GOOGLE_SERVICE_ACCOUNT_FILE",),
    ),
    (
        "Salesforce",
        "Closed upsells in, health values out",
        ("salesforce",),
        ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"),
    ),
)


def integration_states(settings=None) -> list[IntegrationState]:
    """Return every integration with its configuration state."""
    ready = configured(settings)
    return [
        IntegrationState(name, purpose, channels, needs, all(ready[c] for c in channels))
        for name, purpose, channels, needs in CATALOGUE
    ]
