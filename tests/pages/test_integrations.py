"""The Integrations page: configuration state, the queue, and retrying a dead letter."""

from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from core.base import Role
from core.db import session_scope
from core.outbox import service
from core.outbox.models import Delivery, DeliveryStatus
from tests import factories as f
from tests.pages import apptest


def _admin_with_queue():
    with session_scope() as session:
        admin = f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")
        for key in ("ok", "dead"):
            service.enqueue(
                session=session,
                channel="slack_message",
                payload={"text": key},
                idempotency_key=key,
            )
        session.flush()
        claimed = {d.idempotency_key: d for d in service.claim(session=session, worker="t")}
        service.mark_sent(session=session, delivery=claimed["ok"], external_ref="ts-1", on_sent={})
        service.mark_permanent(
            session=session, delivery=claimed["dead"], error="channel_not_found: no such channel"
        )
        return admin.id


def _open(admin_id) -> AppTest:
    return apptest.open_page(admin_id, "../pages/integrations.py")


def test_empty_queue_guides(scratch_db):
    with session_scope() as session:
        admin = f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")
        session.flush()
        admin_id = admin.id
    at = _open(admin_id)
    assert any("Nothing has been queued yet" in str(i.value) for i in at.info)
    assert any("Not configured" in str(m.value) for m in at.markdown)


def test_dead_letter_is_shown_and_retried(scratch_db):
    at = _open(_admin_with_queue())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dead letters"] == "1" and metrics["Sent"] == "1"
    table = at.dataframe[0].value
    assert list(table["Last error"]) == ["channel_not_found: no such channel"]

    at.checkbox[0].check()
    at.button(key="FormSubmitter:retry-Retry now").click().run()
    assert not at.exception
    with session_scope() as session:
        dead = session.scalar(select(Delivery).where(Delivery.idempotency_key == "dead"))
    assert dead.status == DeliveryStatus.PENDING and dead.attempts == 0


def test_retry_without_a_choice_says_what_to_do(scratch_db):
    at = _open(_admin_with_queue())
    at.button(key="FormSubmitter:retry-Retry now").click().run()
    assert any("Choose at least one delivery" in str(w.value) for w in at.warning)


def test_counts_say_what_is_listed_of_what_exists(scratch_db):
    with session_scope() as session:
        admin = f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")
        for n in range(205):
            service.enqueue(
                session=session, channel="slack_message", payload={}, idempotency_key=f"k{n}"
            )
        session.flush()
        session.execute(update(Delivery).values(status=DeliveryStatus.DEAD))
        admin_id = admin.id
    at = _open(admin_id)
    assert len(at.dataframe[0].value) == 200
    captions = " ".join(c.value for c in at.caption)
    assert "The latest 200 of 205 deliveries that need attention" in captions
    (everything,) = at.checkbox
    assert everything.label == "All 200 listed above (of 205 that need attention)"
    assert "the other 5 appear here" in everything.help
