"""Outbox deliveries per second against the local fake Slack."""

import threading
import time

from core.db import session_scope
from core.integrations import dispatch
from core.outbox import service
from core.outbox.worker import deliver_due
from jobs.outbox import SENT_HANDLERS
from tests.fakes.slack import FakeSlack


def _enqueue(n: int, prefix: str) -> None:
    with session_scope() as session:
        for i in range(n):
            service.enqueue(
                session=session,
                channel="slack_message",
                payload={"text": f"Win {i}: Acme reached its goal", "blocks": []},
                idempotency_key=f"{prefix}-{i}",
            )


def run(deliveries: int = 2000) -> list[str]:
    """Deliver `deliveries` Slack messages with one worker, then with two; return report lines."""
    from bench.scratch import scratch_database

    lines = []
    with FakeSlack() as slack:
        env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_BASE_URL": slack.api_url}
        with scratch_database(env):
            dispatch.clear_cache()
            for workers in (1, 2):
                _enqueue(deliveries, f"w{workers}")
                before = len(slack.messages)
                started = time.perf_counter()
                threads = [
                    threading.Thread(target=deliver_due, kwargs={"on_sent": SENT_HANDLERS})
                    for _ in range(workers)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                elapsed = time.perf_counter() - started
                sent = len(slack.messages) - before
                lines.append(
                    f"outbox  {workers} worker(s): {sent} Slack deliveries in {elapsed:.2f}s "
                    f"= {sent / elapsed:,.0f}/s"
                )
            dispatch.clear_cache()
    return lines
