"""Start-up problems stop `make run` with one clear sentence, not a traceback."""

import os
import socket
import subprocess
import sys

import pytest

from app.run import StartupError, check_database, check_port_free
from core.settings import ROOT


def _run_launcher(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "app.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_port_in_use_is_one_sentence():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StartupError, match=f"Port {port} for the API is already in use"):
            check_port_free(port, "127.0.0.1", "API", "API_PORT")


def test_unreachable_database_is_one_sentence():
    with pytest.raises(StartupError, match=r"Cannot reach the database at 127\.0\.0\.1:1/nowhere"):
        check_database("postgresql+psycopg://someone@127.0.0.1:1/nowhere")


def test_launcher_exits_cleanly_on_unreachable_database():
    result = _run_launcher(
        {
            "DATABASE_URL": "postgresql://someone@127.0.0.1:1/nowhere",
            "APP_PORT": "0",
            "API_PORT": "0",
        }
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Cannot reach the database")
    assert "Traceback" not in result.stderr


def test_launcher_exits_cleanly_when_port_is_taken():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run_launcher({"APP_PORT": str(port), "API_PORT": "0"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Port {port} for the web UI is already in use (Address already in use); "
        "stop whatever holds it or set APP_PORT to a free port."
    )
