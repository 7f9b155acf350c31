"""Shared browser-test plumbing: a headless Streamlit server and a Chromium page."""

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
PORT_ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listens_on(proc: subprocess.Popen, port: int) -> bool:
    """True when `proc` itself holds the listening socket on `port` (not another server)."""
    import psutil

    try:
        conns = psutil.Process(proc.pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in conns)


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    port = urllib.parse.urlsplit(url).port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                # Another worker's server may answer on a port we lost the race for.
                if response.status == 200 and _listens_on(proc, port):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy in {timeout}s:\n{log.read_text()}")


def _launch(port: int, database_url: str, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app" / "main.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _lost_port_race(proc: subprocess.Popen, log: Path) -> bool:
    """True when streamlit exited because something else bound its port first."""
    return proc.poll() is not None and "is not available" in log.read_text()


@contextmanager
def streamlit_server(database_url: str, log_dir: Path):
    """Run `streamlit run app/main.py` on a free port against `database_url`; yield its URL.

    The port is free when picked but may be taken before streamlit binds it (other xdist
    workers start servers too); streamlit then exits at once and we retry on a new port.
    """
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        log = log_dir / ("server.log" if attempt == 1 else f"server-{attempt}.log")
        proc = _launch(port, database_url, log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, log)
        except BaseException:
            retry = attempt < PORT_ATTEMPTS and _lost_port_race(proc, log)
            _stop(proc)
            if retry:
                continue
            raise
        break
    try:
        yield url
    finally:
        _stop(proc)


@contextmanager
def chromium():
    """Launch Debian's Chromium headless through Playwright."""
    from playwright.sync_api import expect, sync_playwright

    # `expect` waits 5 s by default; with xdist workers sharing the CPUs a Streamlit rerun can
    # take longer, so assertions wait as long as actions do (TIMEOUT_MS).
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(browser):
    """A fresh page that fails the test on any JavaScript error."""
    context = browser.new_context(viewport={"width": 1440, "height": 1400})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def current(scope):
    """Only the elements drawn by the latest run inside `scope`.

    While a rerun is under way Streamlit keeps the previous run's elements on screen (marked
    stale) until the new ones replace them, so a field keyed per record can briefly appear twice.
    """
    return scope.locator("[data-testid='stElementContainer'][data-stale='false']")


def settle(page) -> None:
    """Wait until the page's script run is over (Streamlit's running indicator is gone)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0)
