"""The UI starts only with a sign-in that fits where it listens; st.login gets its secrets."""

import os
import subprocess
import sys
import tomllib

import pytest

from app.run import ui_command
from app.sign_in_setup import (
    DEMO_EXPOSED,
    SECRETS_FILE,
    is_loopback,
    prepare_ui_secrets,
    refusal,
)
from core.settings import ROOT, Settings

OIDC = {
    "oidc_server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    "oidc_client_id": "outcomes",
    "oidc_client_secret": 'se"cr\\et',
    "oidc_cookie_secret": "a-long-random-cookie-secret",
}


def settings(**values) -> Settings:
    # _env_file=None: a developer's .env must not leak into these cases.
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def no_sign_in_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("OIDC_", "AUTH_MODE", "BIND_HOST")):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.2", True),
        ("unix:///tmp/outcomes.sock", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("outcomes.internal", False),
        ("", False),
        (None, False),
    ],
)
def test_loopback_addresses(host, local):
    assert is_loopback(host) is local


def test_demo_is_the_default_and_stays_on_this_computer():
    demo = settings()
    assert demo.auth_mode == "demo"
    assert refusal(demo, "127.0.0.1") is None
    assert refusal(demo, "0.0.0.0") == DEMO_EXPOSED
    assert refusal(demo, None) == DEMO_EXPOSED  # Streamlit's default: every interface


def test_any_oidc_setting_turns_single_sign_on_on_and_names_what_is_missing():
    partial = settings(oidc_client_id="outcomes")
    assert partial.auth_mode == "oidc"
    assert refusal(partial, "0.0.0.0") == (
        "Refusing to start: AUTH_MODE=oidc needs OIDC_SERVER_METADATA_URL, OIDC_CLIENT_SECRET, "
        "OIDC_COOKIE_SECRET; set them (see Sign-in in the README), or use AUTH_MODE=demo on "
        "127.0.0.1."
    )
    one_short = settings(**{**OIDC, "oidc_cookie_secret": "  "})
    assert "needs OIDC_COOKIE_SECRET; set it " in refusal(one_short, "0.0.0.0")


def test_complete_oidc_may_listen_anywhere():
    oidc = settings(**OIDC, app_port=9000)
    assert oidc.auth_mode == "oidc"
    assert oidc.oidc_redirect_url == "http://localhost:9000/oauth2callback"
    assert refusal(oidc, "0.0.0.0") is None


def test_demo_can_be_forced_while_oidc_settings_stay():
    forced = settings(**OIDC, auth_mode="DEMO")
    assert forced.auth_mode == "demo"
    assert refusal(forced, "0.0.0.0") == DEMO_EXPOSED


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("outcomes.example.com/oauth2callback", "must be the UI's absolute address"),
        ("https://outcomes.example.com/callback", "must end in /oauth2callback"),
    ],
)
def test_a_redirect_url_streamlit_cannot_serve_is_refused(url, words):
    assert words in refusal(settings(**OIDC, oidc_redirect_url=url), "0.0.0.0")


def test_oidc_writes_the_auth_secrets_after_the_usual_files(tmp_path):
    oidc = settings(**OIDC, data_dir=tmp_path, oidc_redirect_url="https://o.example/oauth2callback")
    args = prepare_ui_secrets(oidc, ROOT)
    written = tmp_path / SECRETS_FILE
    assert args[-2:] == ["--secrets.files", str(written)]
    assert str(ROOT / ".streamlit" / "secrets.toml") in args  # a person's own secrets still load
    assert (written.stat().st_mode & 0o777) == 0o600
    assert tomllib.loads(written.read_text()) == {
        "auth": {
            "redirect_uri": "https://o.example/oauth2callback",
            "cookie_secret": "a-long-random-cookie-secret",
            "client_id": "outcomes",
            "client_secret": 'se"cr\\et',
            "server_metadata_url": OIDC["oidc_server_metadata_url"],
        }
    }
    assert ui_command(oidc, args)[-len(args) :] == args


def test_demo_removes_a_stale_secrets_file(tmp_path):
    (tmp_path / SECRETS_FILE).write_text("[auth]\n")
    assert prepare_ui_secrets(settings(data_dir=tmp_path), ROOT) == []
    assert not (tmp_path / SECRETS_FILE).exists()


def _launcher(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OIDC_", "AUTH_MODE", "BIND_HOST", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "app.run"],
        cwd=ROOT,
        env={**clean, "DATA_DIR": str(tmp_path / "data"), "APP_PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_run_refuses_demo_sign_in_on_every_interface(tmp_path):
    result = _launcher(tmp_path, BIND_HOST="0.0.0.0")
    assert result.returncode == 1
    assert result.stderr.strip() == DEMO_EXPOSED
    assert not (tmp_path / "data").exists()  # refused before the database was started


def test_make_run_refuses_incomplete_single_sign_on(tmp_path):
    result = _launcher(tmp_path, AUTH_MODE="oidc", OIDC_CLIENT_ID="outcomes")
    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        "Refusing to start: AUTH_MODE=oidc needs OIDC_SERVER_METADATA_URL, OIDC_CLIENT_SECRET"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_make_run_names_an_unknown_auth_mode(tmp_path):
    result = _launcher(tmp_path, AUTH_MODE="password")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Refusing to start: AUTH_MODE is not valid (Input should be 'demo' or 'oidc')."
    )
