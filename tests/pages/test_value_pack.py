"""The customer page's value pack: audience, preview, downloads and the Google Doc's state."""

import pytest
from sqlalchemy import func, select

from components import value_pack
from core.accounts.models import User
from core.audit.models import AuditEntry
from core.base import Consent, Direction, Role
from core.db import session_scope
from core.outbox.models import Delivery, DeliveryStatus
from core.reporting.value_pack_schemas import PackAudience, PackFormat
from core.repository.models import RepositoryEntry
from tests import factories as f
from tests.core.reporting.test_value_pack import _win
from tests.factories import actor
from tests.pages import apptest
from tests.pages.visible_text import problems, visible_text

PAGE = "../pages/customers.py"
DOC = "Create Google Doc"


@pytest.fixture
def lakewater(scratch_db):
    """A customer without naming consent with two wins (one without a baseline)."""
    with session_scope() as session:
        csm = f.csm(session, email="casey@outcomes.example")
        sales = f.user(session, Role.SALES, "Sam Sales", email="sam@outcomes.example")
        cust = f.customer(
            session, name="Lakewater Logistics", owner=csm, consent=Consent.INTERNAL_ONLY
        )
        _win(
            session,
            cust,
            name="Lakewater Logistics resolves tickets faster",
            key="resolution_hours",
            direction=Direction.LOWER,
            baseline=10,
            achieved=6,
            target=8,
            unit="hours",
            metric_name="Resolution time",
        )
        _win(
            session,
            cust,
            name="Reach 500 weekly users",
            key="weekly_users",
            direction=Direction.HIGHER,
            baseline=None,
            achieved=520,
            target=500,
            unit="users",
        )
        return {"csm": csm.id, "sales": sales.id, "customer": str(cust.id)}


def _open(ids, who):
    at = apptest.open_page(ids[who], PAGE, customer=ids["customer"])
    at.button_group(key="section").set_value("value-pack").run()
    assert not at.exception, at.exception
    return at


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _docs() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Delivery.related_type == "value_pack"))


def test_a_csm_previews_the_internal_pack_and_asks_for_one_google_doc(lakewater):
    at = _open(lakewater, "csm")
    audience = at.radio(key=f"value_pack_audience_{lakewater['customer']}")
    assert [str(o) for o in audience.options] == ["Internal (our team)", "Share with the customer"]
    assert _metric(at, "Verified wins") == "2"
    assert _metric(at, "Measured against a baseline") == "1 of 2"
    shown = visible_text(at)
    assert "2 verified wins since" in shown
    assert problems(at) == []
    [doc] = [b for b in at.button if b.label == DOC]
    doc.click().run()
    assert not at.exception, at.exception
    assert any("Google Doc: Queued" in i.value for i in at.info)
    [doc] = [b for b in at.button if b.label == DOC]
    doc.click().run()  # a second click makes no second document
    assert _docs() == 1
    with session_scope() as session:
        row = session.scalar(select(Delivery).where(Delivery.related_type == "value_pack"))
        assert row.payload["title"].startswith("Value pack — Lakewater Logistics")
        row.status = DeliveryStatus.NOT_CONFIGURED
    at.run()
    assert any("Google Docs is not set up yet" in i.value for i in at.info)


def test_the_pack_to_share_describes_a_customer_without_naming_consent(lakewater):
    at = _open(lakewater, "csm")
    at.radio(key=f"value_pack_audience_{lakewater['customer']}").set_value("customer").run()
    assert not at.exception, at.exception
    assert "describes the customer as “A mid-market logistics company”" in apptest.texts(at)


def test_sales_get_only_the_pack_to_share(lakewater):
    at = _open(lakewater, "sales")
    audience = at.radio(key=f"value_pack_audience_{lakewater['customer']}")
    assert [str(o) for o in audience.options] == ["Share with the customer"]
    assert "Lakewater" not in visible_text(at)
    assert problems(at) == []
    [doc] = [b for b in at.button if b.label == DOC]
    doc.click().run()
    assert not at.error, [e.value for e in at.error]
    with session_scope() as session:
        title = session.scalar(
            select(Delivery.payload["title"].astext).where(Delivery.related_type == "value_pack")
        )
    assert "Lakewater" not in title


def test_a_download_is_the_file_and_counts_the_wins_use_once(lakewater):
    with session_scope() as session:
        csm = actor(session.get(User, lakewater["csm"]))
    pack = value_pack.load_pack(lakewater["customer"], Role.CSM, PackAudience.INTERNAL)
    first = value_pack._downloaded(pack, PackFormat.PDF, csm, "renewal")
    again = value_pack._downloaded(pack, PackFormat.MARKDOWN, csm, "renewal")
    assert first.startswith(b"%PDF-")
    assert "Lakewater Logistics resolves tickets faster" in again.decode()
    assert value_pack.file_name(pack, PackFormat.PDF) == (
        f"value-pack-lakewater-logistics-{pack.prepared_on.isoformat()}-internal.pdf"
    )
    with session_scope() as session:
        counts = session.scalars(select(RepositoryEntry.usage_count)).all()
        [use] = session.scalars(select(AuditEntry).where(AuditEntry.action == "value_pack.use"))
    assert counts == [1, 1]
    assert (use.actor, use.changes["via"], use.changes["purpose"]) == (
        "casey@outcomes.example",
        "download:pdf",
        "renewal",
    )
