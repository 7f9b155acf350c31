"""API requests per second and latency: one client, then many, on the API as `make run` serves it.

The API runs as its own uvicorn process with `API_WORKERS` workers (the `make run` command
line), on a scratch database seeded with a small demo; the clients are asyncio tasks in this
process, so the server's workers are not slowed by the clients' threads. Two routes: `/api/me`
(authentication and the key's read: the least every route does) and a page of the wins list
(`/api/goals/achievements?limit=20`, a real read: filters, paging and the PRD's shape).

Beside wall times, each line gives the CPU the API processes and the database server spent per
request, which a shared machine's load changes far less than it changes wall times.
"""

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, text

from core.accounts.service import create_api_key
from core.db import session_scope

ROOT = Path(__file__).resolve().parent.parent
ROUTES = ("/api/me", "/api/goals/achievements?limit=20")
TARGET = "target: ≥ 400 req/s with 20 clients, p95 ≤ 50 ms, 0 errors"
BEFORE = (
    "before: 20 clients on /api/me 195 req/s, p95 299-367 ms, cpu per request api 2.8-2.9 ms, "
    "db 1.0-1.3 ms (load average 7-11; the key read in a transaction of its own, then again for "
    "the answer, and eight threadpool hops); earlier 44 req/s, p95 1.1 s (one worker, keys "
    "locked on last use)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(url: str, port: int, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "app.api:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def _ready(base: str, headers: dict, server: subprocess.Popen) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError("the API process stopped while starting")
            try:
                if (await client.get(ROUTES[0])).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not answer within a minute")


async def _load(base: str, headers: dict, route: str, clients: int, seconds: float):
    """Return (requests, elapsed seconds, latencies, non-200 answers) for `clients` loops."""
    latencies: list[float] = []
    errors: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        for _ in range(3):  # warm every worker's pool and caches
            await client.get(route)
        until = time.perf_counter() + seconds

        async def loop():
            while time.perf_counter() < until:
                started = time.perf_counter()
                status = (await client.get(route)).status_code
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(status)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies), elapsed, latencies, errors


def _tree_cpu(pid: int) -> float:
    """Return the CPU seconds of a process, its live descendants and the children it reaped."""
    proc = psutil.Process(pid)
    total = sum(proc.cpu_times()[:4])  # user, system, and the reaped children's user, system
    for child in proc.children():
        # A child that exited meanwhile has its time in its parent's reaped children's.
        with contextlib.suppress(psutil.NoSuchProcess):
            total += _tree_cpu(child.pid)
    return total


def _postmaster(url: str) -> int:
    """Return the process id of the database server that serves `url`."""
    engine = create_engine(url)
    with engine.connect() as conn:  # asked while the backend lives: it exits with the connection
        server = psutil.Process(conn.scalar(text("SELECT pg_backend_pid()"))).ppid()
    engine.dispose()
    return server


def _measured(pids: tuple[int, int], load) -> tuple:
    """Run `load` and return its result followed by the API's and the database's CPU seconds."""
    before = [_tree_cpu(pid) for pid in pids]
    result = asyncio.run(load)
    return *result, *(_tree_cpu(pid) - cpu for pid, cpu in zip(pids, before, strict=True))


def _line(route: str, clients: int, result) -> str:
    count, elapsed, latencies, errors, api_cpu, db_cpu = result
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
    failed = f", {len(errors)} errors" if errors else ", 0 errors"
    return (
        f"api  GET {route}, {clients:>2} client(s): {count / elapsed:7,.0f} req/s, "
        f"p50 {p50:5.1f} ms, p95 {p95:5.1f} ms{failed}; cpu per request: "
        f"api {api_cpu / count * 1000:.2f} ms, db {db_cpu / count * 1000:.2f} ms"
    )


def run(clients: int = 20, seconds: float = 5.0, customers: int = 100) -> list[str]:
    """Measure each route with one client, then `clients`; return the report lines."""
    from bench.scratch import scratch_database
    from core.settings import get_settings
    from data.demo import generate

    workers = get_settings().api_workers
    with scratch_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            generate(conn, customers=customers, seed=7)
        engine.dispose()
        with session_scope() as session:
            _, token = create_api_key(session=session, name="bench", role="leader")
        port = _free_port()
        server = _serve(url, port, workers)
        try:
            base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
            asyncio.run(_ready(base, headers, server))
            pids = (server.pid, _postmaster(url))
            lines = [f"api  {workers} worker process(es), {customers} customers; {TARGET}"]
            for route in ROUTES:
                for n in (1, clients):
                    load = _load(base, headers, route, n, seconds)
                    lines.append(_line(route, n, _measured(pids, load)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return [*lines, f"api  {BEFORE}"]
