"""API requests per second and latency with many clients on one key, on a local uvicorn."""

import socket
import statistics
import threading
import time

import httpx
import uvicorn

from app.api import app
from core.accounts.service import create_api_key
from core.db import session_scope

ROUTE = "/api/me"  # authenticates and reads the key: the work every route starts with
BEFORE = "before keys noted their use outside the request: 44 req/s, p95 1.1 s"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(base: str, token: str, until: float, latencies: list[float], errors: list[int]):
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.perf_counter() < until:
            started = time.perf_counter()
            status = client.get(ROUTE).status_code
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)


def run(clients: int = 20, seconds: float = 5.0) -> list[str]:
    """Hit one key from `clients` threads for `seconds`; return the report line."""
    from bench.scratch import scratch_database

    with scratch_database():
        with session_scope() as session:
            _, token = create_api_key(session=session, name="bench", role="sales")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        httpx.get(f"{base}{ROUTE}", headers={"Authorization": f"Bearer {token}"})  # warm up
        latencies: list[float] = []
        errors: list[int] = []
        until = time.perf_counter() + seconds
        threads = [
            threading.Thread(target=_client, args=(base, token, until, latencies, errors))
            for _ in range(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        server.should_exit = True
        serving.join()
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    failed = f", {len(errors)} non-200 answers" if errors else ""
    return [
        f"api  {clients} clients on one key, GET {ROUTE}: {len(latencies):,} requests in "
        f"{elapsed:.1f}s = {len(latencies) / elapsed:,.0f} req/s, p50 {p50 * 1000:,.0f} ms, "
        f"p95 {p95 * 1000:,.0f} ms{failed} ({BEFORE})"
    ]
