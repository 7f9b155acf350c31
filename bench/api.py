"""API requests per second and latency: one client, then many, on the API as `make run` serves it.

The API runs as its own uvicorn process with `API_WORKERS` workers (the `make run` command
line), on a scratch database seeded with a small demo; the clients are asyncio tasks in this
process, so the server's workers are not slowed by the clients' threads. Each client keeps one
connection open and writes its request as fixed bytes (`_Connection`): a general HTTP client
costs about 1.5 ms of CPU per request, so 20 of them filled a core of this process and their own
queueing, not the API, made the tail latency. Two routes: `/api/me`
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
    "before: 20 clients on /api/me 629 req/s, p95 92 ms, measured through a general HTTP client "
    "that kept a core of the measuring process busy (1.5 ms of its CPU per request) while each "
    "API worker's pool of five opened and closed a database connection on most requests; "
    "earlier 195 req/s, p95 299-367 ms, cpu per request api 2.8-2.9 ms, "
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


class _Connection:
    """One kept-open HTTP/1.1 connection sending the same GET again and again."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes):
        self.reader, self.writer, self.request = reader, writer, request

    @classmethod
    async def open(cls, base: str, headers: dict, route: str) -> "_Connection":
        url = httpx.URL(base)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"GET {route} HTTP/1.1", f"Host: {url.host}:{url.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return cls(reader, writer, ("\r\n".join(lines) + "\r\n\r\n").encode())

    async def get(self) -> int:
        """Send the request, read the whole answer and return its status code."""
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        length = next(
            (int(f.split(":", 1)[1]) for f in fields if f.lower().startswith("content-length:")),
            None,
        )
        if length is None:  # every route measured here answers with a length
            raise RuntimeError(f"no Content-Length in the answer to {self.request[:60]!r}")
        await self.reader.readexactly(length)
        return int(status_line.split(" ", 2)[1])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def _load(base: str, headers: dict, route: str, clients: int, seconds: float):
    """Return (requests, elapsed seconds, latencies, non-200 answers) for `clients` loops."""
    latencies: list[float] = []
    errors: list[int] = []
    connections: list[_Connection] = []
    try:
        for _ in range(clients):
            connections.append(await _Connection.open(base, headers, route))
        for connection in connections:  # warm every worker's pool and caches
            await connection.get()
        until = time.perf_counter() + seconds

        async def loop(connection: _Connection):
            while time.perf_counter() < until:
                started = time.perf_counter()
                status = await connection.get()
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(status)

        started = time.perf_counter()
        await asyncio.gather(*(loop(c) for c in connections))
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
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
