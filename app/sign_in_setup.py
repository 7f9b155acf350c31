"""Whether the web UI may start with its sign-in settings, and the secrets st.login reads.

Streamlit's `st.login` reads its OIDC client from the `[auth]` section of its secrets. `make run`
writes that section from the OIDC_* settings to a file of its own in DATA_DIR and hands Streamlit
that file after the usual secrets.toml files (`--secrets.files`), so the settings decide sign-in
while a person's own `.streamlit/secrets.toml` is never written to.
"""

import ipaddress
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from core.settings import Settings

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
CALLBACK_PATH = "/oauth2callback"
SECRETS_FILE = "streamlit-auth-secrets.toml"

DEMO_EXPOSED = (
    "Refusing to start: demo sign-in lets anyone pick any user, so the UI may only listen on "
    "127.0.0.1 in demo mode; set AUTH_MODE=oidc with the OIDC_* settings, or BIND_HOST=127.0.0.1."
)


def invalid_setting(exc: ValidationError) -> str:
    """Return the one sentence naming the first setting that is not valid."""
    error = exc.errors()[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "a setting"
    return f"Refusing to start: {name} is not valid ({error['msg']})."


def is_loopback(host: str | None) -> bool:
    """Tell whether listening on `host` keeps the UI on this computer (a Unix socket does)."""
    if not host:
        return False  # unset means every interface
    if host.startswith("unix://"):
        return True
    name = host.strip().lower().strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name in LOOPBACK


def refusal(settings: Settings, host: str | None) -> str | None:
    """Return the one sentence saying why the UI may not listen on `host`, or None."""
    if settings.auth_mode == "demo":
        return None if is_loopback(host) else DEMO_EXPOSED
    missing = settings.missing_oidc_settings()
    if missing:
        names = ", ".join(missing)
        return (
            f"Refusing to start: AUTH_MODE=oidc needs {names}; set "
            f"{'it' if len(missing) == 1 else 'them'} (see Sign-in in the README), or use "
            "AUTH_MODE=demo on 127.0.0.1."
        )
    redirect = urlsplit(settings.oidc_redirect_url or "")
    if redirect.scheme not in ("http", "https") or not redirect.netloc:
        return (
            "Refusing to start: OIDC_REDIRECT_URL must be the UI's absolute address ending in "
            f"{CALLBACK_PATH}, e.g. https://outcomes.example.com{CALLBACK_PATH}."
        )
    if not redirect.path.endswith(CALLBACK_PATH):
        return (
            f"Refusing to start: OIDC_REDIRECT_URL must end in {CALLBACK_PATH} (Streamlit's "
            f"sign-in callback), e.g. {redirect.scheme}://{redirect.netloc}{CALLBACK_PATH}."
        )
    return None


def auth_secrets(settings: Settings) -> dict[str, str]:
    """Return the `[auth]` section st.login needs, built from the OIDC settings."""
    return {
        "redirect_uri": settings.oidc_redirect_url or "",
        "cookie_secret": settings.oidc_cookie_secret.get_secret_value(),
        "client_id": settings.oidc_client_id or "",
        "client_secret": settings.oidc_client_secret.get_secret_value(),
        "server_metadata_url": settings.oidc_server_metadata_url or "",
    }


def secrets_path(settings: Settings) -> Path:
    """Return where `make run` keeps the generated `[auth]` secrets (in DATA_DIR)."""
    return Path(settings.data_dir) / SECRETS_FILE


def write_auth_secrets(settings: Settings, path: Path) -> Path:
    """Write the `[auth]` section to `path`, readable by this user only; return `path`."""
    # TOML basic strings take JSON's escapes, so json.dumps quotes any value safely.
    lines = ["# Written by `make run` from the OIDC_* settings; edits are overwritten.", "[auth]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in auth_secrets(settings).items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def secrets_args(path: Path, project: Path) -> list[str]:
    """Return `streamlit run` flags reading the usual secrets files, then the generated one."""
    files = [Path.home() / ".streamlit" / "secrets.toml", project / ".streamlit" / "secrets.toml"]
    files.append(path)
    return [arg for file in files for arg in ("--secrets.files", str(file))]


def prepare_ui_secrets(settings: Settings, project: Path) -> list[str]:
    """Write (OIDC) or remove (demo) the generated secrets; return the flags for the UI."""
    path = secrets_path(settings)
    if settings.auth_mode != "oidc":
        path.unlink(missing_ok=True)  # no client secret lies around unused
        return []
    return secrets_args(write_auth_secrets(settings, path), project)
