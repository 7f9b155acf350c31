"""Reads that stay fast: repository search against an ILIKE scan, and the outcome report's API.

Seeds a small demo, then copies its documented wins (goal, achievement, record, entry) up to
`--entries` repository entries and its measurement plans up to `--plans` plans, in SQL. Prints
search p50/p95 per query beside an ILIKE scan of the same words (what a search without the
stored vectors does), and `GET /api/upsell/outcomes` alone and under 20 clients once the
upsell tracking job has stored its report. `python -m bench reads` runs the default scale;
`python -m bench.reads --entries 100000` a larger one.
"""

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.api import app
from bench.scratch import scratch_database
from core.accounts.service import create_api_key
from core.repository.queries import search_entries
from core.upsell import outcome_report
from data.demo import generate

REFERENCE = (
    "reference: search p95 ≤ 30 ms at 100,000 entries and ≥ 20× faster than an ILIKE scan; "
    "GET /api/upsell/outcomes ≤ 100 ms at 20,000 plans"
)
BEFORE = (
    "before: search p95 196–229 ms at 103,000 entries (API 354–439 ms); outcomes 1.0–1.3 s "
    "alone, p50 15.6 s under 20 clients at 20,000 plans"
)
SEARCH_BEFORE = (
    "before one statement per search: p95 15–26 ms at 100,048 entries, 12–28× faster than "
    "ILIKE (median 16×); cpu per search at load 6: app 7–16 ms, db 8–22 ms"
)
# Broad words (most entries match), narrower ones, a phrase, a negation, nothing, no query.
QUERIES = ("beyond target", "users", "weekly active users", '"cost savings"', "users -savings")
NARROW = ("zzunmatched",)
REPEATS = 25
# What a copy changes so it stays unique: ids are remapped through md5(id || copy), so copies
# of linked rows stay linked; unique texts get the copy number; dates spread over two years.
WINS = (
    ("goals", {"remap": (), "suffix": ("external_id",)}),
    ("goal_achievements", {"remap": ("goal_id",)}),
    ("success_records", {"remap": ("achievement_id",)}),
    ("value_repository_entries", {"remap": ("achievement_id",), "shift": ("achieved_on",)}),
)
PLANS = (
    ("upsells", {"suffix": ("opportunity_id",)}),
    ("upsell_products", {"remap": ("upsell_id",)}),
    ("upsell_measurements", {"remap": ("upsell_id",)}),
    ("measurement_metrics", {"remap": ("measurement_id",)}),
    ("checkpoints", {"remap": ("measurement_id",)}),
    ("upsell_reviews", {"remap": ("measurement_id", "checkpoint_id")}),
    ("upsell_outcomes", {"remap": ("measurement_id",)}),
    ("plan_milestones", {"remap": ("measurement_id", "metric_id")}),
)


def _copy(conn, table: str, copies: int, remap=(), suffix=(), shift=()) -> None:
    """Insert `copies` copies of every row of `table` (one statement)."""
    names = conn.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position"
        ),
        {"t": table},
    ).scalars()
    columns, values = [], []
    for name in names:
        columns.append(name)
        if name == "id" or name in remap:
            values.append(f"md5({name}::text || ':' || k)::uuid")
        elif name in suffix:
            values.append(f"{name} || '-' || k")
        elif name in shift:
            values.append(f"{name} - (k % 730)")
        else:
            values.append(name)
    conn.execute(
        text(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM {table} CROSS JOIN generate_series(1, {copies}) AS k"
        )
    )


def _grow(engine: Engine, table: str, target: int, tables) -> int:
    """Copy the rows of `tables` until `table` holds about `target` rows; return how many."""
    with engine.begin() as conn:
        have = conn.scalar(text(f"SELECT count(*) FROM {table}"))
        copies = max(0, -(-target // max(have, 1)) - 1)
        if copies:
            for name, how in tables:
                _copy(conn, name, copies, **how)
        conn.execute(text("ANALYZE"))
        return conn.scalar(text(f"SELECT count(*) FROM {table}"))


def _ms(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of `samples` (seconds) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _timed(call, repeats: int = REPEATS) -> list[float]:
    call()  # warm up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


ILIKE = """
SELECT count(*) OVER () AS total, e.id, e.title
  FROM value_repository_entries e JOIN customers c ON c.id = e.customer_id
 WHERE {words}
 ORDER BY e.achieved_on DESC, e.id LIMIT 20
"""


def _ilike(session: Session, q: str) -> None:
    """A search without the stored vectors: every word somewhere in the texts or the name."""
    words = [w.strip('"-') for w in q.split() if w.strip('"-')]
    where = " AND ".join(
        f"(e.title ILIKE :w{i} OR e.snippet ILIKE :w{i} OR c.name ILIKE :w{i})"
        for i in range(len(words))
    )
    params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}
    session.execute(text(ILIKE.format(words=where)), params).all()


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds the database backend has used (None when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _search_lines(engine: Engine, entries: int) -> list[str]:
    lines, ratios = [], []
    with Session(engine) as session:
        for q in (*QUERIES, *NARROW, None):
            page = search_entries(session=session, q=q)
            found = f"{page.total:,}{'+' if page.total_capped else ''}"
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            db, app = _backend_cpu(pid), time.process_time()
            p50, p95 = _ms(_timed(lambda q=q: search_entries(session=session, q=q)))
            # CPU per search (the warm-up included): this process's, and its database backend's.
            app = (time.process_time() - app) * 1000 / (REPEATS + 1)
            db = None if db is None else (_backend_cpu(pid) - db) * 1000 / (REPEATS + 1)
            line = f"reads   search {q or '(no words)'!s:22} {found:>6} matches: p50 {p50:5.1f} ms"
            line += f", p95 {p95:5.1f} ms (cpu app {app:4.1f} ms, db "
            line += f"{'?' if db is None else f'{db:4.1f}'} ms)"
            if q:
                i50, i95 = _ms(_timed(lambda q=q: _ilike(session, q), repeats=5))
                ratios.append(i95 / p95)
                line += f"; ILIKE p50 {i50:6.1f} ms, p95 {i95:6.1f} ms = {i95 / p95:4.0f}× slower"
            lines.append(line)
            session.rollback()
    lines.append(
        f"reads   search at {entries:,} entries: p95 ratio ILIKE ÷ search, lowest "
        f"{min(ratios):.0f}×, median {statistics.median(ratios):.0f}×"
    )
    return lines


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(base, headers, path, until, samples, failures) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while time.perf_counter() < until:
            started = time.perf_counter()
            status = client.get(path).status_code
            samples.append(time.perf_counter() - started)
            if status != 200:
                failures.append(status)


def _api_lines(engine: Engine, plans: int) -> list[str]:
    with Session(engine) as session, session.begin():
        _, token = create_api_key(session=session, name="bench-reads", role="leader")
        started = time.perf_counter()
        outcome_report.refresh(session=session)  # what each upsell_tracking pass does
        stored = time.perf_counter() - started
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.config.port}"
    headers = {"Authorization": f"Bearer {token}"}
    lines = []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for path in ("/api/upsell/outcomes", "/api/value-repository?q=users"):
            p50, p95 = _ms(_timed(lambda path=path: client.get(path).raise_for_status()))
            lines.append(f"reads   GET {path} alone: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    samples, failures = [], []
    until = time.perf_counter() + 5
    clients = [
        threading.Thread(
            target=_client,
            args=(base, headers, "/api/upsell/outcomes", until, samples, failures),
        )
        for _ in range(20)
    ]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    server.should_exit = True
    serving.join()
    p50, p95 = _ms(samples)
    failed = f", {len(failures)} non-200 answers" if failures else ""
    lines.append(
        f"reads   GET /api/upsell/outcomes, 20 clients: {len(samples):,} requests, p50 "
        f"{p50:.0f} ms, p95 {p95:.0f} ms{failed} ({plans:,} plans; the tracking pass stored the "
        f"report in {stored:.1f}s)"
    )
    return lines


SEED = 200  # the demo the copies are made from


def run(
    customers: int | None = None, entries: int | None = None, plans: int | None = None
) -> list[str]:
    """Seed, grow to `entries` repository entries and `plans` plans; return report lines.

    At the scale of `customers`: ten entries and two plans per customer (the issue's 100,000
    entries and 20,000 plans at 10,000 customers); 20,000 of each without it.
    """
    entries = entries or (customers * 10 if customers else 20_000)
    plans = plans or (customers * 2 if customers else 20_000)
    with scratch_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            generate(conn, customers=SEED, seed=7)
        entries = _grow(engine, "value_repository_entries", entries, WINS)
        plans = _grow(engine, "upsell_measurements", plans, PLANS)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        lines = [f"reads   {entries:,} entries, {plans:,} plans; load average {load}"]
        lines += _search_lines(engine, entries)
        lines += _api_lines(engine, plans)
        engine.dispose()
    return [*lines, f"reads   {REFERENCE}", f"reads   {BEFORE}", f"reads   {SEARCH_BEFORE}"]


def main(argv: list[str] | None = None) -> int:
    """Run at the scale the flags name and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000, help="repository entries")
    parser.add_argument("--plans", type=int, default=20_000, help="measurement plans")
    args = parser.parse_args(argv)
    for line in run(entries=args.entries, plans=args.plans):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
