"""`make run`: start the database, migrate, seed, then the UI, the API and the jobs together."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app.sign_in_setup import invalid_setting, prepare_ui_secrets, refusal
from core.embedded import start_embedded, to_sqlalchemy_url
from core.settings import ROOT, Settings, get_settings


class StartupError(Exception):
    """A configuration problem explained in one sentence."""


def check_port_free(port: int, host: str, what: str, variable: str) -> None:
    """Fail with one sentence when `port` is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"Port {port} for the {what} is already in use ({exc.strerror}); "
                f"stop whatever holds it or set {variable} to a free port."
            ) from exc


def check_database(url: str) -> None:
    """Fail with one sentence when the database cannot be reached."""
    parsed = make_url(url)
    libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        where = f"{parsed.host or 'local socket'}:{parsed.port or 5432}/{parsed.database}"
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StartupError(
            f"Cannot reach the database at {where} named by DATABASE_URL ({reason})."
        ) from exc


def prepare_database(settings) -> tuple[object | None, str]:
    """Return (embedded server or None, SQLAlchemy URL) of a reachable, migrated database."""
    server = None
    if settings.database_url:
        url = to_sqlalchemy_url(settings.database_url)
    else:
        print(f"Starting the embedded PostgreSQL in {settings.data_dir} …", flush=True)
        server, url = start_embedded(settings.data_dir)
    check_database(url)
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")
    return server, url


def seed_and_key(url: str, settings) -> str:
    """Seed demo data into an empty database and return a demo API key."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from core.accounts.models import ApiKey
    from core.accounts.service import create_api_key, hash_key
    from data.demo import seed_if_empty

    engine = create_engine(url)
    with engine.begin() as conn:
        if seed_if_empty(conn, customers=settings.demo_customers, seed=settings.demo_seed):
            print(f"Seeded demo data ({settings.demo_customers} customers).", flush=True)
    key_file = Path(settings.data_dir) / "demo_api_key"
    with Session(engine) as session, session.begin():
        token = key_file.read_text().strip() if key_file.exists() else ""
        known = token and session.scalar(
            select(ApiKey.id).where(ApiKey.key_hash == hash_key(token))
        )
        if not known:
            _, token = create_api_key(session=session, name="demo", role="admin")
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(token + "\n")
            key_file.chmod(0o600)
    engine.dispose()
    return token


def load_settings() -> Settings:
    """Return the settings, or StartupError naming the first setting that is not valid."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise StartupError(invalid_setting(exc)) from exc


def check_sign_in(settings: Settings) -> None:
    """Fail with one sentence when the UI's sign-in does not fit where it would listen."""
    if problem := refusal(settings, settings.bind_host):
        raise StartupError(problem)


def ui_command(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    """Return the `streamlit run` command of the web UI (`extra`: more flags, e.g. secrets)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app/main.py",
        "--server.port",
        str(settings.app_port),
        "--server.address",
        settings.bind_host,
        "--server.headless",
        "true",
        *extra,
    ]


def start_processes(url: str, settings) -> dict[str, subprocess.Popen]:
    """Start UI, API and jobs as child processes sharing DATABASE_URL."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    py = sys.executable
    host = settings.bind_host
    commands = {
        "ui": ui_command(settings, prepare_ui_secrets(settings, ROOT)),
        "api": [
            py,
            "-m",
            "uvicorn",
            "app.api:app",
            "--host",
            host,
            "--port",
            str(settings.api_port),
            "--workers",
            str(settings.api_workers),
            "--log-level",
            "warning",
        ],
        "jobs": [py, "-m", "jobs"],
    }
    return {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}


def sign_in_summary(settings: Settings) -> str:
    """Say in a few words how people sign in to the UI."""
    if settings.auth_mode == "oidc":
        provider = urlsplit(settings.oidc_server_metadata_url or "").netloc
        return f"single sign-on through {provider or 'the identity provider'}"
    return "demo (pick any seeded user; local use only)"


def stop_processes(procs: dict[str, subprocess.Popen]) -> None:
    """Ask every child to stop, then insist after a grace period."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    """Bring everything up and keep it running until Ctrl-C."""
    server = None
    try:
        # Sign-in is checked first: a refused start never touches ports or the database.
        settings = load_settings()
        check_sign_in(settings)
        check_port_free(settings.app_port, settings.bind_host, "web UI", "APP_PORT")
        check_port_free(settings.api_port, settings.bind_host, "API", "API_PORT")
        server, url = prepare_database(settings)
        token = seed_and_key(url, settings)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1

    procs = start_processes(url, settings)
    shown = "localhost" if settings.bind_host in ("127.0.0.1", "0.0.0.0") else settings.bind_host
    print(
        f"\nOutcomes is running.\n"
        f"  UI    http://{shown}:{settings.app_port}\n"
        f"  API   http://{shown}:{settings.api_port}  (docs at /docs, health at /health)\n"
        f"  Sign-in: {sign_in_summary(settings)}\n"
        f"  Demo API key: {token}\n"
        f"Press Ctrl-C to stop.\n",
        flush=True,
    )
    stopping = {"now": False}

    def on_signal(signum, _frame):
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    exit_code = 0
    while not stopping["now"]:
        dead = [name for name, proc in procs.items() if proc.poll() is not None]
        if dead:
            print(f"The {dead[0]} process stopped unexpectedly; shutting down.", file=sys.stderr)
            exit_code = 1
            break
        time.sleep(0.5)
    print("Stopping …", flush=True)
    stop_processes(procs)
    if server is not None:
        server.cleanup()
    print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
