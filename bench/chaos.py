"""Chaos: kill outbox workers at random points while the fake Slack and Google misbehave.

Worker processes (`python -m bench.chaos --worker`: the jobs registry running the `outbox` job in
a loop, as the scheduler does, with a short lease) deliver Slack messages, Slack DMs and Gmail
emails to the local fakes (127.0.0.1 only). The fakes answer a share of the calls with a 500, a
429, a slow answer, or do the work and never answer (the reply lost to a timeout). Meanwhile
workers are killed with SIGKILL at random moments (a bounded number of times) and restarted;
then they run until every row is sent or the time bound is reached. The figures count, per row,
what reached the fakes: each row must arrive exactly once.

Time is fast-forwarded: failed rows are made due again at once instead of waiting out their
backoff (30 s and more), which the worker tests cover.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.scratch import scratch_database
from core.db import to_sqlalchemy_url
from core.outbox import service
from core.outbox.models import Channel
from jobs import outbox as _registers_the_outbox_job  # noqa: F401
from jobs import registry
from tests.fakes.google import FakeGoogle
from tests.fakes.slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
SLACK_FAULTS = [
    "chat.postMessage",
    "conversations.history",
    "conversations.list",
    "conversations.open",
    "users.lookupByEmail",
]
GOOGLE_FAULTS = ["token", "drafts.create", "drafts.send"]
DM_EMAIL = "casey@example.com"
DM_USER = "U0CASEY"


@dataclass
class Figures:
    """What one chaos run did and what reached the fakes."""

    rows: int
    kills: int = 0
    delivered_once: int = 0
    duplicates: int = 0  # extra copies at the fakes, over all rows
    missing: int = 0  # rows that never reached a fake
    dead: int = 0
    unfinished: int = 0  # rows neither sent nor dead when the time bound was reached
    abandoned_runs: int = 0
    seconds: float = 0.0
    faults: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """Return the report lines `make bench` / `make chaos` print."""
        faults = ", ".join(f"{n} {kind}" for kind, n in sorted(self.faults.items())) or "none"
        return [
            f"chaos   {self.rows} rows, {self.kills} worker kills, faults injected: {faults}",
            f"chaos   delivered exactly once: {self.delivered_once}/{self.rows}; duplicates "
            f"{self.duplicates}; missing {self.missing}; dead letters {self.dead}; unfinished "
            f"{self.unfinished}; {self.seconds:.1f}s; job runs closed as abandoned: "
            f"{self.abandoned_runs}",
        ]


def tag(i: int) -> str:
    """The text that identifies row `i` wherever it arrives."""
    return f"[chaos {i:05d}]"


def enqueue(engine, rows: int) -> None:
    """Write `rows` deliveries: a third each Slack message, Slack DM and Gmail email."""
    channels = [Channel.SLACK_MESSAGE, Channel.SLACK_DM, Channel.GMAIL]
    with engine.begin() as conn:
        session = Session(bind=conn)
        for i in range(rows):
            channel = channels[i % 3]
            if channel is Channel.SLACK_MESSAGE:
                payload = {"text": f"{tag(i)} Acme reached its goal", "blocks": []}
            elif channel is Channel.SLACK_DM:
                payload = {"email": DM_EMAIL, "text": f"{tag(i)} please review", "blocks": []}
            else:
                payload = {
                    "sender": "casey@outcomes.example",
                    "to": ["ops@acme.example"],
                    "subject": f"{tag(i)} Congratulations",
                    "text": "Well done.",
                }
            service.enqueue(
                session=session,
                channel=channel,
                payload=payload,
                idempotency_key=f"chaos-{i}",
                max_attempts=1000,  # kills and faults cost attempts; dead letters are not the point
            )
        session.flush()


def worker_env(url: str, slack, google) -> dict[str, str]:
    """The environment of a worker process pointed at the database and the fakes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_API_BASE_URL": slack.api_url,
            "SLACK_WINS_CHANNEL": "#wins",
            "GOOGLE_SERVICE_ACCOUNT_FILE": str(google.service_account_file),
            "GOOGLE_API_BASE_URL": google.base_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _spawn(env: dict[str, str], lease: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.chaos", "--worker", "--lease", str(lease)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.stdout.readline()  # "ready": imports done, the first run starts now
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdout.close()


def run_chaos(
    *,
    url: str,
    slack,
    google,
    rows: int = 60,
    kills: int = 5,
    workers: int = 2,
    seed: int = 7,
    fault_rate: float = 0.3,
    lease: float = 3.0,
    bound: float = 120.0,
) -> Figures:
    """Deliver `rows` rows through killed and restarted workers; return what reached the fakes.

    `slack` and `google` are running fakes (tests.fakes); Google's needs `service_account_file`
    and Slack's must know `DM_EMAIL` as `DM_USER`.
    """
    engine = create_engine(to_sqlalchemy_url(url))
    enqueue(engine, rows)
    slack.random_faults(SLACK_FAULTS, rng=random.Random(seed), rate=fault_rate)
    google.random_faults(GOOGLE_FAULTS, rng=random.Random(seed + 1), rate=fault_rate)
    env = worker_env(url, slack, google)
    rng = random.Random(seed + 2)
    figures = Figures(rows=rows)
    started = time.monotonic()
    procs = [_spawn(env, lease) for _ in range(workers)]
    try:
        while time.monotonic() - started < bound:
            with engine.begin() as conn:  # fast-forward the backoff
                conn.execute(
                    text(
                        "UPDATE outbox_deliveries SET next_attempt_at = now() "
                        "WHERE status = 'failed'"
                    )
                )
                open_rows = conn.scalar(
                    text(
                        "SELECT count(*) FROM outbox_deliveries "
                        "WHERE status NOT IN ('sent', 'dead')"
                    )
                )
            if figures.kills < kills:
                time.sleep(rng.uniform(0.05, 1.0))
                victim = rng.randrange(workers)
                _stop(procs[victim])
                figures.kills += 1
                procs[victim] = _spawn(env, lease)
            elif not open_rows:
                break
            else:
                time.sleep(0.2)
    finally:
        for proc in procs:
            _stop(proc)
    figures.seconds = time.monotonic() - started
    _count(figures, engine, slack, google)
    engine.dispose()
    return figures


def _count(figures: Figures, engine, slack, google) -> None:
    arrived: Counter[str] = Counter()
    for message in list(slack.messages):
        arrived[str(message.get("text") or "")[: len(tag(0))]] += 1
    for mail in list(google.sent):
        arrived[mail["subject"][: len(tag(0))]] += 1
    for i in range(figures.rows):
        copies = arrived.get(tag(i), 0)
        figures.delivered_once += copies == 1
        figures.duplicates += max(0, copies - 1)
        figures.missing += copies == 0
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(text("SELECT status, count(*) FROM outbox_deliveries GROUP BY status"))
            .tuples()
            .all()
        )
        figures.abandoned_runs = conn.scalar(
            text("SELECT count(*) FROM job_runs WHERE status = 'abandoned'")
        )
    figures.dead = statuses.get("dead", 0)
    figures.unfinished = sum(n for s, n in statuses.items() if s not in ("sent", "dead"))
    figures.faults = slack.faults + google.faults


def run(rows: int = 300, kills: int = 12) -> list[str]:
    """`make bench` / `make chaos`: a chaos run on a scratch database; return report lines."""
    with (
        FakeSlack(users={DM_EMAIL: DM_USER}) as slack,
        FakeGoogle() as google,
        scratch_database() as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        google.service_account_file = google.write_service_account(Path(tmp))
        figures = run_chaos(url=url, slack=slack, google=google, rows=rows, kills=kills, bound=300)
    return figures.lines()


def worker(lease: float) -> None:
    """Run the `outbox` job in a loop through the registry, as the scheduler does, until killed."""
    service.LEASE_SECONDS = lease
    registry.RUN_LEASE_SECONDS = lease
    print("ready", flush=True)
    while True:
        registry.run_job("outbox")
        time.sleep(0.02)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--worker", action="store_true", help="run one worker until killed")
    parser.add_argument("--lease", type=float, default=3.0)
    args = parser.parse_args()
    if args.worker:
        worker(args.lease)
    else:
        print("\n".join(run()))
